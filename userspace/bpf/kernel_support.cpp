#include "bpf/kernel_support.h"

#include <bpf/libbpf.h>
#include <unistd.h>

#include <iterator>

namespace shadowai {
namespace {

struct FeatureProbe {
  const char* what;
  const char* since;
  int (*probe)();
};

int probeSockAddr() { return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, nullptr); }
int probeCgroupSkb() { return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SKB, nullptr); }
int probeRingbuf() { return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr); }
int probeSockOpsNetnsCookie() {
  return libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCK_OPS, BPF_FUNC_get_netns_cookie, nullptr);
}

}  // namespace

Status checkKernelSupport(KernelUse use) {
  if (geteuid() != 0) {
    return makeError("must run as root: loading eBPF programs needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN");
  }
  static const FeatureProbe probes[] = {
      {"cgroup sock_addr BPF programs (connect/sendmsg hooks)", "4.17", probeSockAddr},
      {"cgroup_skb BPF programs", "4.10", probeCgroupSkb},
      {"the BPF ring buffer", "5.8", probeRingbuf},
      {"bpf_get_netns_cookie() in sockops programs (enforce mode's connection records)", "5.15",
       probeSockOpsNetnsCookie},
  };
  const size_t count = use == KernelUse::kDaemon ? std::size(probes) : std::size(probes) - 1;
  for (size_t i = 0; i < count; ++i) {
    const FeatureProbe& feature = probes[i];
    int supported = feature.probe();
    if (supported == 1) continue;
    if (supported < 0 && (-supported == EPERM || -supported == EACCES)) {
      return makeError("the kernel refused to load BPF programs (is kernel.unprivileged_bpf_disabled or a "
                       "security module blocking bpf()?)",
                       -supported);
    }
    if (supported < 0 && -supported == ENOSYS) {
      return makeError("this kernel has no bpf() system call (built without CONFIG_BPF_SYSCALL)");
    }
    return makeError(std::string("kernel too old: it lacks ") + feature.what + " (needs Linux " + feature.since +
                     " or later)");
  }
  return {};
}

}  // namespace shadowai
