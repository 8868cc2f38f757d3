// The real shadowaid as the benchmarks run it (support/shadowaid_under_test.h): its log in the run's
// directory, its own process group and SIGTERM when the benchmark dies (so that it still stops
// cleanly), giving up at a Ctrl-C, and problems told as the benchmark's messages.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "support/shadowaid_under_test.h"

namespace shadowai::bench {

struct BenchDaemon {
  std::string daemonBinary;
  std::string cliBinary;
  std::string directory;     // every file of the daemon, its log (shadowaid.log) too
  std::string attachCgroup;  // the benchmark's cgroup, from the cgroup v2 root
};

test::ShadowaidSettings benchDaemonSettings(const BenchDaemon& daemon);

// Fail closed, the proxy on its loopback port with PROXY_THREADS threads (0: one per CPU).
nlohmann::json benchDaemonConfig(unsigned proxyThreads);

}  // namespace shadowai::bench
