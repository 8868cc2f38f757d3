// CgroupMembership: this whole process (every thread) in a cgroup for as long as it lives, and back
// in the cgroup it came from afterwards, so that the cgroup can be removed (TestCgroup kills what is
// still in it). Sockets remember the cgroup of the task that created them, so sockets made before
// joining stay outside.
#pragma once

#include <string>

#include "common/result.h"
#include "support/test_cgroup.h"

namespace shadowai::bench {

class CgroupMembership {
 public:
  static Result<CgroupMembership> join(const test::TestCgroup& cgroup);
  CgroupMembership(CgroupMembership&& other) noexcept;
  CgroupMembership& operator=(CgroupMembership&&) = delete;
  CgroupMembership(const CgroupMembership&) = delete;
  CgroupMembership& operator=(const CgroupMembership&) = delete;
  ~CgroupMembership();

 private:
  explicit CgroupMembership(std::string originalPath) : originalPath_(std::move(originalPath)) {}
  std::string originalPath_;  // absolute; empty once moved from
};

}  // namespace shadowai::bench
