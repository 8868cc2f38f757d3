// The cgroup v2 filesystem: where it is mounted, the kernel's id of a cgroup, the id -> path map the
// daemon needs to name the cgroup behind a BPF event, and the cgroup of a process.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace shadowai {

// The cgroup v2 mount point, from a mountinfo file (fstype "cgroup2"). Error "no cgroup v2 hierarchy
// is mounted" when there is none. A mount of the hierarchy's root wins over a bind mount of a subtree,
// because the paths in /proc/PID/cgroup are relative to the root.
Result<std::string> findCgroup2Mount(const std::string& mountinfoPath = "/proc/self/mountinfo");

// The kernel's cgroup id of a cgroup v2 directory: what bpf_get_current_cgroup_id() returns. That is
// the kernfs node id, which kernfs hands out as its 8-byte file handle; on 64-bit kernels it is also
// the inode number (checked on 6.x), which is the fallback where file handles are not available.
Result<uint64_t> cgroupIdOfPath(const std::string& absolutePath);

// How deep RELATIVE_PATH ("/a/b", from the cgroup v2 root) lies: "/" is 0, "/a/b" is 2. The level
// bpf_get_current_ancestor_cgroup_id() takes to name that cgroup from below.
unsigned cgroupLevelOf(std::string_view relativePath);

// True when cgroup path `path` is `ancestor` or lies below it: "/a" covers "/a" and "/a/b", not "/ab".
bool isCgroupPathWithin(std::string_view path, std::string_view ancestor);

// The cgroup v2 path of a process, relative to the hierarchy root, from the "0::" line of
// /proc/PID/cgroup.
Result<std::string> cgroupPathOfProcess(int pid, const std::string& procRoot = "/proc");

// Cgroup id -> path relative to the cgroup v2 root ("/system.slice/foo.service", "/" for the root).
// Walks the hierarchy on construction and again on a miss, at most once per minRewalkInterval, so a
// storm of unknown ids cannot become a storm of directory walks. A cgroup that vanished keeps its last
// known path (events about a short-lived container often arrive after it is gone), up to a bound so
// container churn cannot grow the map without limit. Thread-safe.
class CgroupPathCache {
 public:
  // How many vanished cgroups are remembered by default.
  static constexpr size_t kDefaultMaxVanished = 4096;

  explicit CgroupPathCache(std::string cgroup2Root,
                           std::chrono::milliseconds minRewalkInterval = std::chrono::seconds(1),
                           size_t maxVanished = kDefaultMaxVanished);

  std::optional<std::string> pathOf(uint64_t cgroupId);

 private:
  void walkLocked();

  const std::string root_;
  const std::chrono::milliseconds minRewalkInterval_;
  const size_t maxVanished_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point lastWalk_;
  std::unordered_map<uint64_t, std::string> live_;
  std::unordered_map<uint64_t, std::string> vanished_;
  std::deque<uint64_t> vanishedOrder_;  // oldest first, for eviction
};

}  // namespace shadowai
