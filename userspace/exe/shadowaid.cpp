// shadowaid: the shadowai daemon. Continuous detection with journald alerts, per-cgroup enforce
// mode through the local proxy, and the control socket for the `shadowai` CLI. Runs in the
// foreground (systemd Type=notify), logs to stderr.
#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <string>

#include "bpf/daemon_programs.h"
#include "bpf/libbpf_log.h"
#include "daemon/daemon.h"

namespace {

std::atomic<bool> stopRequested{false};
std::atomic<int> stopSignal{0};  // which one, for the daemon-stopping alert
void onStopSignal(int signalNumber) {
  stopSignal.store(signalNumber);
  stopRequested.store(true);
}
std::atomic<bool> reloadRequested{false};
void onReloadSignal(int) { reloadRequested.store(true); }

int fail(const std::string& message) {
  std::fprintf(stderr, "shadowaid: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "shadowai daemon: detects workloads calling LLM APIs (journald alerts), and redirects the LLM\n"
      "calls of cgroups in enforce mode through its local proxy. Runs in the foreground; needs root.\n"
      "Change modes with the `shadowai` command.",
      "shadowaid"};
  app.set_version_flag("--version", std::string("shadowaid ") + SHADOWAI_VERSION);
  std::string configPath;
  bool verbose = false;
  bool removePins = false;
  app.add_option("--config", configPath,
                 std::string("Configuration file (default ") + shadowai::DaemonConfig::kDefaultPath +
                     "; a missing default file means all defaults)");
  app.add_flag("--verbose", verbose, "Print libbpf's debug messages (verifier logs)");
  app.add_flag("--remove-pins", removePins,
               "Detach enforcement: remove the pinned BPF links and maps of the configured instance, then exit "
               "(enforced cgroups go back to direct traffic)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }

  auto config = configPath.empty() ? shadowai::DaemonConfig::fromDefaultFile()
                                   : shadowai::DaemonConfig::fromFile(configPath);
  if (!config) return fail(config.error().describe());
  if (removePins) {
    auto removed = shadowai::DaemonPrograms::removePins(config->bpfPinDir);
    if (!removed) return fail(removed.error().describe());
    return 0;
  }

  // Bodies of large calls (megabytes) are mmapped and unmapped when freed, instead of growing the heap
  // to the largest burst and staying there (glibc's default threshold rises up to 32 MiB as such
  // blocks are freed, which keeps them on the heap).
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  shadowai::routeLibbpfLog(verbose);
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction reload {};
  reload.sa_handler = onReloadSignal;
  sigemptyset(&reload.sa_mask);
  sigaction(SIGHUP, &reload, nullptr);

  auto daemon = shadowai::Daemon::start(std::move(*config));
  if (!daemon) return fail(daemon.error().describe());
  std::fprintf(stderr, "shadowaid: running\n");
  auto ran = (*daemon)->run(stopRequested, &reloadRequested);
  if (const int signalNumber = stopSignal.load(); ran && signalNumber != 0) {
    (*daemon)->setStopReason(signalNumber == SIGTERM  ? "signal SIGTERM"
                             : signalNumber == SIGINT ? "signal SIGINT"
                                                      : "signal " + std::to_string(signalNumber));
  }
  daemon->reset();
  if (!ran) return fail(ran.error().describe());
  return 0;
}
