// Which network namespaces enforced workloads live in, besides the daemon's own: the ones the proxy
// must listen in, because enforce mode rewrites a connect to the proxy's loopback address in the
// connecting process's own namespace (see net/network_namespace.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "cgroup/mode.h"
#include "common/result.h"

namespace shadowai {

struct EnforcedNamespace {
  uint64_t inode = 0;      // the namespace: /proc/PID/ns/net's inode; 0 when it could not be read
  pid_t pid = 0;           // one enforced process in it (the first found): to open it, and for alerts
  std::string cgroupPath;  // that process's cgroup, relative to the cgroup v2 root
  std::string unreadable;  // with inode 0: why /proc/PID/ns/net could not be read
};

// The daemon's own network namespace, as findEnforcedNamespaces() compares processes with it.
struct OwnNamespace {
  uint64_t inode = 0;         // /proc/self/ns/net
  uint64_t procNetInode = 0;  // /proc/self/net/dev: see findEnforcedNamespaces()
};
Result<OwnNamespace> ownNamespace();

// The namespace of one enforced process PID of cgroup CGROUP_PATH, keyed as findEnforcedNamespaces()
// keys it; nothing when it lives in OWN or has exited.
std::optional<std::pair<uint64_t, EnforcedNamespace>> enforcedNamespaceOf(pid_t pid, const std::string& cgroupPath,
                                                                           const OwnNamespace& own);

// Walks the cgroups whose effective mode in MODES (own entries, as ModeStore::all() gives them) is
// enforce, below the cgroup v2 mount CGROUP2_ROOT, and returns the network namespaces of their
// processes other than OWN, keyed by namespace inode. Processes that exit meanwhile and cgroups
// that vanish are skipped; nothing here fails.
// Reading /proc/PID/ns/net takes ptrace read access, which a daemon without CAP_SYS_ADMIN (or
// CAP_SYS_PTRACE) lacks for root's processes. Such a process is still told apart by its
// /proc/PID/net/dev (each namespace has its own, and /proc hands out inode numbers from the same
// allocator as namespaces, so the two cannot clash): when that differs from OWN's, it comes back
// keyed by that inode, with `inode` 0 and `unreadable` saying why.
std::map<uint64_t, EnforcedNamespace> findEnforcedNamespaces(const std::string& cgroup2Root,
                                                             const std::map<std::string, Mode>& modes,
                                                             const OwnNamespace& own);

}  // namespace shadowai
