// The steps shared by minting the local CA and its leaves: keys, serials, validity, extensions,
// signature, PEM. Each returns a Result so the caller can say which certificate failed.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "tls/openssl_handles.h"

namespace shadowai {

// A fresh ECDSA P-256 key: what every TLS 1.2/1.3 client accepts, and cheap to sign with.
Result<EvpPkeyPtr> generateP256Key();

// An X509 v3 with a random positive 128-bit serial: unpredictable serials are what stops
// chosen-prefix collisions, and two certificates from one CA must never share a serial.
Result<X509Ptr> newCertificate();

Status setValidity(X509* certificate, std::chrono::system_clock::time_point notBefore,
                   std::chrono::system_clock::time_point notAfter);

// Adds extension NID with OpenSSL's config syntax (e.g. "critical,CA:TRUE"). ISSUER is the signing
// certificate (the certificate itself when self-signed); keyid values are computed from it.
Status addExtension(X509* certificate, X509* issuer, int nid, const std::string& value);

// SHA-256 over the TBS with KEY (ECDSA takes its digest from the caller).
Status signCertificate(X509* certificate, EVP_PKEY* key);

Result<std::string> certificateToPem(X509* certificate);

}  // namespace shadowai
