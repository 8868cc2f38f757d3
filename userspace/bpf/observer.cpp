#include "bpf/observer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "shadowai/enforce_types.h"
#include "observe.skel.h"

namespace shadowai {

void Observer::SkeletonDeleter::operator()(observe_bpf* skeleton) const { observe_bpf__destroy(skeleton); }

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
  observer->skeleton_.reset(observe_bpf__open());
  if (!observer->skeleton_) return errnoError("cannot open the observation BPF object");
  auto* skeleton = observer->skeleton_.get();

  for (uint16_t port : options.watchedPorts) {
    skeleton->rodata->watched_ports[port >> 3] |= static_cast<uint8_t>(1u << (port & 7));
  }
  auto scopeId = cgroupIdOfPath(options.cgroupPath);
  if (!scopeId) return scopeId.error();
  skeleton->rodata->scope_cgroup_id = *scopeId;
  skeleton->rodata->scope_cgroup_level = options.cgroupLevel;
  if (!options.daemonPinDir.empty()) observer->shareDaemonRedirects(options.daemonPinDir);
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

  // Not on the cgroup: execve() anywhere, reported for tasks inside it.
  skeleton->links.process_exec = bpf_program__attach(skeleton->progs.process_exec);
  if (!skeleton->links.process_exec) {
    return makeError("cannot attach the exec tracepoint program (needs BTF-enabled tracepoints, Linux 5.5)", errno);
  }

  auto events = EventReader::create(bpf_map__fd(skeleton->maps.events), bpf_map__fd(skeleton->maps.lost_events),
                                    std::move(handler));
  if (!events) return events.error();
  observer->events_ = std::move(*events);
  return observer;
}

void Observer::shareDaemonRedirects(const std::string& pinDir) {
  const std::string pinned = pinDir + "/original_dst";
  Fd map(bpf_obj_get(pinned.c_str()));
  if (!map) return;  // no daemon (or not ours to open): nothing was redirected
  bpf_map_info info{};
  uint32_t length = sizeof(info);
  // Only a map of the same shape: another version's would make the load fail.
  if (bpf_obj_get_info_by_fd(map.get(), &info, &length) != 0 || info.type != BPF_MAP_TYPE_SK_STORAGE ||
      info.value_size != sizeof(shadowai_original_dst)) {
    return;
  }
  if (bpf_map__reuse_fd(skeleton_->maps.original_dst, map.get()) == 0) sharesDaemonRedirects_ = true;
}

Observer::~Observer() {
  events_.reset();  // before the skeleton closes the ring buffer map
}

}  // namespace shadowai
