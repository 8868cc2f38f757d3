// TestCgroup: a cgroup v2 directory a test creates for the processes it starts, removed with them
// when the test ends (cgroup.kill, wait until empty, rmdir), even when an assertion failed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace shadowai::test {

class TestCgroup {
 public:
  // <cgroup v2 root>/shadowai-test-<test pid>-<name> (with a suffix if that exists already).
  static Result<TestCgroup> create(const std::string& name);
  // A nested cgroup <this>/<name>. Destroy it before its parent (declare it after); a parent still
  // removes what is left below it.
  Result<TestCgroup> createChild(const std::string& name) const;

  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;
  TestCgroup(TestCgroup&& other) noexcept;
  TestCgroup& operator=(TestCgroup&& other) noexcept;
  ~TestCgroup();

  // Absolute directory, e.g. "/sys/fs/cgroup/unified/shadowai-test-123-scan".
  const std::string& path() const { return path_; }
  // From the cgroup v2 root, as in /proc/PID/cgroup: "/shadowai-test-123-scan".
  const std::string& relativePath() const { return relativePath_; }
  // The kernel's cgroup id (what bpf_get_current_cgroup_id() returns inside it).
  uint64_t id() const { return id_; }

  Status addProcess(pid_t pid) const;
  // The pids directly in this cgroup (not in its children).
  Result<std::vector<pid_t>> processes() const;

 private:
  TestCgroup(std::string root, std::string relativePath, uint64_t id);
  void remove();

  std::string root_;
  std::string relativePath_;
  std::string path_;
  uint64_t id_ = 0;
};

// Removes empty shadowai-test-<pid>-* cgroups left behind by test processes that no longer exist
// (killed on a timeout before their destructors ran). Cgroups that still hold processes are left alone.
void removeStaleTestCgroups();

}  // namespace shadowai::test
