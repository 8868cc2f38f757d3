// EventReader: drains the observation ring buffer of a loaded BPF object and hands each record to
// a callback; reads the per-CPU lost-event counters. Shared by the scan's Observer and the
// daemon's programs. Not thread-safe: poll it from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "common/result.h"
#include "shadowai/observe_events.h"

struct ring_buffer;

namespace shadowai {

// One ring buffer record: the common header, and for TLS/DNS events the copied payload.
struct RawEvent {
  const shadowai_event_header* header = nullptr;
  std::span<const uint8_t> payload;
  uint32_t originalPayloadLength = 0;
};

using LostEventCounts = std::array<uint64_t, SHADOWAI_LOST_SLOTS>;

class EventReader {
 public:
  using EventHandler = std::function<void(const RawEvent&)>;

  static Result<std::unique_ptr<EventReader>> create(int ringBufferFd, int lostEventsFd, EventHandler handler);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // Waits up to timeoutMs, then delivers every record waiting. The programs wake the reader only
  // when the ring is filling up, so the timeout is what bounds the delay of a quiet trickle.
  // Returns the number delivered.
  Result<int> poll(int timeoutMs);
  // Delivers whatever is in the ring buffer without waiting.
  Result<int> drain();
  // Records the kernel side could not reserve space for, summed over CPUs, per event kind.
  LostEventCounts lostEvents() const;
  // Records rejected as malformed (size mismatch): a bug, counted not hidden.
  uint64_t malformedRecords() const { return malformedRecords_; }

 private:
  EventReader() = default;
  static int onRecord(void* context, void* data, size_t size);

  struct RingBufferDeleter {
    void operator()(::ring_buffer* ring) const;
  };
  std::unique_ptr<::ring_buffer, RingBufferDeleter> ring_;
  int lostEventsFd_ = -1;
  EventHandler handler_;
  uint64_t malformedRecords_ = 0;
};

}  // namespace shadowai
