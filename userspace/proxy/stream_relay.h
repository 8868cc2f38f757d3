// StreamRelay: the spliced part of a connection. Copies bytes both ways between the client and
// the original destination, untouched, until both directions have ended.
//
// Memory: an idle pair holds no buffer. Each direction waits for readability (not a read with a
// buffer parked in it), then reads into the worker thread's scratch buffer and writes at once to
// the other side; only when that write is partial is the rest copied into a buffer of its own,
// and reading that direction waits until it is written (so at most one chunk per direction, and
// a slow reader slows its writer through TCP, never through our memory).
// Half-close: end of stream from one side becomes shutdown(SHUT_WR) on the other, and the other
// direction keeps flowing until it ends too. A reset or I/O error on either side resets both.
// Idle: when neither direction moved a byte (read or written) for idleTimeout, both are closed.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "proxy/connection_slot.h"
#include "proxy/proxy_counters.h"

namespace shadowai {

struct RelaySettings {
  std::chrono::steady_clock::duration idleTimeout = std::chrono::minutes(10);
  // The worker thread's buffer. Used only between two suspensions of a relay on that thread, so
  // every connection the thread serves shares it.
  std::span<uint8_t> scratch;
  ProxyCounterCells* counters = nullptr;  // bytesUp, bytesDown, idleTimeouts, relayErrors
};

class StreamRelay {
 public:
  // Relays on the sockets' executor (both on the calling thread's io_context). FIRST_UPSTREAM_BYTES
  // (what the proxy peeked from the client) go to the upstream before anything else. The relay
  // keeps itself alive until both directions end; SLOT is released then.
  static void start(boost::asio::ip::tcp::socket client, boost::asio::ip::tcp::socket upstream,
                    std::vector<uint8_t> firstUpstreamBytes, RelaySettings settings, ConnectionSlot slot);

  StreamRelay(const StreamRelay&) = delete;
  StreamRelay& operator=(const StreamRelay&) = delete;
  ~StreamRelay();

 private:
  enum class Direction { kUp, kDown };

  StreamRelay(boost::asio::ip::tcp::socket client, boost::asio::ip::tcp::socket upstream,
              std::vector<uint8_t> firstUpstreamBytes, RelaySettings settings, ConnectionSlot slot);

  // One direction, then the bookkeeping of its end. SELF (this) keeps the relay alive meanwhile.
  boost::asio::awaitable<void> pump(std::shared_ptr<StreamRelay> self, Direction direction);
  boost::asio::awaitable<void> copyOneWay(Direction direction);
  boost::asio::awaitable<void> watchIdle(std::shared_ptr<StreamRelay> self);
  void touch() { lastActivity_ = std::chrono::steady_clock::now(); }
  // A reset or I/O error: reset both sides (the peer that broke the connection is told by the
  // kernel; the other learns it from us).
  void fail();

  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  std::vector<uint8_t> firstUpstreamBytes_;
  RelaySettings settings_;
  ConnectionSlot slot_;
  boost::asio::steady_timer idleTimer_;
  std::chrono::steady_clock::time_point lastActivity_;
  int pumpsRunning_ = 2;
  bool closing_ = false;  // closed for an error or idleness: the pumps' aborted waits are expected
};

}  // namespace shadowai
