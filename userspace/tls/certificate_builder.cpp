#include "tls/certificate_builder.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "tls/openssl_error.h"

namespace shadowai {

Result<EvpPkeyPtr> generateP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openSslError("cannot generate an ECDSA P-256 key");
  return key;
}

Result<X509Ptr> newCertificate() {
  X509Ptr certificate(X509_new());
  if (!certificate) return openSslError("cannot allocate a certificate");
  if (X509_set_version(certificate.get(), X509_VERSION_3) != 1) return openSslError("cannot set version 3");

  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return openSslError("cannot draw a random serial");
  BignumPtr serial(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  // A zero serial is invalid (RFC 5280 wants a positive integer); 2^-128 odds, but cheap to rule out.
  if (serial && BN_is_zero(serial.get())) BN_one(serial.get());
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) == nullptr) {
    return openSslError("cannot set the certificate serial");
  }
  return certificate;
}

Status setValidity(X509* certificate, std::chrono::system_clock::time_point notBefore,
                   std::chrono::system_clock::time_point notAfter) {
  if (ASN1_TIME_set(X509_getm_notBefore(certificate), std::chrono::system_clock::to_time_t(notBefore)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(certificate), std::chrono::system_clock::to_time_t(notAfter)) == nullptr) {
    return openSslError("cannot set the certificate validity");
  }
  return {};
}

Status addExtension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return openSslError(std::string("cannot add extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return {};
}

Status signCertificate(X509* certificate, EVP_PKEY* key) {
  if (X509_sign(certificate, key, EVP_sha256()) <= 0) return openSslError("cannot sign the certificate");
  return {};
}

Result<std::string> certificateToPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) return openSslError("cannot encode certificate as PEM");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace shadowai
