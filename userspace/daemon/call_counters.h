// CallCounters: how many intercepted calls ended which way, and how many values their masking
// replaced, since the daemon started: the per-call half of `shadowai status` (the proxy's counters
// are per connection; one connection can carry many calls). Counted before the call's alert is
// written, so a script that saw the alert reads a count that includes it.
#pragma once

#include <atomic>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "intercept/intercepted_call.h"

namespace shadowai {

class CallCounters {
 public:
  // Thread-safe (proxy threads call it concurrently).
  void record(const InterceptedCall& call);
  // {"total", "forwarded", "refused", "blocked", "upstream_failed", "client_tls_failed",
  //  "managed_key", "masked_request_values", "masked_response_values"}: docs/daemon.md.
  nlohmann::json toJson() const;

 private:
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> blocked_{0};
  std::atomic<uint64_t> upstreamFailed_{0};
  std::atomic<uint64_t> clientTlsFailed_{0};
  std::atomic<uint64_t> managedKey_{0};
  std::atomic<uint64_t> maskedRequestValues_{0};
  std::atomic<uint64_t> maskedResponseValues_{0};
};

}  // namespace shadowai
