#include "intercept/body_budget.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace shadowai {

BodyBudget::Lease::Lease(Lease&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

BodyBudget::Lease& BodyBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

bool BodyBudget::Lease::holdBody(uint64_t bodyBytes) {
  if (budget_ == nullptr) return true;
  const uint64_t wanted = bodyBytes > std::numeric_limits<uint64_t>::max() / kHeldBytesPerBodyByte
                              ? std::numeric_limits<uint64_t>::max()
                              : bodyBytes * kHeldBytesPerBodyByte;
  if (wanted <= bytes_) return true;
  if (!budget_->take(wanted - bytes_)) return false;
  bytes_ = wanted;
  return true;
}

void BodyBudget::Lease::keepOnly(uint64_t bytes) {
  if (budget_ == nullptr || bytes >= bytes_) return;
  budget_->give(bytes_ - bytes);
  bytes_ = bytes;
}

void BodyBudget::Lease::release() {
  if (budget_ != nullptr && bytes_ > 0) budget_->give(bytes_);
  bytes_ = 0;
}

bool BodyBudget::take(uint64_t bytes) {
  if (limit_ == 0) {
    inUse_.fetch_add(bytes, std::memory_order_relaxed);
    return true;
  }
  uint64_t current = inUse_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || current > limit_ - bytes) {
      refusals_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!inUse_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
  return true;
}

uint64_t BodyBudget::defaultLimit(uint64_t totalMemory) { return std::max<uint64_t>(256ull << 20, totalMemory / 8); }

}  // namespace shadowai
