// The processes a benchmark starts (programs it runs, workers it forks) and what /proc says about a
// process: memory, open files, CPU time, limits. Header-only because bench/CMakeLists.txt builds each
// *_bench.cpp on its own.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "common/file_util.h"
#include "common/result.h"

extern char** environ;

namespace shadowai::bench {

// A child this benchmark started. Until it is reaped its pid cannot go to another process, so
// signalling it by pid is safe; the destructor kills (SIGKILL) and reaps whatever still runs.
class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), exitCode_(std::exchange(other.exitCode_, std::nullopt)) {}
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
      killAndReap();
      pid_ = std::exchange(other.pid_, -1);
      exitCode_ = std::exchange(other.exitCode_, std::nullopt);
    }
    return *this;
  }
  ~ChildProcess() { killAndReap(); }

  pid_t pid() const { return pid_; }

  // False once the child has exited (it is reaped then).
  bool running() {
    if (pid_ <= 0 || exitCode_) return false;
    int status = 0;
    const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) record(status);
    return !exitCode_;
  }

  Status signal(int number) {
    if (!running()) return makeError("process " + std::to_string(pid_) + " has exited");
    if (::kill(pid_, number) != 0) return errnoError("cannot signal process " + std::to_string(pid_));
    return {};
  }

  // The exit code (128 + signal when a signal ended it), or nullopt when TIMEOUT passed first.
  std::optional<int> waitFor(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exitCode_;
  }

  void killAndReap() {
    if (pid_ <= 0 || exitCode_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    record(status);
  }

 private:
  void record(int status) {
    exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }

  pid_t pid_ = -1;
  std::optional<int> exitCode_;
};

struct ExecSettings {
  int stdoutFd = -1;  // the child's stdout (-1: this process's own)
  int stderrFd = -1;  // the child's stderr (-1: this process's own)
  // Sent to the child when the thread that started it ends, so a benchmark killed with SIGKILL
  // leaves nothing running. Start children from the main thread only.
  int deathSignal = SIGKILL;
  std::vector<std::string> dropEnvironment;  // e.g. NOTIFY_SOCKET: a benchmark's daemon notifies nobody
  std::vector<std::string> addEnvironment;   // NAME=VALUE entries, in place of any inherited NAME
  std::optional<rlim_t> openFileLimit;       // soft and hard RLIMIT_NOFILE of the child
};

namespace detail {

// In the child between fork and exec (or the worker body): only async-signal-safe calls, because
// the parent may have other threads whose locks were copied mid-way. Its own process group, so a
// Ctrl-C at the terminal reaches the benchmark alone, which then takes everything down in order.
inline bool becomeChild(pid_t parent, int deathSignal) {
  ::setpgid(0, 0);
  if (::prctl(PR_SET_PDEATHSIG, deathSignal) != 0) return false;
  return ::getppid() == parent;  // the parent died before prctl: nobody would ever stop us
}

}  // namespace detail

// Starts ARGV[0] (a path). Returns once exec has succeeded, or with exec's error.
inline Result<ChildProcess> spawnProgram(const std::vector<std::string>& argv, const ExecSettings& settings) {
  if (argv.empty()) return makeError("nothing to run");
  // Everything the child needs is built before fork: the child may not allocate.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> environment;
  std::vector<std::string> replaced = settings.dropEnvironment;
  for (const auto& entry : settings.addEnvironment) replaced.push_back(entry.substr(0, entry.find('=')));
  for (char** entry = environ; *entry != nullptr; ++entry) {
    bool dropped = false;
    for (const auto& name : replaced) {
      dropped = dropped || (std::strncmp(*entry, name.c_str(), name.size()) == 0 && (*entry)[name.size()] == '=');
    }
    if (!dropped) environment.push_back(*entry);
  }
  for (const auto& entry : settings.addEnvironment) environment.push_back(const_cast<char*>(entry.c_str()));
  environment.push_back(nullptr);

  // Exec's errno comes back through this pipe; it closes without a word when exec succeeds.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return errnoError("cannot create a pipe");
  Fd reportRead(report[0]);
  Fd reportWrite(report[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return errnoError("cannot fork");
  if (pid == 0) {
    int failure = 0;
    if (!detail::becomeChild(parent, settings.deathSignal)) ::_exit(127);
    if (settings.openFileLimit) {
      const rlimit limit{*settings.openFileLimit, *settings.openFileLimit};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) failure = errno;
    }
    if (settings.stdoutFd >= 0 && ::dup2(settings.stdoutFd, STDOUT_FILENO) < 0) failure = errno;
    if (settings.stderrFd >= 0 && ::dup2(settings.stderrFd, STDERR_FILENO) < 0) failure = errno;
    ::signal(SIGPIPE, SIG_DFL);  // ignored here; an ignored signal would stay ignored across exec
    if (failure == 0) {
      ::execve(args[0], args.data(), environment.data());
      failure = errno;
    }
    [[maybe_unused]] ssize_t ignored = ::write(reportWrite.get(), &failure, sizeof(failure));
    ::_exit(127);
  }
  ChildProcess child(pid);
  reportWrite.reset();
  int childErrno = 0;
  ssize_t got;
  while ((got = ::read(reportRead.get(), &childErrno, sizeof(childErrno))) < 0 && errno == EINTR) {
  }
  if (got > 0) {
    child.killAndReap();
    return makeError("cannot run " + argv[0], childErrno);
  }
  return child;
}

// Forks a worker that runs BODY and exits. Call it while the process has a single thread: the
// child is a copy of this process without exec, and locks held by other threads would stay locked.
inline Result<ChildProcess> forkWorker(const std::function<int()>& body, int deathSignal = SIGKILL) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return errnoError("cannot fork");
  if (pid == 0) {
    if (!detail::becomeChild(parent, deathSignal)) ::_exit(127);
    // _exit: the parent's atexit handlers and static destructors are not the worker's to run.
    ::_exit(body());
  }
  return ChildProcess(pid);
}

