#include "bpf/observer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include "common/fd.h"
#include "observe.skel.h"

namespace shadowai {

void Observer::SkeletonDeleter::operator()(observe_bpf* skeleton) const { observe_bpf__destroy(skeleton); }
void Observer::RingBufferDeleter::operator()(::ring_buffer* ring) const { ring_buffer__free(ring); }

namespace {

struct ProgramAttachment {
  const char* name;
  bpf_program* program;
  bpf_link** link;
};

}  // namespace

Result<std::unique_ptr<Observer>> Observer::start(const ObserverOptions& options, EventHandler handler) {
  Fd cgroup(::open(options.cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return errnoError("cannot open cgroup " + options.cgroupPath);

  std::unique_ptr<Observer> observer(new Observer());
  observer->handler_ = std::move(handler);
  observer->skeleton_.reset(observe_bpf__open());
  if (!observer->skeleton_) return errnoError("cannot open the observation BPF object");
  auto* skeleton = observer->skeleton_.get();

  for (uint16_t port : options.watchedPorts) {
    skeleton->rodata->watched_ports[port >> 3] |= static_cast<uint8_t>(1u << (port & 7));
  }
  if (int err = observe_bpf__load(skeleton); err != 0) {
    return makeError("cannot load the observation BPF programs (run with --verbose for the verifier log)", -err);
  }

  ProgramAttachment attachments[] = {
      {"connect4", skeleton->progs.connect4, &skeleton->links.connect4},
      {"connect6", skeleton->progs.connect6, &skeleton->links.connect6},
      {"sendmsg4", skeleton->progs.sendmsg4, &skeleton->links.sendmsg4},
      {"sendmsg6", skeleton->progs.sendmsg6, &skeleton->links.sendmsg6},
      {"egress_tls_hello", skeleton->progs.egress_tls_hello, &skeleton->links.egress_tls_hello},
      {"ingress_dns_answer", skeleton->progs.ingress_dns_answer, &skeleton->links.ingress_dns_answer},
  };
  for (auto& attachment : attachments) {
    // The link is owned by the skeleton: observe_bpf__destroy() detaches it.
    *attachment.link = bpf_program__attach_cgroup(attachment.program, cgroup.get());
    if (!*attachment.link) {
      int err = errno;
      if (err == EINVAL || err == EOPNOTSUPP) {
        return makeError(std::string("kernel too old: cannot attach ") + attachment.name +
                         " through a BPF link (needs Linux 5.7 or later)",
                         err);
      }
      return makeError(std::string("cannot attach ") + attachment.name + " to " + options.cgroupPath, err);
    }
  }

  observer->ring_.reset(ring_buffer__new(bpf_map__fd(skeleton->maps.events), &Observer::onRecord,
                                         observer.get(), nullptr));
  if (!observer->ring_) return errnoError("cannot set up the BPF ring buffer");
  return observer;
}

Observer::~Observer() = default;

int Observer::onRecord(void* context, void* data, size_t size) {
  auto* self = static_cast<Observer*>(context);
  if (size < sizeof(shadowai_event_header)) {
    ++self->malformedRecords_;
    return 0;
  }
  RawEvent event;
  event.header = static_cast<const shadowai_event_header*>(data);
  const uint32_t kind = event.header->kind;
  if (kind == SHADOWAI_EV_TLS_HELLO || kind == SHADOWAI_EV_DNS_ANSWER) {
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

Result<int> Observer::poll(int timeoutMs) {
  int delivered = ring_buffer__poll(ring_.get(), timeoutMs);
  if (delivered < 0 && delivered != -EINTR) return makeError("reading the BPF ring buffer failed", -delivered);
  return delivered < 0 ? 0 : delivered;
}

Result<int> Observer::drain() {
  int delivered = ring_buffer__consume(ring_.get());
  if (delivered < 0) return makeError("reading the BPF ring buffer failed", -delivered);
  return delivered;
}

LostEventCounts Observer::lostEvents() const {
  LostEventCounts totals{};
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return totals;
  std::vector<uint64_t> perCpu(static_cast<size_t>(cpus));
  int fd = bpf_map__fd(skeleton_->maps.lost_events);
  for (uint32_t slot = 0; slot < SHADOWAI_LOST_SLOTS; ++slot) {
    if (bpf_map_lookup_elem(fd, &slot, perCpu.data()) != 0) continue;
    for (uint64_t value : perCpu) totals[slot] += value;
  }
  return totals;
}

}  // namespace shadowai
