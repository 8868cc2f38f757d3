#include "bpf/event_reader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <vector>

namespace shadowai {

void EventReader::RingBufferDeleter::operator()(::ring_buffer* ring) const { ring_buffer__free(ring); }

Result<std::unique_ptr<EventReader>> EventReader::create(int ringBufferFd, int lostEventsFd, EventHandler handler) {
  std::unique_ptr<EventReader> reader(new EventReader());
  reader->handler_ = std::move(handler);
  reader->lostEventsFd_ = lostEventsFd;
  reader->ring_.reset(ring_buffer__new(ringBufferFd, &EventReader::onRecord, reader.get(), nullptr));
  if (!reader->ring_) return errnoError("cannot set up the BPF ring buffer");
  return reader;
}

EventReader::~EventReader() = default;

int EventReader::onRecord(void* context, void* data, size_t size) {
  auto* self = static_cast<EventReader*>(context);
  if (size < sizeof(shadowai_event_header)) {
    ++self->malformedRecords_;
    return 0;
  }
  RawEvent event;
  event.header = static_cast<const shadowai_event_header*>(data);
  const uint32_t kind = event.header->kind;
  if (kind == SHADOWAI_EV_TLS_HELLO || kind == SHADOWAI_EV_DNS_ANSWER || kind == SHADOWAI_EV_HTTP_REQUEST) {
    if (size < sizeof(shadowai_payload_event)) {
      ++self->malformedRecords_;
      return 0;
    }
    const auto* payloadEvent = static_cast<const shadowai_payload_event*>(data);
    uint32_t length = std::min<uint32_t>(payloadEvent->payload_len, sizeof(payloadEvent->payload));
    event.payload = std::span<const uint8_t>(payloadEvent->payload, length);
    event.originalPayloadLength = payloadEvent->original_len;
  }
  self->handler_(event);
  return 0;
}

Result<int> EventReader::poll(int timeoutMs) {
  int woken = ring_buffer__poll(ring_.get(), timeoutMs);
  if (woken < 0 && woken != -EINTR) return makeError("reading the BPF ring buffer failed", -woken);
  // Records submitted without a wake-up do not end the wait; take them now.
  auto drained = drain();
  if (!drained) return drained.error();
  return (woken > 0 ? woken : 0) + *drained;
}

Result<int> EventReader::drain() {
  int delivered = ring_buffer__consume(ring_.get());
  if (delivered < 0) return makeError("reading the BPF ring buffer failed", -delivered);
  return delivered;
}

LostEventCounts EventReader::lostEvents() const {
  LostEventCounts totals{};
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return totals;
  std::vector<uint64_t> perCpu(static_cast<size_t>(cpus));
  for (uint32_t slot = 0; slot < SHADOWAI_LOST_SLOTS; ++slot) {
    if (bpf_map_lookup_elem(lostEventsFd_, &slot, perCpu.data()) != 0) continue;
    for (uint64_t value : perCpu) totals[slot] += value;
  }
  return totals;
}

}  // namespace shadowai
