// ChildProcess: a program a test or benchmark starts (or a function it runs in a forked copy of
// itself), owned by its starter. Its output goes to files that stay readable after it exits; it dies
// with its owner (destructor: SIGKILL and reap) and, by default, with the thread that started it
// (PR_SET_PDEATHSIG), so a test that crashes leaves nothing running.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "common/result.h"
#include "support/temp_dir.h"

namespace shadowai::test {

struct SpawnOptions {
  // Added to (or replacing entries of) the test's own environment.
  std::vector<std::pair<std::string, std::string>> environment;
  // Names removed from the inherited environment (NOTIFY_SOCKET: a daemon under test notifies nobody).
  std::vector<std::string> unsetEnvironment;
  // A cgroup v2 directory the child joins before exec (it writes "0" to its cgroup.procs).
  std::string cgroupDirectory;
  std::string workingDirectory;
  // Capture stdout and stderr to files (see stdoutText()); otherwise they are the test's own.
  bool captureOutput = true;
  // Both stdout and stderr to this descriptor (a log file) instead; -1: captureOutput decides.
  int outputFd = -1;
  // Sent to the child when the thread that spawned it ends (0: nothing). Spawn from the test's
  // thread, not from a short-lived worker thread. A benchmark's daemon gets SIGTERM, so that a
  // benchmark killed with SIGKILL still lets it stop cleanly.
  int parentDeathSignal = SIGKILL;
  // A process group of its own, so a Ctrl-C at the terminal reaches the benchmark alone, which then
  // takes everything down in order.
  bool ownProcessGroup = false;
  // Soft and hard RLIMIT_NOFILE of the child; unset: the starter's.
  std::optional<rlim_t> openFileLimit;
};

class ChildProcess {
 public:
  // ARGV[0] is a path or a name looked up in PATH (the child's PATH, after SpawnOptions::environment).
  // Fails if the program cannot be found, the cgroup cannot be joined or exec fails.
  static Result<ChildProcess> spawn(std::vector<std::string> argv, SpawnOptions options = {});
  // Forks a copy of this process that runs BODY and exits with what it returns (a benchmark's client
  // worker). Only parentDeathSignal and ownProcessGroup of OPTIONS apply. Call it while the process
  // has a single thread: locks other threads hold would stay locked in the copy.
  static Result<ChildProcess> forkRunning(const std::function<int()>& body, SpawnOptions options = {});

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // Waits for the child to exit: its exit code, or 128 + signal number when a signal ended it. On
  // timeout the child is killed and reaped and the result is an error.
  Result<int> wait(std::chrono::milliseconds timeout);
  // False once the child has exited (it is reaped then; wait() still returns its status).
  bool running();
  Status sendSignal(int signal);

  // What the child wrote so far (or in all, once it has exited). Empty without captureOutput.
  std::string stdoutText() const;
  std::string stderrText() const;
  // Both, labelled, for assertion messages.
  std::string describeOutput() const;

 private:
  ChildProcess() = default;
  void killAndReap();
  void recordStatus(int waitStatus);

  pid_t pid_ = -1;
  Fd pidfd_;                      // signals go to this process, never to a recycled pid
  std::optional<int> exitCode_;   // set once reaped
  std::string command_;           // argv joined, for messages
  std::unique_ptr<TempDir> outputDir_;
};

}  // namespace shadowai::test
