#include "proxy/client_hello_peek.h"

#include <algorithm>

namespace shadowai {
namespace {

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
  if (!worthParsing() && !atLimit) return;
  hello_ = parseClientHello(bytes_);
  ++parseCount_;
  // "Read more" at the limit is as far as the peek goes: the caller judges on what it has.
  done_ = hello_.status != ClientHelloStatus::kTruncated || atLimit;
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
