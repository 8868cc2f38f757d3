#include "support/test_ca.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <utility>

namespace shadowai::test {
namespace {

constexpr long kOneHour = 60 * 60;
constexpr long kOneDay = 24 * kOneHour;

// "what: <first OpenSSL error>", and the rest of the queue dropped so it cannot confuse the next caller.
Error opensslError(const std::string& what) {
  char text[256] = "unknown OpenSSL error";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return makeError(what + ": " + text);
}

Result<EvpPkeyPtr> generateKey() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return opensslError("cannot generate an EC P-256 key");
  return key;
}

Status addExtension(X509* certificate, X509V3_CTX* context, int nid, const std::string& value) {
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, context, nid, value.c_str()));
  if (!extension) return opensslError("cannot build extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  if (X509_add_ext(certificate, extension.get(), -1) != 1) return opensslError("cannot add an extension");
  return {};
}

// A certificate with a random serial, SUBJECT_CN, KEY and validity [now - 1h, now + lifetime].
Result<X509Ptr> newCertificate(const std::string& subjectCn, EVP_PKEY* key, long lifetimeSeconds) {
  X509Ptr certificate(X509_new());
  BignumPtr serial(BN_new());
  if (!certificate || !serial) return opensslError("out of memory");
  if (X509_set_version(certificate.get(), X509_VERSION_3) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -kOneHour) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()), lifetimeSeconds) == nullptr ||
      X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(subjectCn.c_str()), -1, -1, 0) != 1 ||
      X509_set_pubkey(certificate.get(), key) != 1) {
    return opensslError("cannot fill in certificate " + subjectCn);
  }
  return certificate;
}

Status writePem(const std::string& path, X509* certificate, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) return opensslError("cannot create " + path);
  const bool written = certificate != nullptr ? PEM_write_bio_X509(bio.get(), certificate) == 1
                                              : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                                         nullptr, nullptr) == 1;
  if (!written) return opensslError("cannot write " + path);
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

  auto key = generateKey();
  if (!key) return key.error();
  auto certificate = newCertificate("shadowai test CA", key->get(), 7 * kOneDay);
  if (!certificate) return certificate.error();
  X509* x509 = certificate->get();
  if (X509_set_issuer_name(x509, X509_get_subject_name(x509)) != 1) return opensslError("cannot set the CA issuer");
  X509V3_CTX context;
  X509V3_set_ctx(&context, x509, x509, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                                   std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                                   std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto added = addExtension(x509, &context, nid, value); !added) return added.error();
  }
  if (X509_sign(x509, key->get(), EVP_sha256()) == 0) return opensslError("cannot self-sign the test CA");
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

  auto key = generateKey();
  if (!key) return key.error();
  auto certificate = newCertificate(names.empty() ? ips.front() : names.front(), key->get(), kOneDay);
  if (!certificate) return certificate.error();
  X509* x509 = certificate->get();
  if (X509_set_issuer_name(x509, X509_get_subject_name(certificate_.get())) != 1) {
    return opensslError("cannot set the leaf issuer");
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, certificate_.get(), x509, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                                   std::pair{NID_key_usage, std::string("critical,digitalSignature")},
                                   std::pair{NID_ext_key_usage, std::string("serverAuth")},
                                   std::pair{NID_subject_key_identifier, std::string("hash")},
                                   std::pair{NID_authority_key_identifier, std::string("keyid:always")},
                                   std::pair{NID_subject_alt_name, alternativeNames}}) {
    if (auto added = addExtension(x509, &context, nid, value); !added) return added.error();
  }
  if (X509_sign(x509, key_.get(), EVP_sha256()) == 0) return opensslError("cannot sign the leaf");

  const std::string stem = directory_ + "/leaf-" + std::to_string(++leafCount_);
  LeafFiles files{stem + ".pem", stem + "-key.pem"};
  if (auto written = writePem(files.certPath, x509, nullptr); !written) return written.error();
  if (auto written = writePem(files.keyPath, nullptr, key->get()); !written) return written.error();
  return files;
}

}  // namespace shadowai::test
