// Who a process is, from /proc: user, command and cgroup, for alerts and the scan report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace shadowai {

struct ProcessInfo {
  int pid = 0;
  uint32_t uid = 0;      // effective uid, as ps shows it
  std::string userName;  // from the passwd database; the number as text when unknown
  std::string comm;
  std::string exe;       // empty when the link cannot be read (kernel thread, no permission)
  std::string cmdline;   // arguments joined by spaces, unprintable bytes as \xNN, at most kMaxCmdline bytes
  std::string cgroupPath;

  static constexpr size_t kMaxCmdline = 1024;
};

struct ProcessIdentity;  // observe/detection.h

// Reads /proc/PID/{status,comm,exe,cmdline,cgroup}. A process that has exited is an error (errnum
// ENOENT or ESRCH); an unreadable exe link is not.
Result<ProcessInfo> readProcessInfo(int pid, const std::string& procRoot = "/proc");

// Who PID is (user, comm, exe, cgroup path; not the command line), with CGROUP_ID as given. Reads
// /proc each time, without ProcessAttributor's cache, so any thread may call it (the proxy's threads
// name a connection's workload this way). Only pid and cgroupId are set when PID is 0 or has gone.
ProcessIdentity readProcessIdentity(uint32_t pid, uint64_t cgroupId);

// Who PID is, for the parts that alert about a process: readProcessIdentity in the daemon, a
// workload of the test's own in unit tests. Must be thread-safe where proxy threads call it.
using ProcessLookup = std::function<ProcessIdentity(uint32_t pid, uint64_t cgroupId)>;

// The user name of a uid, or the uid as text when the passwd database does not know it.
std::string userNameOf(uint32_t uid);

// Arguments from a NUL-separated /proc/PID/cmdline, joined by spaces, with bytes that are not
// printable ASCII (and the backslash) escaped as \xNN so nothing in a log line can forge another,
// and cut to at most maxBytes (ending in "...").
std::string formatCmdline(std::string_view raw, size_t maxBytes = ProcessInfo::kMaxCmdline);

}  // namespace shadowai
