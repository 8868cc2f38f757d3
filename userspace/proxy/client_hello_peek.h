// ClientHelloPeek: collects the first bytes of a redirected connection until they say what the
// client speaks: a whole ClientHello, not TLS at all, TLS that is broken, or the size limit.
// Sans I/O, so the proxy feeds it whatever each read returned and tests feed it byte sequences.
//
// The bytes come from any enforced workload, maybe one byte per segment. Re-parsing the whole
// buffer after every read would cost O(n^2) for such a client, so the peek first walks the record
// headers (incrementally, a few steps per record) and parses only once the handshake header says
// the hello is all there, a header is one no ClientHello has, or the limit is reached.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/client_hello.h"

namespace shadowai {

class ClientHelloPeek {
 public:
  explicit ClientHelloPeek(size_t maxBytes);

  // How many more bytes the peek takes; 0 once done().
  size_t remaining() const { return done_ ? 0 : maxBytes_ - bytes_.size(); }
  // Appends what a read returned (at most remaining() bytes; the rest is ignored) and decides
  // whether the peek is over.
  void append(std::span<const uint8_t> chunk);

  bool done() const { return done_; }
  // Valid once done(): kOk, kNotTls, kNotClientHello, kMalformed, or kTruncated at the limit.
  const ClientHelloInfo& hello() const { return hello_; }
  bool isTls() const { return done_ && hello_.status != ClientHelloStatus::kNotTls; }
  // Everything read so far, to be sent to the destination first.
  std::span<const uint8_t> bytes() const { return bytes_; }
  std::vector<uint8_t> takeBytes() { return std::move(bytes_); }
  // Not TLS but a plain HTTP request (it starts with a method and a space): the peek reads on until
  // the request's head is complete (or the limit), and this is its Host header, lower-case without
  // a port or trailing dot; nullopt for anything else or a head without one.
  std::optional<std::string> httpHost() const;
  // How many times the parser ran (for tests of the re-parse schedule).
  unsigned parseCount() const { return parseCount_; }

 private:
  // True once another parse can tell more than "read more".
  bool worthParsing();

  size_t maxBytes_;
  std::vector<uint8_t> bytes_;
  ClientHelloInfo hello_;
  bool done_ = false;
  bool httpRequest_ = false;  // reading a plain HTTP request's head
  unsigned parseCount_ = 0;

  // Record walk: the current record header starts at recordStart_; payloadBefore_ handshake bytes
  // came in the complete records before it; the first four of them are the handshake header.
  size_t recordStart_ = 0;
  size_t payloadBefore_ = 0;
  std::array<uint8_t, 4> handshakeHeader_{};
  size_t handshakeHeaderHave_ = 0;
};

}  // namespace shadowai
