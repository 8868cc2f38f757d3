// ShadowaidUnderTest: the real shadowaid as a child of a test or benchmark, with every file of its
// own in one directory: the configuration it writes (shadowaid.json), state/ (its CA), run/ (the
// control socket) and bpf/ (its pins, on a private bpffs). It starts the daemon and waits until
// `shadowai status` answers, runs the CLI against it, reads its status and the alerts it sent to the
// test's journald, and stops it and removes its pins (which detaches its programs) when it goes.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "support/child_process.h"
#include "support/journald.h"
#include "support/run_command.h"

namespace shadowai::test {

struct ShadowaidSettings {
  std::string daemonBinary;
  std::string cliBinary;
  std::string directory;     // holds every file of the daemon (see above); the caller owns it
  std::string attachCgroup;  // from the cgroup v2 root, e.g. "/shadowai-test-123-daemon"; never "/"
  // Its stdout and stderr: captured (output()) when empty, or appended to this file.
  std::string logPath;
  // With logPath: JOURNAL_STREAM names the log file, so the daemon behaves as under systemd, where
  // stderr is the journal and alerts are not written to it a second time.
  bool logIsJournalStream = false;
  std::vector<std::pair<std::string, std::string>> environment;
  std::optional<rlim_t> openFileLimit;
  // Benchmarks: SIGTERM and a process group of its own (see SpawnOptions).
  int parentDeathSignal = SIGKILL;
  bool ownProcessGroup = false;
  // Set when the run is being interrupted (a benchmark's Ctrl-C): start() gives up waiting.
  const std::atomic<bool>* interrupted = nullptr;
  // Where its alerts go, for waitForAlerts(); may be null.
  TestJournald* journald = nullptr;
  // Problems met while the destructor takes the daemon down (there is no one to return them to).
  std::function<void(const std::string&)> reportProblem;
};

class ShadowaidUnderTest {
 public:
  static constexpr auto kStartTimeout = std::chrono::seconds(20);
  static constexpr auto kStopTimeout = std::chrono::seconds(10);
  static constexpr auto kCliTimeout = std::chrono::seconds(60);
  static constexpr auto kAlertTimeout = std::chrono::seconds(10);
  static constexpr int kProxyPort = 15443;

  // Creates the directory's bpf/ and mounts a private bpffs on it (inside the test namespaces only).
  static Result<std::unique_ptr<ShadowaidUnderTest>> create(ShadowaidSettings settings);
  // Stops it and removes its pins, if not done already; problems go to settings.reportProblem.
  ~ShadowaidUnderTest();
  ShadowaidUnderTest(const ShadowaidUnderTest&) = delete;
  ShadowaidUnderTest& operator=(const ShadowaidUnderTest&) = delete;

  std::string path(const std::string& name) const { return settings_.directory + "/" + name; }
  std::string configPath() const { return path("shadowaid.json"); }
  std::string socketPath() const { return path("run/control.sock"); }
  std::string stateDir() const { return path("state"); }
  std::string pinDir() const { return path("bpf"); }
  // The daemon's own CA, which signs what enforced workloads see of LLM hosts.
  std::string caPath() const { return path("state/ca/ca.pem"); }

  // What every user of it configures alike: its directories, the attach cgroup, no control group,
  // no catalog directories besides the shipped catalog, the proxy on 127.0.0.1 and ::1 port
  // kProxyPort, and the shipped default policy.
  nlohmann::json baseConfig() const;
  // Writes baseConfig() with the top-level keys of OVERRIDES in place of its own. Refuses to attach
  // to the root cgroup: the programs would govern every process on the host.
  Status writeConfig(const nlohmann::json& overrides = nlohmann::json::object());

  // Starts it (under PREFIX, e.g. prlimit or setpriv, when given) with the configuration written,
  // and returns once `shadowai status` answers; an error with its output when it exits or does not
  // answer within kStartTimeout. Starts it again once the last one has gone.
  Status start(std::vector<std::string> prefix = {});
  bool running();
  pid_t pid() const;
  Status sendSignal(int signal);
  // Its exit code; on timeout it is killed and the result is an error.
  Result<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after kStopTimeout (an error then says so).
  Status stop();
  // SIGKILL and reap, as a crash would end it.
  void kill();
  // `shadowaid --config ... --remove-pins`, once the configuration was written.
  Status removePins();

  // `shadowai --socket <its socket> ARGS...`, whatever its exit code.
  Result<RunResult> cli(std::vector<std::string> args, std::chrono::milliseconds timeout = kCliTimeout);
  // `shadowai status --json`, parsed; an error when it fails or prints no JSON object.
  Result<nlohmann::json> status(std::chrono::milliseconds timeout = kCliTimeout);
  Status enforce(const std::string& cgroup);

  // Its stdout and stderr so far, and the same labelled for assertion messages.
  std::string output() const;
  std::string describeOutput() const;
  std::string outputTail(size_t keep = 2000) const;

  // Its alerts of KIND (the short name) with every FIELD=VALUE of MATCHES, once there are COUNT;
  // an error saying how many there were after TIMEOUT.
  Result<std::vector<nlohmann::json>> waitForAlerts(const std::string& kind, std::vector<std::string> matches,
                                                    size_t count, std::chrono::milliseconds timeout = kAlertTimeout);
  // Everything it sent to the journal, once there is at least one entry.
  Result<std::vector<nlohmann::json>> waitForJournal(std::chrono::milliseconds timeout = kAlertTimeout);

 private:
  explicit ShadowaidUnderTest(ShadowaidSettings settings) : settings_(std::move(settings)) {}
  SpawnOptions spawnOptions() const;
  void report(const std::string& problem) const;

  const ShadowaidSettings settings_;
  std::unique_ptr<ChildProcess> process_;
  bool configWritten_ = false;
};

// A counter of the proxy in `shadowai status --json`; 0 when absent.
uint64_t proxyCounter(const nlohmann::json& status, const char* name);

}  // namespace shadowai::test
