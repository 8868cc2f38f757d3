// The Host of a plain HTTP request from its first bytes: how a provider called without TLS is named
// (the proxy's peek in enforce mode, the observed first packet in detection). Parsed with Beast; a
// head cut short (a captured packet) is parsed up to its last complete header line.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace shadowai {

// True when BYTES start like an HTTP request line: an upper-case method token and a space.
bool startsLikeHttpRequest(std::span<const uint8_t> bytes);

// The request's Host header, lower-case, without a port or trailing dot; nullopt when BYTES are not
// an HTTP request or name no host before they end.
std::optional<std::string> httpRequestHost(std::span<const uint8_t> bytes);

}  // namespace shadowai
