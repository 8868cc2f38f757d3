#include "daemon/call_counters.h"

namespace shadowai {

void CallCounters::record(const InterceptedCall& call) {
  ++total_;
  switch (call.outcome) {
    case CallOutcome::kForwarded: ++forwarded_; break;
    case CallOutcome::kRefused: ++refused_; break;
    case CallOutcome::kBlocked: ++blocked_; break;
    case CallOutcome::kUpstreamFailed: ++upstreamFailed_; break;
    case CallOutcome::kClientTlsFailed: ++clientTlsFailed_; break;
  }
  if (call.credential == CallCredential::kManaged) ++managedKey_;
  for (const auto& hits : call.masked) {
    (hits.site == MaskSite::kRequest ? maskedRequestValues_ : maskedResponseValues_) += hits.count;
  }
}

nlohmann::json CallCounters::toJson() const {
  return {{"total", total_.load()},
          {"forwarded", forwarded_.load()},
          {"refused", refused_.load()},
          {"blocked", blocked_.load()},
          {"upstream_failed", upstreamFailed_.load()},
          {"client_tls_failed", clientTlsFailed_.load()},
          {"managed_key", managedKey_.load()},
          {"masked_request_values", maskedRequestValues_.load()},
          {"masked_response_values", maskedResponseValues_.load()}};
}

}  // namespace shadowai
