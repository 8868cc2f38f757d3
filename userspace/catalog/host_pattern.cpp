#include "catalog/host_pattern.h"

namespace shadowai {
namespace {

constexpr size_t kMaxLabelLength = 63;

char toLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool isDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

// Checks a lower-case dotted name label by label: no empty label, none longer than 63.
Status checkLabels(std::string_view name) {
  size_t start = 0;
  for (;;) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty()) return makeError("empty label in host name");
    if (label.size() > kMaxLabelLength) return makeError("label longer than 63 characters");
    for (char c : label) {
      if (!isLabelChar(c)) return makeError(std::string("character '") + c + "' is not allowed in a host name");
    }
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
}

}  // namespace

std::optional<std::string_view> normalizeHostName(std::string_view host,
                                                  char (&buffer)[kMaxHostNameLength + 1]) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHostNameLength) return std::nullopt;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = toLowerAscii(host[i]);
    if (c == '.') {
      // An empty label (".x", "a..b") would let "*.x" match a name with nothing in front.
      if (i == 0 || buffer[i - 1] == '.') return std::nullopt;
    } else if (!isLabelChar(c)) {
      return std::nullopt;
    }
    buffer[i] = c;
  }
  return std::string_view(buffer, host.size());
}

Result<std::string> parseHostPattern(std::string_view text) {
  if (text.empty()) return makeError("empty host");
  if (isAnyHostPattern(text)) return std::string(text);
  std::string pattern;
  pattern.reserve(text.size());
  for (char c : text) pattern.push_back(toLowerAscii(c));
  if (pattern.ends_with('.')) pattern.pop_back();

  std::string_view name = pattern;
  if (isWildcardPattern(name)) {
    name = wildcardSuffix(name);
    // "*.com" would claim a whole top-level domain; no provider needs that.
    if (name.find('.') == std::string_view::npos) {
      return makeError("a wildcard needs at least two labels after \"*.\"");
    }
  }
  if (name.empty()) return makeError("empty host");
  if (name.size() > kMaxHostNameLength) return makeError("host name longer than 253 characters");
  if (name.find('*') != std::string_view::npos) {
    return makeError("'*' is only allowed as \"*\" or as a leading \"*.\"");
  }
  if (auto labels = checkLabels(name); !labels) return labels.error();
  // SNI and DNS never carry addresses, so an address here could never match.
  if (isDigits(name.substr(name.rfind('.') + 1))) {
    return makeError("an IP address is not a host name");
  }
  return pattern;
}

}  // namespace shadowai
