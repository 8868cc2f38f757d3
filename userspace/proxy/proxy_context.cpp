#include "proxy/proxy_context.h"

namespace shadowai {

std::optional<OriginalDestination> ProxyContext::lookup(int acceptedFd) {
  try {
    return lookup_(acceptedFd);
  } catch (...) {
    bump(counters_.callbackErrors);
    return std::nullopt;
  }
}

ConnectionVerdict ProxyContext::decide(const ConnectionFacts& facts) {
  try {
    return decider_(facts);
  } catch (...) {
    bump(counters_.callbackErrors);
    return ConnectionVerdict::kRefuse;
  }
}

void ProxyContext::report(const ProxyEvent& event) {
  if (!onEvent_) return;
  try {
    onEvent_(event);
  } catch (...) {
    bump(counters_.callbackErrors);
  }
}

}  // namespace shadowai
