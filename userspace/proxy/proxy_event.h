// Things the proxy did that an operator may want to hear about (refusals, failures, fallbacks).
// The caller turns them into alerts; the proxy itself only counts and reports.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "net/ip_address.h"
#include "proxy/original_destination.h"

namespace shadowai {

enum class ProxyEventKind {
  kRefusedNoDestination,   // nothing recorded for the accepted socket: someone used the proxy port directly
  kRefusedOverLimit,       // ProxyOptions::maxConnections reached
  kRefusedByDecision,      // the decider said kRefuse
  kPeekTimeout,            // the client sent no whole ClientHello (or nothing at all) in time
  kUpstreamConnectFailed,  // the original destination refused, was unreachable or too slow
  kInterceptUnavailable,   // the decider said kIntercept, which is not built yet: spliced instead
};

const char* toString(ProxyEventKind kind);

struct ProxyEvent {
  ProxyEventKind kind = ProxyEventKind::kRefusedNoDestination;
  IpAddress clientAddress;
  uint16_t clientPort = 0;
  std::optional<OriginalDestination> destination;  // nullopt for kRefusedNoDestination
  std::optional<std::string> sni;                  // when the peek got that far and there was one
  std::string detail;                              // one line, e.g. the connect error
};

// Called on a proxy worker thread, concurrently from several of them: thread-safe, quick, no
// throw. A flood of refused connections is a flood of calls, so rate-limit alerts there.
using ProxyEventSink = std::function<void(const ProxyEvent&)>;

}  // namespace shadowai
