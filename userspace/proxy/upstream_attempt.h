// A TCP connect to a connection's original destination, started without waiting for it: the proxy
// starts it at accept time (EarlyConnectPolicy) and waits for it only once it knows it needs it, for
// a splice or, handed over, for an interception's first upstream connection.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "net/network_namespace.h"

namespace shadowai {

struct UpstreamAttempt {
  // Open, with SO_MARK set, its non-blocking connect() in flight, done, or already failed. Empty
  // when no socket could be made.
  std::optional<boost::asio::ip::tcp::socket> socket;
  std::string failure;  // why the connect could not start, "" when it did
};

UpstreamAttempt startUpstreamConnect(const boost::asio::any_io_executor& executor,
                                     const boost::asio::ip::tcp::endpoint& destination, uint32_t mark,
                                     const NetworkNamespace* netns = nullptr);

struct UpstreamAttemptOutcome {
  bool connected = false;
  bool timedOut = false;  // TIMER fired first
  std::string failure;    // when not connected: why ("no answer within the connect timeout" when timed out)
};

// Waits, until TIMER (armed by the caller) fires, for ATTEMPT's connect to complete.
boost::asio::awaitable<UpstreamAttemptOutcome> finishUpstreamConnect(UpstreamAttempt& attempt,
                                                                     boost::asio::steady_timer& timer);

}  // namespace shadowai
