// How the transparent proxy listens and how long it waits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace shadowai {

struct ProxyOptions {
  // Addresses to listen on (at least one). The IPv6 listener is IPV6_V6ONLY: IPv4 and v4-mapped
  // connects are redirected to the IPv4 one.
  std::optional<std::string> listenIpv4 = "127.0.0.1";
  std::optional<std::string> listenIpv6;
  // The same port on both; 0 picks a free one (see ProxyServer::port()). Every worker thread has
  // its own listener bound with SO_REUSEPORT, so another socket of the same user bound to this
  // port with SO_REUSEPORT would share the connections: give each instance its own port.
  uint16_t port = 0;
  unsigned threads = 0;  // worker threads, each with its own io_context; 0: one per CPU

  // How long a client may take to send its whole ClientHello (or first bytes). A client still
  // silent then is closed: see proxy_connection.h for why it is not spliced.
  std::chrono::milliseconds peekTimeout{5000};
  std::chrono::milliseconds connectTimeout{10000};
  // A spliced pair with no byte in either direction for this long is closed; this also ends a
  // half-closed pair whose remaining direction has gone quiet.
  std::chrono::seconds idleTimeout{600};
  size_t maxConnections = 16384;  // beyond it, accepted connections are closed at once
  // SO_MARK on every upstream socket, so the redirect hooks let the proxy's own connects through.
  // 0: no mark (needs no CAP_NET_ADMIN; for tests without the BPF redirect only).
  uint32_t upstreamMark = 0;
  size_t maxPeekBytes = 16384;  // a ClientHello longer than this is judged on its first bytes
};

}  // namespace shadowai
