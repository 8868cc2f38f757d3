#include "observe/process_attributor.h"

#include "observe/process_info.h"

namespace shadowai {
namespace {
// A pid is reused only after the pid space wraps; within this window the cached exe is right.
constexpr std::chrono::seconds kPidCacheLifetime{5};
constexpr size_t kPidCacheLimit = 16384;
}  // namespace

ProcessAttributor::ProcessAttributor(std::string cgroup2Root, std::string procRoot)
    : procRoot_(std::move(procRoot)), cgroups_(std::move(cgroup2Root)) {}

std::string ProcessAttributor::cgroupPathOf(uint64_t cgroupId) {
  if (cgroupId == 0) return {};
  return cgroups_.pathOf(cgroupId).value_or(std::string());
}

ProcessIdentity ProcessAttributor::identify(const shadowai_event_header& header) {
  const auto now = Clock::now();
  ProcessIdentity identity;
  const int pid = static_cast<int>(header.pid);
  if (pid != 0) {
    auto cached = byPid_.find(pid);
    if (cached != byPid_.end() && now - cached->second.readAt < kPidCacheLifetime &&
        cached->second.identity.cgroupId == header.cgroup_id) {
      return cached->second.identity;
    }
  }

  identity.pid = pid;
  identity.uid = header.uid;
  identity.cgroupId = header.cgroup_id;
  identity.comm.assign(header.comm, strnlen(header.comm, sizeof(header.comm)));
  if (pid != 0) {
    if (auto info = readProcessInfo(pid, procRoot_)) {
      identity.exe = info->exe;
      identity.cmdline = info->cmdline;
      if (!info->comm.empty()) identity.comm = info->comm;
    }
  }
  auto user = userNames_.find(identity.uid);
  if (user == userNames_.end()) user = userNames_.emplace(identity.uid, userNameOf(identity.uid)).first;
  identity.userName = user->second;
  identity.cgroupPath = cgroupPathOf(header.cgroup_id);

  if (pid != 0) {
    if (byPid_.size() >= kPidCacheLimit) byPid_.clear();
    byPid_[pid] = Cached{identity, now};
  }
  return identity;
}

}  // namespace shadowai
