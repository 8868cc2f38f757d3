#include "proxy/client_hello_peek.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace shadowai {
namespace {

namespace http = boost::beast::http;

// "GET /", "POST /"...: a method token (upper-case letters, as every HTTP client sends) and a space.
bool startsLikeHttpRequest(std::span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size() && i < 16 && bytes[i] >= 'A' && bytes[i] <= 'Z') ++i;
  return i > 0 && i < bytes.size() && bytes[i] == ' ';
}

bool headComplete(std::span<const uint8_t> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.find("\r\n\r\n") != std::string_view::npos;
}

constexpr uint8_t kHandshakeRecordType = 0x16;
constexpr uint8_t kTlsMajorVersion = 0x03;
constexpr uint8_t kClientHelloType = 1;
constexpr size_t kRecordHeaderSize = 5;
constexpr size_t kHandshakeHeaderSize = 4;
constexpr size_t kMaxRecordLength = 1 << 14;

}  // namespace

ClientHelloPeek::ClientHelloPeek(size_t maxBytes) : maxBytes_(std::max<size_t>(maxBytes, 1)) {}

void ClientHelloPeek::append(std::span<const uint8_t> chunk) {
  if (done_) return;
  chunk = chunk.first(std::min(chunk.size(), remaining()));
  bytes_.insert(bytes_.end(), chunk.begin(), chunk.end());
  bool atLimit = bytes_.size() >= maxBytes_;
  if (httpRequest_) {
    done_ = atLimit || headComplete(bytes_);
    return;
  }
  if (!worthParsing() && !atLimit) return;
  hello_ = parseClientHello(bytes_);
  ++parseCount_;
  // "Read more" at the limit is as far as the peek goes: the caller judges on what it has.
  done_ = hello_.status != ClientHelloStatus::kTruncated || atLimit;
  // A plain HTTP request names its host in its head: read that far (a provider called without TLS).
  if (hello_.status == ClientHelloStatus::kNotTls && startsLikeHttpRequest(bytes_)) {
    httpRequest_ = true;
    done_ = atLimit || headComplete(bytes_);
  }
}

std::optional<std::string> ClientHelloPeek::httpHost() const {
  if (!httpRequest_ || !done_) return std::nullopt;
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(maxBytes_, UINT32_MAX)));
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(bytes_.data(), bytes_.size()), error);
  if (!parser.is_header_done()) return std::nullopt;
  auto field = parser.get().find(http::field::host);
  if (field == parser.get().end()) return std::nullopt;
  std::string host(field->value());
  // "[v6]:port" or "name:port": the name, or the bracketed address, without the port.
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') == std::string::npos ? host.size() : host.find(']') + 1);
  } else if (size_t colon = host.find(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty()) return std::nullopt;
  return host;
}

bool ClientHelloPeek::worthParsing() {
  const size_t size = bytes_.size();
  for (;;) {
    const size_t headerEnd = recordStart_ + kRecordHeaderSize;
    if (size < headerEnd) {
      // The first one or two bytes already tell TLS from anything else (an HTTP request, say).
      if (recordStart_ == 0 && size >= 1 && bytes_[0] != kHandshakeRecordType) return true;
      if (recordStart_ == 0 && size >= 2 && bytes_[1] != kTlsMajorVersion) return true;
      return false;
    }
    const size_t length = static_cast<size_t>(bytes_[recordStart_ + 3] << 8 | bytes_[recordStart_ + 4]);
    if (bytes_[recordStart_] != kHandshakeRecordType || bytes_[recordStart_ + 1] != kTlsMajorVersion ||
        length == 0 || length > kMaxRecordLength) {
      return true;  // the parser names what is wrong
    }
    const size_t present = std::min(length, size - headerEnd);
    while (handshakeHeaderHave_ < kHandshakeHeaderSize && handshakeHeaderHave_ - payloadBefore_ < present) {
      handshakeHeader_[handshakeHeaderHave_] = bytes_[headerEnd + handshakeHeaderHave_ - payloadBefore_];
      ++handshakeHeaderHave_;
    }
    if (handshakeHeaderHave_ >= 1 && handshakeHeader_[0] != kClientHelloType) return true;
    if (handshakeHeaderHave_ == kHandshakeHeaderSize) {
      const size_t helloLength = kHandshakeHeaderSize + static_cast<size_t>(handshakeHeader_[1] << 16 |
                                                                            handshakeHeader_[2] << 8 |
                                                                            handshakeHeader_[3]);
      if (payloadBefore_ + present >= helloLength) return true;
    }
    if (present < length) return false;  // wait for the rest of this record
    payloadBefore_ += length;
    recordStart_ = headerEnd + length;
  }
}

}  // namespace shadowai
