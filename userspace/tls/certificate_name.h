// CertificateName: a server name (an SNI, or the destination IP when a client sent none) checked
// and normalised before it goes into a certificate. The name comes from an untrusted ClientHello,
// so only host-name characters get through: nothing that could smuggle a second SAN entry in.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace shadowai {

struct CertificateName {
  std::string text;          // lower-cased host name, or the IP literal as given
  bool isIpAddress = false;  // true: goes into the SAN as iPAddress, not dNSName
};

// Accepts a DNS host name (letters, digits, hyphens in dot-separated labels of 1..63 characters,
// no leading/trailing hyphen, at most 253 characters, no trailing dot) or an IPv4/IPv6 literal.
Result<CertificateName> parseCertificateName(std::string_view name);

}  // namespace shadowai
