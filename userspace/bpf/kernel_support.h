// Checks, before loading anything, that this process and kernel can run the observation programs,
// so the user gets one line naming what is missing instead of a verifier dump.
#pragma once

#include "common/result.h"

namespace shadowai {

// Root (or CAP_BPF + CAP_NET_ADMIN + CAP_SYS_ADMIN), the bpf() syscall, cgroup sock_addr and
// cgroup_skb programs, and the BPF ring buffer.
Status checkKernelSupport();

}  // namespace shadowai
