// A token bucket per alert kind, so a storm (a fork bomb calling OpenAI, a flapping proxy) cannot
// flood the journal and push out what an operator needs to read. Alerts it drops are counted and the
// count rides on the next alert of that kind that gets through (SHADOWAI_SUPPRESSED), so the journal
// still says how many there were. Not thread-safe: the Alerter serialises calls.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "audit/alert_kind.h"

namespace shadowai {

struct AlertRateLimit {
  // Alerts of one kind that may go out back to back.
  uint32_t burst = 20;
  // One more may go out per interval after that (the bucket refills at this rate, up to `burst`).
  std::chrono::milliseconds refillInterval{2000};
};

class AlertRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AlertRateLimiter(AlertRateLimit limit);

  struct Admission {
    bool admitted = false;
    // When admitted: alerts of this kind dropped since the last admitted one (that count is now
    // handed over to the caller and cleared).
    uint64_t suppressedBefore = 0;
  };
  Admission admit(AlertKind kind, Clock::time_point now);

  // The caller could not deliver an admitted alert: keep its suppressed count for the next one.
  void restoreSuppressed(AlertKind kind, uint64_t count);

  // Every alert of this kind dropped since start, for status and metrics.
  uint64_t totalSuppressed(AlertKind kind) const { return buckets_[index(kind)].totalSuppressed; }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point refilledAt{};
    bool started = false;
    uint64_t pendingSuppressed = 0;
    uint64_t totalSuppressed = 0;
  };
  static size_t index(AlertKind kind) { return static_cast<size_t>(kind); }

  AlertRateLimit limit_;
  std::array<Bucket, kAlertKindCount> buckets_{};
};

}  // namespace shadowai
