#include "shared/bench_daemon.h"

#include <signal.h>

#include "shared/bench_run.h"

namespace shadowai::bench {

test::ShadowaidSettings benchDaemonSettings(const BenchDaemon& daemon) {
  test::ShadowaidSettings settings;
  settings.daemonBinary = daemon.daemonBinary;
  settings.cliBinary = daemon.cliBinary;
  settings.directory = daemon.directory;
  settings.attachCgroup = daemon.attachCgroup;
  settings.logPath = daemon.directory + "/shadowaid.log";
  settings.parentDeathSignal = SIGTERM;
  settings.ownProcessGroup = true;
  settings.interrupted = &stopRequested;
  settings.reportProblem = benchMessage;
  return settings;
}

nlohmann::json benchDaemonConfig(unsigned proxyThreads) {
  return {
      {"failure_mode", "closed"},
      {"proxy",
       {{"listen_ipv4", "127.0.0.1"},
        {"listen_ipv6", "::1"},
        {"port", test::ShadowaidUnderTest::kProxyPort},
        {"threads", proxyThreads}}},
  };
}

}  // namespace shadowai::bench
