// Parser for the first bytes a TLS client sends: the ClientHello, read for its SNI host name and
// ALPN list. The bytes are untrusted (copied by BPF from packets or peeked by the proxy from a
// socket that any workload can write to) and often cut short, so the parser never reads past what
// it was given, never allocates beyond the strings it returns, and tells "cut short" apart from
// "broken".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace shadowai {

enum class ClientHelloStatus {
  kOk,              // a whole ClientHello was parsed
  kNotTls,          // the stream does not start with a TLS handshake record
  kNotClientHello,  // a TLS handshake, but its first message is not a ClientHello
  kTruncated,       // consistent so far, but the bytes end before the ClientHello does: read more
  kMalformed,       // lengths or values that no valid ClientHello has
};

struct ClientHelloInfo {
  ClientHelloStatus status = ClientHelloStatus::kMalformed;
  std::string serverName;         // SNI host_name, lower-cased, no trailing dot; empty if none
  std::vector<std::string> alpn;  // ALPN protocol names, in the client's order
};

// Parses the start of a TLS stream (record header first). A ClientHello split over several
// handshake records is reassembled. With kTruncated, serverName and alpn are still filled when
// their whole extension lay inside the bytes given, so a capture cut at 2048 bytes still yields
// the name when it came early; a value that was cut is never returned in part.
ClientHelloInfo parseClientHello(std::span<const uint8_t> bytes);

const char* toString(ClientHelloStatus status);

}  // namespace shadowai
