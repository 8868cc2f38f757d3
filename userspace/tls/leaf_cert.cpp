#include "tls/leaf_cert.h"

#include <openssl/err.h>

#include "tls/certificate_builder.h"
#include "tls/openssl_error.h"

namespace shadowai {
namespace {

using namespace std::chrono_literals;

// Clock skew between this host and a container or VM guest must not make a fresh leaf "not yet valid".
constexpr auto kBackdate = 1h;

// The CA's notAfter as a time_point, so the leaf's can be capped by it.
Result<std::chrono::system_clock::time_point> notAfterOf(X509* certificate) {
  struct tm when {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &when) != 1) {
    return openSslError("cannot read the CA certificate's notAfter");
  }
  return std::chrono::system_clock::from_time_t(::timegm(&when));
}

}  // namespace

Status LeafCert::applyTo(SSL* ssl) const {
  if (SSL_use_certificate(ssl, certificate.get()) != 1) return openSslError("cannot use the leaf certificate");
  if (SSL_use_PrivateKey(ssl, key.get()) != 1) return openSslError("cannot use the leaf key");
  for (const X509Ptr& link : chain) {
    if (SSL_add1_chain_cert(ssl, link.get()) != 1) return openSslError("cannot add the CA to the chain");
  }
  return {};
}

Result<LeafCert> mintLeafCert(const LocalCa& ca, EVP_PKEY* leafKey, const CertificateName& name,
                              std::chrono::system_clock::time_point now, std::chrono::seconds validity) {
  const std::string what = "cannot mint a certificate for " + name.text + ": ";
  auto certificate = newCertificate();
  if (!certificate) return makeError(what + certificate.error().message);
  X509* cert = certificate->get();

  X509NamePtr subject(X509_NAME_new());
  if (!subject ||
      X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(name.text.c_str()), -1, -1, 0) != 1 ||
      X509_set_subject_name(cert, subject.get()) != 1 ||
      X509_set_issuer_name(cert, X509_get_subject_name(ca.certificate())) != 1 ||
      X509_set_pubkey(cert, leafKey) != 1) {
    return openSslError(what + "names or key");
  }

  auto caNotAfter = notAfterOf(ca.certificate());
  if (!caNotAfter) return makeError(what + caNotAfter.error().message);
  const auto notAfter = std::min(now + validity, *caNotAfter);
  if (auto status = setValidity(cert, now - kBackdate, notAfter); !status) {
    return makeError(what + status.error().message);
  }

  // The name passed parseCertificateName, so it holds no ',' or ':' that could add another entry.
  const std::string subjectAltName = (name.isIpAddress ? "IP:" : "DNS:") + name.text;
  for (const auto& [nid, value] : {std::pair<int, std::string>{NID_subject_alt_name, subjectAltName},
                                   {NID_key_usage, "critical,digitalSignature"},
                                   {NID_ext_key_usage, "serverAuth"},
                                   {NID_subject_key_identifier, "hash"},
                                   {NID_authority_key_identifier, "keyid:always"}}) {
    if (auto status = addExtension(cert, ca.certificate(), nid, value); !status) {
      return makeError(what + status.error().message);
    }
  }
  if (auto status = signCertificate(cert, ca.key()); !status) return makeError(what + status.error().message);

  LeafCert leaf;
  leaf.certificate = std::move(*certificate);
  if (EVP_PKEY_up_ref(leafKey) != 1) return openSslError(what + "key reference");
  leaf.key.reset(leafKey);
  if (X509_up_ref(ca.certificate()) != 1) return openSslError(what + "CA reference");
  leaf.chain.emplace_back(ca.certificate());
  leaf.notAfter = notAfter;
  return leaf;
}

}  // namespace shadowai
