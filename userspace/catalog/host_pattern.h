// Host names as the catalog compares them, and the host patterns a catalog file may hold.
//
// A pattern is an exact name ("api.openai.com"), a leading wildcard ("*.openai.azure.com": one or
// more labels in front of the suffix, never the bare suffix itself), or "*" (any host; only for
// local servers, matched by port alone).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace shadowai {

// The longest host name DNS allows (RFC 1035), without the trailing dot.
inline constexpr size_t kMaxHostNameLength = 253;

// Lower-cases HOST into BUFFER and drops one trailing dot. Returns nullopt when HOST cannot be a
// host name (empty, too long, an empty label, a character outside letters, digits, '-', '_' and
// '.'), so a garbage SNI can never look like a wildcard or like "*".
std::optional<std::string_view> normalizeHostName(std::string_view host,
                                                  char (&buffer)[kMaxHostNameLength + 1]);

// Validates one host pattern from a catalog file and returns it in canonical form (lower case, no
// trailing dot). The error is a short phrase for the caller to prefix with file and JSON pointer.
Result<std::string> parseHostPattern(std::string_view text);

inline bool isAnyHostPattern(std::string_view pattern) { return pattern == "*"; }
inline bool isWildcardPattern(std::string_view pattern) { return pattern.starts_with("*."); }
// "*.openai.azure.com" -> "openai.azure.com".
inline std::string_view wildcardSuffix(std::string_view pattern) { return pattern.substr(2); }

}  // namespace shadowai
