#include "proxy/proxy_event.h"

namespace shadowai {

const char* toString(ProxyEventKind kind) {
  switch (kind) {
    case ProxyEventKind::kRefusedNoDestination:
      return "refused-no-destination";
    case ProxyEventKind::kRefusedOverLimit:
      return "refused-over-limit";
    case ProxyEventKind::kRefusedByDecision:
      return "refused-by-decision";
    case ProxyEventKind::kPeekTimeout:
      return "peek-timeout";
    case ProxyEventKind::kUpstreamConnectFailed:
      return "upstream-connect-failed";
    case ProxyEventKind::kInterceptUnavailable:
      return "intercept-unavailable";
  }
  return "unknown";
}

}  // namespace shadowai
