#include "tls/certificate_fingerprint.h"

#include <openssl/evp.h>

#include "tls/openssl_error.h"

namespace shadowai {

std::string formatFingerprint(std::span<const uint8_t> digest) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  text.reserve(digest.size() * 3);
  for (uint8_t byte : digest) {
    if (!text.empty()) text += ':';
    text += kHex[byte >> 4];
    text += kHex[byte & 0x0f];
  }
  return text;
}

Result<std::string> sha256Fingerprint(X509* certificate) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (certificate == nullptr || X509_digest(certificate, EVP_sha256(), digest, &length) != 1) {
    return openSslError("cannot compute the certificate's SHA-256 fingerprint");
  }
  return formatFingerprint(std::span<const uint8_t>(digest, length));
}

}  // namespace shadowai
