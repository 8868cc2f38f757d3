// The daemon-wide bound on memory held for bodies: every intercepted call reserves its share before
// it holds a request body (and a whole answer it must mask), and a call that does not fit is refused
// at once with the provider's 503 instead of the daemon growing until the host's OOM killer picks
// something. One budget is shared by all proxy threads; reserving is a lock-free compare-and-swap.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shadowai {

// What holding one byte of body costs at the peak of a call: the body, and two more of its size at
// most (while the adapter parses: the lexer's copy of the token and the parsed value; while masking:
// a prompt text and its masked copy; at the end: the rewritten body). bench/request_memory_bench.cpp
// measures 3.0 for most sizes and up to 4.0 for a body just past a power of two (nlohmann's lexer
// doubles its two buffers of the token at once); this adds a margin (docs/daemon.md, "How memory is
// bounded"). A reservation counts body bytes times this.
inline constexpr size_t kHeldBytesPerBodyByte = 5;

class BodyBudget {
 public:
  // LIMIT bytes in all (0: no limit).
  explicit BodyBudget(uint64_t limit) : limit_(limit) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // One call's share; returned when the lease is destroyed or moved from.
  class Lease {
   public:
    Lease() = default;
    explicit Lease(BodyBudget* budget) : budget_(budget) {}
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { release(); }

    // Grows the share to hold BODY_BYTES of body (kHeldBytesPerBodyByte each); false, and the share
    // unchanged, when the budget has no room. Never shrinks. Without a budget always true.
    bool holdBody(uint64_t bodyBytes);
    // Gives back all but BYTES (the body itself, once it is parsed and masked and only waits to go
    // out): a call that streams for minutes holds its share of the budget only for what it holds.
    void keepOnly(uint64_t bytes);
    uint64_t bytes() const { return bytes_; }
    void release();

   private:
    BodyBudget* budget_ = nullptr;
    uint64_t bytes_ = 0;
  };

  Lease lease() { return Lease(this); }

  uint64_t limit() const { return limit_; }
  uint64_t inUse() const { return inUse_.load(std::memory_order_relaxed); }
  // Reservations refused since start.
  uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

  // A default for a host with TOTAL_MEMORY bytes: an eighth of it, at least 256 MiB.
  static uint64_t defaultLimit(uint64_t totalMemory);

 private:
  bool take(uint64_t bytes);
  void give(uint64_t bytes) { inUse_.fetch_sub(bytes, std::memory_order_relaxed); }

  const uint64_t limit_;
  std::atomic<uint64_t> inUse_{0};
  std::atomic<uint64_t> refusals_{0};
};

}  // namespace shadowai
