// Observer: loads the observation programs (bpf/observe.bpf.c), attaches them through BPF links to
// one cgroup v2 subtree, and hands each ring buffer record to a callback. Destroying the Observer
// destroys the links, which detaches everything it attached; nothing outlives the process.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "shadowai/observe_events.h"

struct observe_bpf;
struct ring_buffer;

namespace shadowai {

struct ObserverOptions {
  std::string cgroupPath;             // absolute path of the cgroup v2 directory to attach to
  std::vector<uint16_t> watchedPorts;  // destination ports reported by connect/sendmsg/TLS hooks
};

// One ring buffer record: the common header, and for TLS/DNS events the copied payload.
struct RawEvent {
  const shadowai_event_header* header = nullptr;
  std::span<const uint8_t> payload;
  uint32_t originalPayloadLength = 0;
};

using LostEventCounts = std::array<uint64_t, SHADOWAI_LOST_SLOTS>;

class Observer {
 public:
  using EventHandler = std::function<void(const RawEvent&)>;

  static Result<std::unique_ptr<Observer>> start(const ObserverOptions& options, EventHandler handler);
  ~Observer();
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // Waits up to timeoutMs for records and delivers them. Returns the number delivered.
  Result<int> poll(int timeoutMs);
  // Delivers whatever is in the ring buffer without waiting (used before the final report).
  Result<int> drain();
  // Records the kernel side could not reserve space for, summed over CPUs, per event kind.
  LostEventCounts lostEvents() const;
  // Records the callback rejected as malformed (size mismatch): a bug, counted not hidden.
  uint64_t malformedRecords() const { return malformedRecords_; }

 private:
  Observer() = default;
  static int onRecord(void* context, void* data, size_t size);

  struct SkeletonDeleter {
    void operator()(observe_bpf* skeleton) const;
  };
  struct RingBufferDeleter {
    void operator()(::ring_buffer* ring) const;
  };

  std::unique_ptr<observe_bpf, SkeletonDeleter> skeleton_;
  std::unique_ptr<::ring_buffer, RingBufferDeleter> ring_;
  EventHandler handler_;
  uint64_t malformedRecords_ = 0;
};

}  // namespace shadowai
