#include "proxy/proxy_context.h"

namespace shadowai {

std::optional<OriginalDestination> ProxyContext::lookup(int acceptedFd) {
  try {
    return callbacks_.lookup(acceptedFd);
  } catch (...) {
    bump(counters_.callbackErrors);
    return std::nullopt;
  }
}

bool ProxyContext::connectEarly(const OriginalDestination& destination) {
  if (!callbacks_.connectEarly) return false;
  try {
    return callbacks_.connectEarly(destination);
  } catch (...) {
    bump(counters_.callbackErrors);
    return false;
  }
}

ConnectionDecision ProxyContext::decide(const ConnectionFacts& facts) {
  try {
    ConnectionDecision decision = callbacks_.decide(facts);
    // An interception needs its target; a decider that forgot it fails closed.
    if (decision.verdict == ConnectionVerdict::kIntercept && callbacks_.interceptor && !decision.target) {
      bump(counters_.callbackErrors);
      return ConnectionVerdict::kRefuse;
    }
    return decision;
  } catch (...) {
    bump(counters_.callbackErrors);
    return ConnectionVerdict::kRefuse;
  }
}

void ProxyContext::report(const ProxyEvent& event) {
  if (!callbacks_.onEvent) return;
  try {
    callbacks_.onEvent(event);
  } catch (...) {
    bump(counters_.callbackErrors);
  }
}

}  // namespace shadowai
