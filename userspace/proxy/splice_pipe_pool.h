// SplicePipePool: the pipes a worker's relays borrow to move bulk data between two sockets with
// splice(2), so the bytes never pass through user space (two copies fewer per byte relayed).
//
// A relay borrows a pipe only while data sits in it: when a direction has to wait for its source,
// the pipe is empty and goes back to the pool, so idle connections hold no pipe (two descriptors
// each would otherwise double the proxy's descriptors per connection). A pipe given back with
// data in it (the connection broke mid-way) is closed, never reused. At most `maxInUse` pipes are
// lent at once and `maxIdle` kept; beyond that the relay copies through its scratch buffer as
// before, so the descriptors the pool can hold are bounded (see descriptorsHeld()).
// One pool per worker thread; not thread-safe. It must outlive every lease.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace shadowai {

class SplicePipePool;

// An open pipe: readEnd and writeEnd, both non-blocking and close-on-exec.
struct SplicePipe {
  int readEnd = -1;
  int writeEnd = -1;
};

// A pipe lent by the pool, returned by the destructor (or give back()).
class PipeLease {
 public:
  PipeLease() = default;
  PipeLease(const PipeLease&) = delete;
  PipeLease& operator=(const PipeLease&) = delete;
  PipeLease(PipeLease&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), pipe_(std::exchange(other.pipe_, {})) {}
  PipeLease& operator=(PipeLease&& other) noexcept;
  ~PipeLease() { giveBack(/*empty=*/false); }

  explicit operator bool() const { return pool_ != nullptr; }
  int readEnd() const { return pipe_.readEnd; }
  int writeEnd() const { return pipe_.writeEnd; }
  // EMPTY: nothing left in the pipe, it may be lent again; otherwise it is closed.
  void giveBack(bool empty);

 private:
  friend class SplicePipePool;
  PipeLease(SplicePipePool* pool, SplicePipe pipe) : pool_(pool), pipe_(pipe) {}

  SplicePipePool* pool_ = nullptr;
  SplicePipe pipe_;
};

struct SplicePipeLimits {
  size_t maxInUse = 64;
  size_t maxIdle = 8;
  // Asked with F_SETPIPE_SZ; the kernel's default (64 KiB) when refused.
  size_t pipeBytes = 256 * 1024;
};

class SplicePipePool {
 public:
  explicit SplicePipePool(SplicePipeLimits limits = {}) : limits_(limits) {}
  SplicePipePool(const SplicePipePool&) = delete;
  SplicePipePool& operator=(const SplicePipePool&) = delete;
  ~SplicePipePool();

  // An empty pipe, or an empty lease when maxInUse are lent or no pipe can be made (EMFILE, ...).
  PipeLease borrow();

  // The most descriptors a pool with LIMITS can hold at once, lent and idle.
  static size_t descriptorsHeld(const SplicePipeLimits& limits) { return 2 * (limits.maxInUse + limits.maxIdle); }

  size_t inUse() const { return inUse_; }
  size_t idle() const { return idle_.size(); }
  uint64_t lentTotal() const { return lentTotal_; }  // leases handed out so far

 private:
  friend class PipeLease;
  void giveBack(SplicePipe pipe, bool empty);

  SplicePipeLimits limits_;
  std::vector<SplicePipe> idle_;
  size_t inUse_ = 0;
  uint64_t lentTotal_ = 0;
};

}  // namespace shadowai
