// The private world a benchmark runs in: its own network namespace (so its listeners and traffic
// touch nothing on the host) and its own cgroup v2 directory (so the programs it attaches see only
// its own sockets). Header-only because bench/CMakeLists.txt builds each *_bench.cpp on its own.
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "common/result.h"

namespace shadowai::bench {

// Must run before any thread starts: unshare(CLONE_NEWNET) moves only the calling thread.
inline Status enterOwnNetworkNamespace() {
  if (::unshare(CLONE_NEWNET) != 0) return errnoError("cannot create a network namespace");
  // A new namespace has lo down; 127.0.0.0/8 becomes reachable once it is up.
  Fd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!control) return errnoError("cannot open a control socket");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(control.get(), SIOCGIFFLAGS, &request) != 0) return errnoError("cannot read the flags of lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(control.get(), SIOCSIFFLAGS, &request) != 0) return errnoError("cannot bring lo up");
  return {};
}

namespace detail {

inline constexpr const char* kCgroupPrefix = "shadowai-bench-";

inline Status writeControlFile(const std::string& path, const std::string& value) {
  Fd file(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!file) return errnoError("cannot open " + path);
  // Kernel control files take the value in one write.
  if (::write(file.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return errnoError("cannot write " + value + " to " + path);
  }
  return {};
}

inline bool isPopulated(const std::string& cgroupPath) {
  auto events = readFile(cgroupPath + "/cgroup.events");
  return events && events->find("populated 1") != std::string::npos;
}

}  // namespace detail

// A cgroup directory right under the cgroup v2 root, named after this process, that the process
// moves itself into. Destroying it moves the process back where it came from and removes the
// directory, so nothing is left behind on a normal exit or an early return.
class BenchCgroup {
 public:
  static Result<BenchCgroup> create() {
    auto root = findCgroup2Mount();
    if (!root) return root.error();
    removeStale(*root);
    auto original = cgroupPathOfProcess(::getpid());
    if (!original) return original.error();
    BenchCgroup cgroup;
    cgroup.originalPath_ = *root + (*original == "/" ? "" : *original);
    const std::string path = *root + "/" + detail::kCgroupPrefix + std::to_string(::getpid());
    if (::mkdir(path.c_str(), 0755) != 0) return errnoError("cannot create cgroup " + path);
    cgroup.path_ = path;
    auto id = cgroupIdOfPath(path);
    if (!id) return id.error();
    cgroup.id_ = *id;
    return cgroup;
  }

  BenchCgroup(BenchCgroup&& other) noexcept
      : path_(std::exchange(other.path_, {})),
        originalPath_(std::move(other.originalPath_)),
        id_(other.id_),
        joined_(std::exchange(other.joined_, false)) {}
  BenchCgroup& operator=(BenchCgroup&&) = delete;
  BenchCgroup(const BenchCgroup&) = delete;
  BenchCgroup& operator=(const BenchCgroup&) = delete;
  ~BenchCgroup() { remove(); }

  // Moves the whole process (every thread) in. Sockets remember the cgroup of the task that created
  // them, so sockets made before this call stay outside the observed cgroup.
  Status join() {
    auto status = detail::writeControlFile(path_ + "/cgroup.procs", std::to_string(::getpid()));
    if (status) joined_ = true;
    return status;
  }

  const std::string& path() const { return path_; }
  uint64_t id() const { return id_; }

 private:
  BenchCgroup() = default;

  void remove() {
    if (path_.empty()) return;
    if (joined_) {
      if (auto status = detail::writeControlFile(originalPath_ + "/cgroup.procs", std::to_string(::getpid()));
          !status) {
        std::fprintf(stderr, "connect_bench: %s\n", status.error().describe().c_str());
      }
      joined_ = false;
    }
    // The kernel empties a cgroup asynchronously after its last task leaves.
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) {
        path_.clear();
        return;
      }
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::fprintf(stderr, "connect_bench: cannot remove cgroup %s: %s\n", path_.c_str(), std::strerror(errno));
    path_.clear();
  }

  // A benchmark killed with SIGKILL leaves its (empty) directory behind; the next run removes it.
  static void removeStale(const std::string& root) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(detail::kCgroupPrefix, 0) != 0) continue;
      const pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + std::strlen(detail::kCgroupPrefix)));
      if (owner <= 0 || ::kill(owner, 0) == 0 || errno != ESRCH) continue;
      if (detail::isPopulated(entry.path().string())) continue;
      ::rmdir(entry.path().c_str());
    }
  }

  std::string path_;
  std::string originalPath_;
  uint64_t id_ = 0;
  bool joined_ = false;
};

}  // namespace shadowai::bench
