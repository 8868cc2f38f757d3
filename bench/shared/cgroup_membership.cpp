#include "shared/cgroup_membership.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "shared/bench_run.h"

namespace shadowai::bench {
namespace {

Status moveProcessTo(const std::string& cgroupPath) {
  const std::string procs = cgroupPath + "/cgroup.procs";
  const std::string pid = std::to_string(::getpid());
  Fd file(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  // Kernel control files take the value in one write.
  if (!file || ::write(file.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
    return errnoError("cannot move process " + pid + " into " + procs);
  }
  return {};
}

}  // namespace

Result<CgroupMembership> CgroupMembership::join(const test::TestCgroup& cgroup) {
  auto root = findCgroup2Mount();
  if (!root) return root.error();
  auto original = cgroupPathOfProcess(::getpid());
  if (!original) return original.error();
  if (auto moved = moveProcessTo(cgroup.path()); !moved) return moved.error();
  return CgroupMembership(*root + (*original == "/" ? "" : *original));
}

CgroupMembership::CgroupMembership(CgroupMembership&& other) noexcept
    : originalPath_(std::exchange(other.originalPath_, {})) {}

CgroupMembership::~CgroupMembership() {
  if (originalPath_.empty()) return;
  if (auto moved = moveProcessTo(originalPath_); !moved) benchMessage(moved.error().describe());
}

}  // namespace shadowai::bench
