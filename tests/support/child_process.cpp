#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "common/file_util.h"

extern char** environ;

namespace shadowai::test {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What the child reports through the error pipe when it cannot reach exec.
struct SpawnFailure {
  int stage;
  int errnum;
};
enum SpawnStage : int { kJoinCgroup = 1, kChangeDirectory, kRedirect, kLimit, kExec };

const char* describeStage(int stage) {
  switch (stage) {
    case kJoinCgroup: return "cannot join the cgroup";
    case kChangeDirectory: return "cannot change to the working directory";
    case kRedirect: return "cannot redirect stdio";
    case kLimit: return "cannot set RLIMIT_NOFILE";
    default: return "cannot exec";
  }
}

std::vector<std::string> mergedEnvironment(const SpawnOptions& options) {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto equals = text.find('=');
    if (equals == std::string::npos) continue;
    variables[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& name : options.unsetEnvironment) variables.erase(name);
  for (const auto& [name, value] : options.environment) variables[name] = value;
  std::vector<std::string> merged;
  for (const auto& [name, value] : variables) merged.push_back(name + "=" + value);
  return merged;
}

// The child cannot search PATH safely after fork (execvpe may allocate), so the parent does.
Result<std::string> findProgram(const std::string& name, const std::vector<std::string>& environment) {
  if (name.empty()) return makeError("empty program name");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return errnoError("cannot execute " + name);
    return name;
  }
  std::string path = kDefaultPath;
  for (const auto& entry : environment) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start);
    candidate = (candidate.empty() ? "." : candidate) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return makeError(name + " not found in PATH (" + path + ")");
}

std::vector<char*> pointerArray(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

Fd openForChild(const std::string& path, int flags) {
  return Fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
}

[[noreturn]] void failInChild(int errorPipe, int stage) {
  SpawnFailure failure{stage, errno};
  [[maybe_unused]] ssize_t ignored = ::write(errorPipe, &failure, sizeof(failure));
  ::_exit(127);
}

// After fork, in the child: default signal handling, and tied to its parent as OPTIONS say.
// Async-signal-safe calls only.
void becomeChild(pid_t parent, const SpawnOptions& options) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction defaultAction {};
  defaultAction.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &defaultAction, nullptr);
  }
  if (options.ownProcessGroup) ::setpgid(0, 0);
  if (options.parentDeathSignal != 0) {
    ::prctl(PR_SET_PDEATHSIG, options.parentDeathSignal);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  }
}

// After fork, in the child: only async-signal-safe calls from here to exec.
[[noreturn]] void runChild(pid_t parent, const SpawnOptions& options, int errorPipe, int cgroupProcs,
                           int stdinFd, int stdoutFd, int stderrFd, const char* program, char** argv,
                           char** envp) {
  becomeChild(parent, options);
  if (options.openFileLimit) {
    const rlimit limit{*options.openFileLimit, *options.openFileLimit};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) failInChild(errorPipe, kLimit);
  }
  if (cgroupProcs >= 0 && ::write(cgroupProcs, "0", 1) != 1) failInChild(errorPipe, kJoinCgroup);
  if (!options.workingDirectory.empty() && ::chdir(options.workingDirectory.c_str()) != 0) {
    failInChild(errorPipe, kChangeDirectory);
  }
  if (::dup2(stdinFd, STDIN_FILENO) < 0) failInChild(errorPipe, kRedirect);
  if (stdoutFd >= 0 && ::dup2(stdoutFd, STDOUT_FILENO) < 0) failInChild(errorPipe, kRedirect);
  if (stderrFd >= 0 && ::dup2(stderrFd, STDERR_FILENO) < 0) failInChild(errorPipe, kRedirect);
  // Descriptors other threads of the test opened without O_CLOEXEC (listening sockets...) must not
  // live on in the child; the error pipe stays open until exec succeeds.
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  ::execve(program, argv, envp);
  failInChild(errorPipe, kExec);
}

