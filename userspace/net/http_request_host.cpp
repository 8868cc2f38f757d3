#include "net/http_request_host.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace shadowai {

namespace http = boost::beast::http;

namespace {

// A DNS name (letters, digits, '-', '_', dots between labels) or a bracketed IPv6 literal, at most 253 bytes:
// anything else in a Host header (spaces, '/', '@'...) names nothing a catalog could match.
bool isHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']' &&
           std::all_of(host.begin() + 1, host.end() - 1, [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
  }
  // No empty label: not "..", nor a dot at either end (the one trailing dot of a rooted name is
  // gone already).
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos) return false;
  return std::all_of(host.begin(), host.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

}  // namespace

bool startsLikeHttpRequest(std::span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size() && i < 16 && bytes[i] >= 'A' && bytes[i] <= 'Z') ++i;
  return i > 0 && i < bytes.size() && bytes[i] == ' ';
}

std::optional<std::string> httpRequestHost(std::span<const uint8_t> bytes) {
  if (!startsLikeHttpRequest(bytes)) return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  // Only whole lines: a head cut inside a line ends at the line before, and a blank line closes it.
  std::string head;
  if (size_t end = text.find("\r\n\r\n"); end != std::string_view::npos) {
    head = std::string(text.substr(0, end + 4));
  } else if (size_t last = text.rfind("\r\n"); last != std::string_view::npos) {
    head = std::string(text.substr(0, last + 2)) + "\r\n";
  } else {
    return std::nullopt;
  }
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(head.size()));
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(head), error);
  if (!parser.is_header_done()) return std::nullopt;
  auto field = parser.get().find(http::field::host);
  if (field == parser.get().end()) return std::nullopt;
  std::string host(field->value());
  // "[v6]:port" or "name:port": the bracketed address or the name, without the port.
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close != std::string::npos) host.resize(close + 1);
  } else if (size_t colon = host.find(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (!isHostName(host)) return std::nullopt;  // not a host at all: nothing names the destination
  return host;
}

}  // namespace shadowai
