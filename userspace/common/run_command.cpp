#include "common/run_command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>

#include "common/fd.h"

extern char** environ;

namespace shadowai {
namespace {

constexpr size_t kMaxOutput = 64 * 1024;
constexpr size_t kMaxLine = 300;
constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::vector<std::string> childEnvironment() {
  std::vector<std::string> entries;
  bool hasPath = false;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
    if (std::strncmp(*entry, "PATH=", 5) == 0) hasPath = true;
  }
  if (!hasPath) entries.emplace_back(kDefaultPath);
  return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (auto& text : strings) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

// Only async-signal-safe calls between fork and exec. A failure is reported through REPORT_FD (an
// errno), which exec closes on success.
[[noreturn]] void execChild(char* const* argv, char* const* envp, int outputFd, int reportFd) {
  int devNull = ::open("/dev/null", O_RDONLY);
  bool ready = devNull >= 0 && ::dup2(devNull, STDIN_FILENO) >= 0 && ::dup2(outputFd, STDOUT_FILENO) >= 0 &&
               ::dup2(outputFd, STDERR_FILENO) >= 0;
  if (ready) {
    // The parent may ignore SIGPIPE; the tool gets the default dispositions and an empty mask.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv, envp);
  }
  int error = errno;
  ssize_t ignored = ::write(reportFd, &error, sizeof(error));
  (void)ignored;
  ::_exit(127);
}

}  // namespace

std::string CommandOutcome::describeStatus() const {
  if (!signaled) return "exit status " + std::to_string(exitCode);
  const int signal = exitCode - 128;
  const char* name = ::sigabbrev_np(signal);
  return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
}

std::string CommandOutcome::lastOutputLine() const {
  size_t end = output.size();
  while (end > 0) {
    size_t start = output.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string_view line(output.data() + start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) {
      std::string text;
      for (unsigned char c : line) {
        if (text.size() >= kMaxLine) {
          text += "...";
          break;
        }
        if (c >= 0x20 && c < 0x7f) {
          text += static_cast<char>(c);
        } else {
          static constexpr char kHex[] = "0123456789abcdef";
          text += "\\x";
          text += kHex[c >> 4];
          text += kHex[c & 0x0f];
        }
      }
      return text;
    }
    end = start == 0 ? 0 : start - 1;
  }
  return "";
}

Result<CommandOutcome> runCommand(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return makeError("cannot run " + (argv.empty() ? std::string("(nothing)") : argv[0]) + ": not an absolute path");
  }
  // Everything the child needs is built before fork: malloc is not async-signal-safe.
  std::vector<std::string> arguments = argv;
  std::vector<std::string> environment = childEnvironment();
  std::vector<char*> argvPointers = pointers(arguments);
  std::vector<char*> envPointers = pointers(environment);

  int outputPipe[2];
  if (::pipe2(outputPipe, O_CLOEXEC) != 0) return errnoError("cannot run " + argv[0] + ": pipe");
  Fd outputRead(outputPipe[0]), outputWrite(outputPipe[1]);
  int reportPipe[2];
  if (::pipe2(reportPipe, O_CLOEXEC) != 0) return errnoError("cannot run " + argv[0] + ": pipe");
  Fd reportRead(reportPipe[0]), reportWrite(reportPipe[1]);

  const pid_t pid = ::fork();
  if (pid < 0) return errnoError("cannot run " + argv[0] + ": fork");
  if (pid == 0) execChild(argvPointers.data(), envPointers.data(), outputWrite.get(), reportWrite.get());

  outputWrite.reset();
  reportWrite.reset();
  CommandOutcome outcome;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(outputRead.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    outcome.output.append(buffer, static_cast<size_t>(n));
    if (outcome.output.size() > kMaxOutput) outcome.output.erase(0, outcome.output.size() - kMaxOutput);
  }
  int execError = 0;
  ssize_t reported;
  do {
    reported = ::read(reportRead.get(), &execError, sizeof(execError));
  } while (reported < 0 && errno == EINTR);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errnoError("cannot run " + argv[0] + ": waitpid");
  }
  if (reported == static_cast<ssize_t>(sizeof(execError))) return makeError("cannot run " + argv[0], execError);
  if (WIFSIGNALED(status)) {
    outcome.signaled = true;
    outcome.exitCode = 128 + WTERMSIG(status);
  } else {
    outcome.exitCode = WEXITSTATUS(status);
  }
  return outcome;
}

}  // namespace shadowai
