// A private systemd-journald for a benchmark, so the daemon's alerts cost what they cost on a real
// host (a datagram to journald per alert, and journald's work to store it) without a single entry
// reaching the host's journal. Header-only because bench/CMakeLists.txt builds each *_bench.cpp on
// its own.
//
// In the benchmark's own mount namespace, on tmpfs mounts the WorkDir records (and so undoes):
//  - /run/systemd: journald's sockets (`journal/socket`, the one sd_journal_send() writes to) and a
//    configuration drop-in `journald.conf.d/` that journald reads after /etc's. The host's
//    /run/systemd is hidden from this namespace only.
//  - /run/log (journal/ made in it): the volatile journal, where the drop-in makes it store.
//  - /var/log/journal, if it exists: never written with Storage=volatile, hidden all the same.
// journald can be stopped and started again (to measure what the alerts cost); it is stopped by the
// destructor, and gets SIGTERM if the benchmark dies (PR_SET_PDEATHSIG).
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "bench_daemon.h"
#include "bench_process.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "common/result.h"

namespace shadowai::bench {

class PrivateJournald {
 public:
  static constexpr const char* kBinary = "/lib/systemd/systemd-journald";
  static constexpr const char* kSocket = "/run/systemd/journal/socket";
  static constexpr const char* kJournalDirectory = "/run/log/journal";

  // Whether this host has what it takes (the binary and the directories to mount over).
  static Status available() {
    if (::access(kBinary, X_OK) != 0) return errnoError(std::string("cannot run ") + kBinary + " (Debian package systemd)");
    for (const char* directory : {"/run/systemd", "/run/log"}) {
      struct stat status {};
      if (::stat(directory, &status) != 0 || !S_ISDIR(status.st_mode)) {
        return makeError(std::string(directory) + " does not exist; refusing to create directories on the host");
      }
    }
    return {};
  }

  // Mounts the private directories (recorded in DIR) and writes the configuration drop-in.
  // CONFIGURATION is the body of a journald.conf [Journal] section.
  static Result<PrivateJournald> prepare(WorkDir& dir, const std::string& configuration) {
    if (auto ok = available(); !ok) return ok.error();
    for (const char* directory : {"/run/systemd", "/run/log"}) {
      if (auto mounted = dir.mountFresh("tmpfs", directory, "mode=0755"); !mounted) return mounted.error();
    }
    struct stat status {};
    if (::stat("/var/log/journal", &status) == 0 && S_ISDIR(status.st_mode)) {
      if (auto mounted = dir.mountFresh("tmpfs", "/var/log/journal", "mode=0755"); !mounted) return mounted.error();
    }
    for (const char* directory : {"/run/systemd/journal", "/run/systemd/journald.conf.d", kJournalDirectory}) {
      if (::mkdir(directory, 0755) != 0) return errnoError(std::string("cannot create ") + directory);
    }
    if (auto written = writeFileAtomic("/run/systemd/journald.conf.d/bench.conf", "[Journal]\n" + configuration);
        !written) {
      return written.error();
    }
    PrivateJournald journald;
    journald.logPath_ = dir.file("journald.log");
    return journald;
  }

  PrivateJournald(PrivateJournald&&) noexcept = default;
  PrivateJournald& operator=(PrivateJournald&&) noexcept = default;
  PrivateJournald(const PrivateJournald&) = delete;
  PrivateJournald& operator=(const PrivateJournald&) = delete;
  ~PrivateJournald() { stop(); }

  Status start() {
    if (process_.running()) return {};
    Fd log(::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return errnoError("cannot create " + logPath_);
    ExecSettings exec;
    exec.stdoutFd = log.get();
    exec.stderrFd = log.get();
    exec.deathSignal = SIGTERM;
    // Without systemd as PID 1 journald would log to the kernel log (the host's dmesg).
    exec.addEnvironment = {"SYSTEMD_LOG_TARGET=console"};
    exec.dropEnvironment = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID"};
    auto process = spawnProgram({kBinary}, exec);
    if (!process) return process.error();
    process_ = std::move(*process);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && !stopRequested.load()) {
      if (!process_.running()) return makeError("systemd-journald exited at start: " + logTail());
      if (socketAccepts()) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return makeError("systemd-journald did not open " + std::string(kSocket) + " in time: " + logTail());
  }

  void stop() {
    if (!process_.running()) return;
    (void)process_.signal(SIGTERM);
    if (!process_.waitFor(std::chrono::seconds(10))) process_.killAndReap();
  }

  bool running() { return process_.running(); }
  pid_t pid() { return process_.running() ? process_.pid() : 0; }

  std::string logTail() const {
    auto text = readFile(logPath_);
    if (!text) return "(no log)";
    return text->size() <= 1500 ? *text : text->substr(text->size() - 1500);
  }

 private:
  PrivateJournald() = default;

  // A datagram connect() to a bound Unix socket succeeds; to a socket file nobody serves, it fails.
  static bool socketAccepts() {
    Fd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!socket) return false;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, kSocket, sizeof(address.sun_path) - 1);
    return ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }

  std::string logPath_;
  ChildProcess process_;
};

}  // namespace shadowai::bench
