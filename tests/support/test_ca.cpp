#include "support/test_ca.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <utility>

#include "tls/certificate_builder.h"
#include "tls/openssl_error.h"

namespace shadowai::test {
namespace {

constexpr auto kOneHour = std::chrono::hours(1);
constexpr auto kOneDay = std::chrono::hours(24);

// A certificate (tls/certificate_builder.h) for SUBJECT_CN holding KEY, valid from an hour ago (clock
// skew between the steps of a test does not matter) for LIFETIME.
Result<X509Ptr> newTestCertificate(const std::string& subjectCn, EVP_PKEY* key, std::chrono::hours lifetime) {
  auto certificate = newCertificate();
  if (!certificate) return certificate.error();
  X509* x509 = certificate->get();
  const auto now = std::chrono::system_clock::now();
  if (auto valid = setValidity(x509, now - kOneHour, now + lifetime); !valid) return valid.error();
  if (X509_NAME_add_entry_by_txt(X509_get_subject_name(x509), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(subjectCn.c_str()), -1, -1, 0) != 1 ||
      X509_set_pubkey(x509, key) != 1) {
    return openSslError("cannot fill in certificate " + subjectCn);
  }
  return certificate;
}

Status writePem(const std::string& path, X509* certificate, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) return openSslError("cannot create " + path);
  const bool written = certificate != nullptr ? PEM_write_bio_X509(bio.get(), certificate) == 1
                                              : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                                         nullptr, nullptr) == 1;
  if (!written) return openSslError("cannot write " + path);
  return {};
}

}  // namespace

Result<TestCa> TestCa::create() {
  auto dir = TempDir::create("shadowai-ca");
  if (!dir) return dir.error();
  auto owned = std::make_unique<TempDir>(std::move(dir).value());
  std::string path = owned->path();
  return createIn(std::move(path), std::move(owned));
}

Result<TestCa> TestCa::create(const std::string& directory) { return createIn(directory, nullptr); }

Result<TestCa> TestCa::createIn(std::string directory, std::unique_ptr<TempDir> owned) {
  TestCa ca;
  ca.ownedDir_ = std::move(owned);
  ca.directory_ = std::move(directory);
  ca.certPath_ = ca.directory_ + "/ca.pem";
  ca.keyPath_ = ca.directory_ + "/ca-key.pem";

  auto key = generateP256Key();
  if (!key) return key.error();
  auto certificate = newTestCertificate("shadowai test CA", key->get(), 7 * kOneDay);
  if (!certificate) return certificate.error();
  X509* x509 = certificate->get();
  if (X509_set_issuer_name(x509, X509_get_subject_name(x509)) != 1) return openSslError("cannot set the CA issuer");
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                                   std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                                   std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto added = addExtension(x509, x509, nid, value); !added) return added.error();
  }
  if (auto signature = signCertificate(x509, key->get()); !signature) return signature.error();
  if (auto written = writePem(ca.certPath_, x509, nullptr); !written) return written.error();
  if (auto written = writePem(ca.keyPath_, nullptr, key->get()); !written) return written.error();
  ca.key_ = std::move(key).value();
  ca.certificate_ = std::move(certificate).value();
  return ca;
}

Result<LeafFiles> TestCa::issueLeaf(const std::vector<std::string>& names, const std::vector<std::string>& ips) {
  if (names.empty() && ips.empty()) return makeError("a leaf certificate needs at least one name or IP");
  std::string alternativeNames;
  for (const auto& name : names) alternativeNames += (alternativeNames.empty() ? "DNS:" : ",DNS:") + name;
  for (const auto& ip : ips) alternativeNames += (alternativeNames.empty() ? "IP:" : ",IP:") + ip;

  auto key = generateP256Key();
  if (!key) return key.error();
  auto certificate = newTestCertificate(names.empty() ? ips.front() : names.front(), key->get(), kOneDay);
  if (!certificate) return certificate.error();
  X509* x509 = certificate->get();
  if (X509_set_issuer_name(x509, X509_get_subject_name(certificate_.get())) != 1) {
    return openSslError("cannot set the leaf issuer");
  }
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                                   std::pair{NID_key_usage, std::string("critical,digitalSignature")},
                                   std::pair{NID_ext_key_usage, std::string("serverAuth")},
                                   std::pair{NID_subject_key_identifier, std::string("hash")},
                                   std::pair{NID_authority_key_identifier, std::string("keyid:always")},
                                   std::pair{NID_subject_alt_name, alternativeNames}}) {
    if (auto added = addExtension(x509, certificate_.get(), nid, value); !added) return added.error();
  }
  if (auto signature = signCertificate(x509, key_.get()); !signature) return signature.error();

  const std::string stem = directory_ + "/leaf-" + std::to_string(++leafCount_);
  LeafFiles files{stem + ".pem", stem + "-key.pem"};
  if (auto written = writePem(files.certPath, x509, nullptr); !written) return written.error();
  if (auto written = writePem(files.keyPath, nullptr, key->get()); !written) return written.error();
  return files;
}

}  // namespace shadowai::test
