// Certificate fingerprints as people compare them: SHA-256 over the DER encoding, upper-case hex
// bytes joined by colons, the same text `openssl x509 -noout -fingerprint -sha256` prints after
// "sha256 Fingerprint=" and browsers show, so an operator can check a CA on another host by eye.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace shadowai {

// "AB:CD:...", two upper-case hex digits per byte; empty for no bytes.
std::string formatFingerprint(std::span<const uint8_t> digest);

// The SHA-256 fingerprint of CERTIFICATE, formatted as above.
Result<std::string> sha256Fingerprint(X509* certificate);

}  // namespace shadowai
