// One redirected connection from accept to the relay: peek at the first bytes, let the decider
// judge the facts, then either hand the connection to the interceptor (kIntercept), or connect to
// the original destination with the proxy's mark and hand both sockets to a StreamRelay with the
// peeked bytes to send first.
//
// A client that stays silent until ProxyOptions::peekTimeout (or whose ClientHello is still
// incomplete then) is reset, counted in peekTimeouts and reported, not spliced. Only ports whose
// clients speak first (443 and 80 by default) are redirected, so such a client is broken or idle;
// and splicing it would open a side door: a workload could wait out the timer, be spliced
// uninspected, and only then send its ClientHello for a catalog host. Server-speaks-first
// protocols (SMTP, SSH, ...) therefore must not be put on the redirected ports.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <span>

#include "net/ip_address.h"
#include "proxy/connection_slot.h"
#include "proxy/original_destination.h"
#include "proxy/proxy_context.h"

namespace shadowai {

struct AcceptedConnection {
  boost::asio::ip::tcp::socket socket;
  OriginalDestination destination;
  IpAddress clientAddress;
  uint16_t clientPort = 0;
};

// Serves CONNECTION on its socket's executor (the calling worker's io_context); SCRATCH is that
// worker's buffer and INTERCEPT_STATE its interceptor's state (null without an interceptor).
// Returns at once; the connection owns itself until it ends or its io_context is destroyed.
void serveConnection(AcceptedConnection connection, ProxyContext& context, std::span<uint8_t> scratch,
                     InterceptWorkerState* interceptState, ConnectionSlot slot);

}  // namespace shadowai
