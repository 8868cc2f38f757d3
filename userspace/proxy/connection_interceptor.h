// ConnectionInterceptor: what the proxy hands a connection to when the decider says kIntercept.
// The proxy has read the ClientHello off the socket by then, so those bytes come along; the
// interceptor terminates TLS, serves the connection's requests, and owns it until it ends.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "proxy/connection_decision.h"
#include "proxy/connection_slot.h"
#include "proxy/escaped_exceptions.h"
#include "proxy/proxy_counters.h"

namespace shadowai {

// Whatever an interceptor keeps per proxy worker thread (an upstream connection pool, say). Made on
// the worker's thread before it runs, used only there, destroyed before the worker's io_context.
class InterceptWorkerState {
 public:
  virtual ~InterceptWorkerState() = default;
};

struct InterceptHandoff {
  boost::asio::ip::tcp::socket client;
  std::vector<uint8_t> clientHello;  // already read from CLIENT: the TLS stream starts with them
  ConnectionFacts facts;
  std::shared_ptr<const InterceptTarget> target;  // from the decision; never null
  ConnectionSlot slot;                            // held until the connection ends
  // A TCP connect to the original destination the proxy started at accept (EarlyConnectPolicy):
  // in flight or done, marked. The interceptor may use it for its first upstream connection; if it
  // does not, it should reset it.
  std::optional<boost::asio::ip::tcp::socket> earlyUpstream;
};

class ConnectionInterceptor {
 public:
  virtual ~ConnectionInterceptor() = default;

  virtual std::unique_ptr<InterceptWorkerState> makeWorkerState(const boost::asio::any_io_executor& executor) = 0;

  // Called on a worker thread with that worker's STATE; returns at once (the work runs on
  // HANDOFF.client's executor). COUNTERS are the proxy's, for the bytes and failures it counts;
  // ESCAPED is where an exception that escapes the connection's coroutine goes. Both outlive the
  // worker's io_context.
  virtual void intercept(InterceptHandoff handoff, InterceptWorkerState& state, ProxyCounterCells& counters,
                         const EscapedExceptions& escaped) = 0;
};

}  // namespace shadowai