struct CommandOutput {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// Runs ARGV[0] to the end with its output captured; killed (and an error) after TIMEOUT.
inline Result<CommandOutput> runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int outPipe[2];
  int errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0) return errnoError("cannot create a pipe");
  Fd outRead(outPipe[0]);
  Fd outWrite(outPipe[1]);
  if (::pipe2(errPipe, O_CLOEXEC) != 0) return errnoError("cannot create a pipe");
  Fd errRead(errPipe[0]);
  Fd errWrite(errPipe[1]);
  ExecSettings settings;
  settings.stdoutFd = outWrite.get();
  settings.stderrFd = errWrite.get();
  auto child = spawnProgram(argv, settings);
  if (!child) return child.error();
  outWrite.reset();
  errWrite.reset();

  CommandOutput output;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string* sinks[2] = {&output.out, &output.err};
  pollfd fds[2] = {{outRead.get(), POLLIN, 0}, {errRead.get(), POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return makeError(argv[0] + " did not finish in time");
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) return errnoError("poll");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto code = child->waitFor(std::max(left, std::chrono::milliseconds(100)));
  if (!code) return makeError(argv[0] + " did not exit in time");
  output.exitCode = *code;
  return output;
}

// ---------------------------------------------------------------------------------------------
// /proc

struct MemoryFigures {
  uint64_t rssKiB = 0;  // VmRSS: resident pages, shared libraries included
  uint64_t pssKiB = 0;  // Pss from smaps_rollup: shared pages divided among their users
  uint64_t openFiles = 0;
  uint64_t threads = 0;
};

namespace detail {

// The number after "KEY" in a "Key:   value ..." line of TEXT.
inline std::optional<uint64_t> procField(const std::string& text, const std::string& key) {
  size_t at = text.rfind("\n" + key, std::string::npos);
  if (at == std::string::npos) {
    if (text.rfind(key, 0) != 0) return std::nullopt;
    at = 0;
  } else {
    ++at;
  }
  return std::strtoull(text.c_str() + at + key.size(), nullptr, 10);
}

}  // namespace detail

inline Result<MemoryFigures> readMemoryFigures(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  auto status = readFile(base + "/status");
  if (!status) return status.error();
  auto rollup = readFile(base + "/smaps_rollup");
  if (!rollup) return rollup.error();
  MemoryFigures figures;
  figures.rssKiB = detail::procField(*status, "VmRSS:").value_or(0);
  figures.threads = detail::procField(*status, "Threads:").value_or(0);
  figures.pssKiB = detail::procField(*rollup, "Pss:").value_or(0);
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator(base + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++figures.openFiles;
  }
  if (error) return makeError("cannot list " + base + "/fd: " + error.message());
  return figures;
}

struct OpenFileLimit {
  uint64_t soft = 0;  // "unlimited" reads as the largest uint64_t
  uint64_t hard = 0;
};

inline Result<OpenFileLimit> readOpenFileLimit(pid_t pid) {
  auto limits = readFile("/proc/" + std::to_string(pid) + "/limits");
  if (!limits) return limits.error();
  const size_t at = limits->find("Max open files");
  if (at == std::string::npos) return makeError("no \"Max open files\" in /proc/PID/limits");
  std::istringstream line(limits->substr(at + std::strlen("Max open files")));
  std::string soft;
  std::string hard;
  line >> soft >> hard;
  auto number = [](const std::string& text) {
    return text == "unlimited" ? std::numeric_limits<uint64_t>::max() : std::strtoull(text.c_str(), nullptr, 10);
  };
  return OpenFileLimit{number(soft), number(hard)};
}

// CPU time (user + system, all threads) of any process, in nanoseconds.
inline Result<uint64_t> processCpuNs(pid_t pid) {
  clockid_t clock;
  if (int error = ::clock_getcpuclockid(pid, &clock); error != 0) {
    return makeError("no CPU clock for process " + std::to_string(pid), error);
  }
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return errnoError("cannot read the CPU clock of " + std::to_string(pid));
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace shadowai::bench
