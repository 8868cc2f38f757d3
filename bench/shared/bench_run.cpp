#include "shared/bench_run.h"

#include <signal.h>
#include <sys/utsname.h>
#include <time.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "common/file_util.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace shadowai::bench {

std::atomic<bool> stopRequested{false};

std::string& benchName() {
  static std::string name = "bench";
  return name;
}

void benchMessage(const std::string& line) { std::fprintf(stderr, "%s: %s\n", benchName().c_str(), line.c_str()); }

void installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = [](int) { stopRequested.store(true); };
  sigemptyset(&action.sa_mask);
  for (int number : {SIGINT, SIGTERM, SIGHUP}) sigaction(number, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

uint64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

std::string kernelRelease() {
  utsname name{};
  return ::uname(&name) == 0 ? name.release : "unknown";
}

std::string loadAverage() {
  auto text = readFile("/proc/loadavg");
  if (!text) return "?";
  return text->substr(0, text->find(' '));
}

std::string besideThisBinary(const std::string& relative) {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return relative;
  return (self.parent_path() / relative).lexically_normal().string();
}

Result<rlim_t> raiseOpenFileLimit(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return errnoError("getrlimit");
  if (limit.rlim_max < needed) {
    return makeError("RLIMIT_NOFILE (hard) " + std::to_string(limit.rlim_max) + " is below the " +
                     std::to_string(needed) + " open files this run needs");
  }
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return errnoError("cannot raise RLIMIT_NOFILE");
  return limit.rlim_max;
}

Status enterBenchWorld() {
  if (auto entered = test::enterTestNamespaces(); !entered) return entered;
  // No DNS server, as in the interception tests: the daemon's start-up resolution of the catalog
  // fails at once instead of waiting on the host's resolver, which this network namespace cannot
  // reach.
  if (auto set = test::setResolvConf("nameserver 127.0.0.53\noptions timeout:1 attempts:1\n"); !set) return set;
  test::removeStaleTestCgroups();
  test::removeStaleTestScratch();
  return {};
}

}  // namespace shadowai::bench
