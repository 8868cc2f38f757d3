#include "tls/certificate_name.h"

#include <arpa/inet.h>

#include <cctype>

namespace shadowai {
namespace {

constexpr size_t kMaxHostName = 253;
constexpr size_t kMaxLabel = 63;

bool isIpLiteral(const std::string& text) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

bool isHostName(const std::string& text) {
  if (text.empty() || text.size() > kMaxHostName) return false;
  size_t labelStart = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      const size_t length = i - labelStart;
      if (length == 0 || length > kMaxLabel) return false;
      if (text[labelStart] == '-' || text[i - 1] == '-') return false;
      labelStart = i + 1;
      continue;
    }
    const char c = text[i];
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-') return false;
  }
  return true;
}

std::string printable(std::string_view name) {
  std::string shown;
  for (char c : name.substr(0, 80)) shown += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return name.size() > 80 ? shown + "..." : shown;
}

}  // namespace

Result<CertificateName> parseCertificateName(std::string_view name) {
  std::string lower;
  lower.reserve(name.size());
  // ASCII only, whatever the process locale: host names are compared byte for byte downstream.
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (lower.size() <= kMaxHostName && lower.find('\0') == std::string::npos && isIpLiteral(lower)) {
    return CertificateName{std::move(lower), true};
  }
  if (!isHostName(lower)) {
    return makeError("refusing to mint a certificate for \"" + printable(name) +
                     "\": not a host name (letters, digits, '-', '.'; at most 253 characters) or IP address");
  }
  return CertificateName{std::move(lower), false};
}

}  // namespace shadowai
