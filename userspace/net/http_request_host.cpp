#include "net/http_request_host.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace shadowai {

namespace http = boost::beast::http;

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
  if (host.empty()) return std::nullopt;
  return host;
}

}  // namespace shadowai