std::string joined(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& word : argv) text += (text.empty() ? "" : " ") + word;
  return text;
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(std::vector<std::string> argv, SpawnOptions options) {
  if (argv.empty()) return makeError("ChildProcess::spawn needs a program");
  ChildProcess child;
  child.command_ = joined(argv);

  std::vector<std::string> environment = mergedEnvironment(options);
  auto program = findProgram(argv[0], environment);
  if (!program) return program.error();
  std::vector<char*> argvPointers = pointerArray(argv);
  std::vector<char*> envPointers = pointerArray(environment);

  Fd stdinFd = openForChild("/dev/null", O_RDONLY);
  if (!stdinFd) return errnoError("cannot open /dev/null");
  Fd stdoutFd, stderrFd;
  if (options.outputFd >= 0) {
    stdoutFd.reset(::fcntl(options.outputFd, F_DUPFD_CLOEXEC, 3));
    stderrFd.reset(::fcntl(options.outputFd, F_DUPFD_CLOEXEC, 3));
    if (!stdoutFd || !stderrFd) return errnoError("cannot duplicate the output descriptor");
  } else if (options.captureOutput) {
    auto dir = TempDir::create("shadowai-child");
    if (!dir) return dir.error();
    child.outputDir_ = std::make_unique<TempDir>(std::move(dir).value());
    stdoutFd = openForChild(child.outputDir_->filePath("stdout"), O_WRONLY | O_CREAT | O_TRUNC);
    stderrFd = openForChild(child.outputDir_->filePath("stderr"), O_WRONLY | O_CREAT | O_TRUNC);
    if (!stdoutFd || !stderrFd) return errnoError("cannot create output files in " + child.outputDir_->path());
  }
  Fd cgroupProcs;
  if (!options.cgroupDirectory.empty()) {
    cgroupProcs = openForChild(options.cgroupDirectory + "/cgroup.procs", O_WRONLY);
    if (!cgroupProcs) return errnoError("cannot open " + options.cgroupDirectory + "/cgroup.procs");
  }
  int pipeEnds[2];
  if (::pipe2(pipeEnds, O_CLOEXEC) != 0) return errnoError("cannot create a pipe");
  Fd errorRead(pipeEnds[0]), errorWrite(pipeEnds[1]);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return errnoError("cannot fork for " + child.command_);
  if (pid == 0) {
    runChild(parent, options, errorWrite.get(), cgroupProcs.get(), stdinFd.get(), stdoutFd.get(),
             stderrFd.get(), program->c_str(), argvPointers.data(), envPointers.data());
  }
  child.pid_ = pid;
  errorWrite.reset();

  SpawnFailure failure{};
  ssize_t got;
  do {
    got = ::read(errorRead.get(), &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    child.killAndReap();
    return makeError(std::string(describeStage(failure.stage)) + " for " + child.command_, failure.errnum);
  }
  child.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!child.pidfd_) return errnoError("pidfd_open failed for " + child.command_);
  return child;
}

Result<ChildProcess> ChildProcess::forkRunning(const std::function<int()>& body, SpawnOptions options) {
  ChildProcess child;
  child.command_ = "a forked worker";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return errnoError("cannot fork a worker");
  if (pid == 0) {
    becomeChild(parent, options);
    // _exit: the parent's atexit handlers and static destructors are not the worker's to run.
    ::_exit(body());
  }
  child.pid_ = pid;
  child.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!child.pidfd_) return errnoError("pidfd_open failed for a forked worker");
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      exitCode_(std::exchange(other.exitCode_, std::nullopt)),
      command_(std::move(other.command_)),
      outputDir_(std::move(other.outputDir_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    killAndReap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    exitCode_ = std::exchange(other.exitCode_, std::nullopt);
    command_ = std::move(other.command_);
    outputDir_ = std::move(other.outputDir_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { killAndReap(); }

void ChildProcess::recordStatus(int waitStatus) {
  if (WIFEXITED(waitStatus)) {
    exitCode_ = WEXITSTATUS(waitStatus);
  } else if (WIFSIGNALED(waitStatus)) {
    exitCode_ = 128 + WTERMSIG(waitStatus);
  }
}

void ChildProcess::killAndReap() {
  if (pid_ <= 0 || exitCode_) return;
  if (pidfd_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  } else {
    ::kill(pid_, SIGKILL);  // not reaped yet, so the pid is still ours
  }
  int waitStatus = 0;
  while (::waitpid(pid_, &waitStatus, 0) < 0 && errno == EINTR) {
  }
  recordStatus(waitStatus);
  if (!exitCode_) exitCode_ = 128 + SIGKILL;
}

Result<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return makeError("no child process");
  if (exitCode_) return *exitCode_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int waitStatus = 0;
    pid_t reaped = ::waitpid(pid_, &waitStatus, WNOHANG);
    if (reaped == pid_) {
      recordStatus(waitStatus);
      if (exitCode_) return *exitCode_;
      continue;  // stopped or continued: keep waiting
    }
    if (reaped < 0 && errno != EINTR) return errnoError("waitpid failed for " + command_);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      killAndReap();
      return makeError(command_ + " did not exit within " + std::to_string(timeout.count()) + " ms; killed it");
    }
    pollfd ready{pidfd_.get(), POLLIN, 0};
    ::poll(&ready, 1, static_cast<int>(left.count()));
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0 || exitCode_) return false;
  int waitStatus = 0;
  if (::waitpid(pid_, &waitStatus, WNOHANG) == pid_) recordStatus(waitStatus);
  return !exitCode_;
}

Status ChildProcess::sendSignal(int signal) {
  if (!running()) return makeError(command_ + " has already exited", ESRCH);
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0) != 0) {
    return errnoError("cannot signal " + command_);
  }
  return {};
}

std::string ChildProcess::stdoutText() const {
  if (!outputDir_) return {};
  auto text = readFile(outputDir_->filePath("stdout"));
  return text ? *text : std::string();
}

std::string ChildProcess::stderrText() const {
  if (!outputDir_) return {};
  auto text = readFile(outputDir_->filePath("stderr"));
  return text ? *text : std::string();
}

std::string ChildProcess::describeOutput() const {
  return "`" + command_ + "`\n--- stdout ---\n" + stdoutText() + "--- stderr ---\n" + stderrText();
}

}  // namespace shadowai::test
