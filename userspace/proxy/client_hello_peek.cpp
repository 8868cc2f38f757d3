#include "proxy/client_hello_peek.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "net/http_request_host.h"

namespace shadowai {
namespace {

// Upper-case letters only so far, and few: they may still become a method and its space.
bool couldBecomeHttpRequest(std::span<const uint8_t> bytes) {
  return bytes.size() < 16 && std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b >= 'A' && b <= 'Z'; });
}

// The blank line that ends a request head, looked for from FROM on (where the previous read ended,
// less three bytes): linear however the client cuts its head.
bool headComplete(std::span<const uint8_t> bytes, size_t from) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.find("\r\n\r\n", from >= 3 ? from - 3 : 0) != std::string_view::npos;
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
  const size_t before = bytes_.size();
  bytes_.insert(bytes_.end(), chunk.begin(), chunk.end());
  bool atLimit = bytes_.size() >= maxBytes_;
  if (httpRequest_) {
    done_ = atLimit || headComplete(bytes_, before);
    return;
  }
  if (!worthParsing() && !atLimit) return;
  hello_ = parseClientHello(bytes_);
  ++parseCount_;
  // "Read more" at the limit is as far as the peek goes: the caller judges on what it has.
  done_ = hello_.status != ClientHelloStatus::kTruncated || atLimit;
  // A plain HTTP request names its host in its head: read that far (a provider called without TLS).
  if (hello_.status == ClientHelloStatus::kNotTls) {
    if (startsLikeHttpRequest(bytes_)) {
      httpRequest_ = true;
      done_ = atLimit || headComplete(bytes_, 0);
    } else if (couldBecomeHttpRequest(bytes_)) {
      done_ = atLimit;  // "GE" of "GET /": read on
    }
  }
}

std::optional<std::string> ClientHelloPeek::httpHost() const {
  if (!httpRequest_ || !done_) return std::nullopt;
  return httpRequestHost(bytes_);
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
