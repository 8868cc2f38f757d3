// Checks, before loading anything, that this process and kernel can run the observation programs,
// so the user gets one line naming what is missing instead of a verifier dump.
#pragma once

#include "common/result.h"

namespace shadowai {

enum class KernelUse {
  kObserve,  // shadowai-scan's programs
  kDaemon,   // shadowaid's: observation plus enforce mode
};

// Root (or CAP_BPF + CAP_NET_ADMIN + CAP_SYS_ADMIN), the bpf() syscall, cgroup sock_addr and
// cgroup_skb programs, and the BPF ring buffer; for the daemon also sockops programs that can read
// their network namespace's cookie (the key of a redirected connection's record, Linux 5.15).
Status checkKernelSupport(KernelUse use = KernelUse::kObserve);

}  // namespace shadowai
