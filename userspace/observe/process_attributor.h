// ProcessAttributor: fills a ProcessIdentity for an observation event from /proc (exe, cmdline,
// user) and from the cgroup hierarchy (cgroup id -> path). Keeps a short per-pid cache so a
// process opening a hundred connections costs one /proc read, not a hundred.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include "cgroup/cgroup_fs.h"
#include "observe/detection.h"
#include "shadowai/observe_events.h"

namespace shadowai {

class ProcessAttributor {
 public:
  ProcessAttributor(std::string cgroup2Root, std::string procRoot = "/proc");

  ProcessIdentity identify(const shadowai_event_header& header);
  std::string cgroupPathOf(uint64_t cgroupId);

 private:
  using Clock = std::chrono::steady_clock;
  struct Cached {
    ProcessIdentity identity;
    Clock::time_point readAt;
  };

  std::string procRoot_;
  CgroupPathCache cgroups_;
  std::unordered_map<int, Cached> byPid_;
  std::unordered_map<uint32_t, std::string> userNames_;
};

}  // namespace shadowai
