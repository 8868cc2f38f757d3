#include "audit/alert_rate_limiter.h"

#include <algorithm>
#include <utility>

namespace shadowai {

AlertRateLimiter::AlertRateLimiter(AlertRateLimit limit) : limit_(limit) {
  // An interval of zero would mean an infinite refill rate: no limit at all, said plainly.
  if (limit_.refillInterval.count() <= 0) limit_.refillInterval = std::chrono::milliseconds(1);
}

AlertRateLimiter::Admission AlertRateLimiter::admit(AlertKind kind, Clock::time_point now) {
  Bucket& bucket = buckets_[index(kind)];
  const double capacity = limit_.burst;
  if (!bucket.started) {
    bucket.started = true;
    bucket.tokens = capacity;
    bucket.refilledAt = now;
  } else if (now > bucket.refilledAt) {
    const double elapsed = std::chrono::duration<double, std::milli>(now - bucket.refilledAt).count();
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed / static_cast<double>(limit_.refillInterval.count()));
    bucket.refilledAt = now;
  }
  if (bucket.tokens < 1.0) {
    ++bucket.pendingSuppressed;
    ++bucket.totalSuppressed;
    return {};
  }
  bucket.tokens -= 1.0;
  return {true, std::exchange(bucket.pendingSuppressed, 0)};
}

void AlertRateLimiter::restoreSuppressed(AlertKind kind, uint64_t count) {
  buckets_[index(kind)].pendingSuppressed += count;
}

}  // namespace shadowai
