// The isolated world a benchmark runs the real shadowaid in: its own mount and network namespaces,
// a private tmpfs for every file of the run, cgroups directly under the cgroup v2 root (never the
// root itself), and the daemon with its configuration, state, runtime directory and pins in there.
// Everything is taken down by destructors, also on an early return; a run killed with SIGKILL
// leaves only empty directories, which the next run removes. Header-only because
// bench/CMakeLists.txt builds each *_bench.cpp on its own. (bench/splice_bench.cpp has its own copy
// of the same world, written first.)
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_process.h"
#include "bench_world.h"
#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "common/result.h"

namespace shadowai::bench {

// The benchmark's name, for messages ("intercept_bench: ...").
inline std::string& benchName() {
  static std::string name = "bench";
  return name;
}

inline void benchMessage(const std::string& line) { std::fprintf(stderr, "%s: %s\n", benchName().c_str(), line.c_str()); }

// Set by SIGINT, SIGTERM and SIGHUP: every wait of the benchmark checks it and gives up, so the
// destructors take the world down in order.
inline std::atomic<bool> stopRequested{false};

inline void installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = [](int) { stopRequested.store(true); };
  sigemptyset(&action.sa_mask);
  for (int number : {SIGINT, SIGTERM, SIGHUP}) sigaction(number, &action, nullptr);
  // Peers of the benchmark's sockets and pipes go away on purpose; a write to one must be an error.
  signal(SIGPIPE, SIG_IGN);
}

// Before any thread: the kernel refuses CLONE_NEWNS to a multi-threaded caller, and unshare()
// moves only the calling thread anyway.
inline Status enterOwnNamespaces() {
  if (::unshare(CLONE_NEWNS) != 0) return errnoError("cannot create a mount namespace");
  // First of all: nothing mounted from here on may propagate back to the host.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errnoError("cannot make / recursively private in the benchmark's mount namespace");
  }
  return enterOwnNetworkNamespace();
}

// NAME is PREFIX followed by the pid of a process that no longer exists.
inline bool ownerGone(const std::string& name, const std::string& prefix) {
  const pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + prefix.size()));
  return owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH;
}

// Raises this process's soft RLIMIT_NOFILE to its hard limit (children inherit it); fails when the
// hard limit is below NEEDED. Returns the limit.
inline Result<rlim_t> raiseOpenFileLimit(rlim_t needed) {
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

// The run's files live on a tmpfs mounted in the benchmark's mount namespace over an empty
// directory PREFIX<pid> of the host's /tmp, so they vanish with the namespace whatever happens; a
// SIGKILL leaves only the empty directory, which the next run removes. Further private mounts
// (a bpffs, tmpfs over /run/...) are recorded here and undone, last first, by the destructor.
class WorkDir {
 public:
  // PREFIX: an absolute path ending in '-', e.g. "/tmp/shadowai-intercept-bench-".
  static Result<WorkDir> create(const std::string& prefix) {
    const std::filesystem::path prefixPath(prefix);
    const std::string parent = prefixPath.parent_path().string();
    const std::string namePrefix = prefixPath.filename().string();
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(parent, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(namePrefix, 0) == 0 && ownerGone(name, namePrefix)) ::rmdir(entry.path().c_str());
    }
    WorkDir dir;
    const std::string path = prefix + std::to_string(::getpid());
    if (::mkdir(path.c_str(), 0700) != 0) return errnoError("cannot create " + path);
    dir.path_ = path;
    if (auto mounted = dir.mountFresh("tmpfs", path, "mode=0700"); !mounted) return mounted.error();
    return dir;
  }

  WorkDir(WorkDir&& other) noexcept
      : path_(std::exchange(other.path_, {})), mounts_(std::exchange(other.mounts_, {})) {}
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    if (!path_.empty() && ::rmdir(path_.c_str()) != 0) {
      benchMessage("cannot remove " + path_ + ": " + std::strerror(errno));
    }
  }

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // A fresh FSTYPE over DIRECTORY in this (private) mount namespace, unmounted by the destructor.
  Status mountFresh(const std::string& fstype, const std::string& directory, const std::string& data) {
    if (::mount(fstype.c_str(), directory.c_str(), fstype.c_str(), MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
      return errnoError("cannot mount " + fstype + " on " + directory);
    }
    mounts_.push_back(directory);
    return {};
  }

  Status makeSubdirectory(const std::string& name) const {
    if (::mkdir(file(name).c_str(), 0700) != 0) return errnoError("cannot create " + file(name));
    return {};
  }

 private:
  WorkDir() = default;
  std::string path_;
  std::vector<std::string> mounts_;  // in mount order
};

// A cgroup PREFIX<pid> directly under the cgroup v2 root, and children of it. The destructor removes
// them, children first; a run killed with SIGKILL leaves empty directories, which the next run
// removes.
class BenchCgroups {
 public:
  // PREFIX: e.g. "shadowai-bench-intercept-".
  static Result<BenchCgroups> create(const std::string& prefix, const std::vector<std::string>& children) {
    auto root = findCgroup2Mount();
    if (!root) return root.error();
    removeStale(*root, prefix);
    BenchCgroups cgroups;
    cgroups.root_ = *root;
    const std::string name = prefix + std::to_string(::getpid());
    if (::mkdir((*root + "/" + name).c_str(), 0755) != 0) return errnoError("cannot create cgroup " + name);
    cgroups.name_ = name;
    for (const auto& child : children) {
      if (::mkdir(cgroups.path(child).c_str(), 0755) != 0) return errnoError("cannot create cgroup " + child);
      cgroups.children_.push_back(child);
    }
    return cgroups;
  }

  BenchCgroups(BenchCgroups&& other) noexcept
      : root_(std::move(other.root_)),
        name_(std::exchange(other.name_, {})),
        children_(std::exchange(other.children_, {})) {}
  BenchCgroups& operator=(BenchCgroups&&) = delete;
  BenchCgroups(const BenchCgroups&) = delete;
  BenchCgroups& operator=(const BenchCgroups&) = delete;
  ~BenchCgroups() {
    if (name_.empty()) return;
    for (const auto& child : children_) removeDirectory(path(child));
    removeDirectory(root_ + "/" + name_);
  }

  // From the cgroup v2 root, as the daemon's configuration and `shadowai enforce` take it.
  std::string relativePath() const { return "/" + name_; }
  std::string relativePath(const std::string& child) const { return relativePath() + "/" + child; }
  std::string path(const std::string& child) const { return root_ + relativePath(child); }

  Status addProcess(const std::string& child, pid_t pid) const {
    const std::string procs = path(child) + "/cgroup.procs";
    Fd file(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    const std::string text = std::to_string(pid);
    if (!file || ::write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return errnoError("cannot move process " + text + " into " + procs);
    }
    return {};
  }

 private:
  BenchCgroups() = default;

  static void removeDirectory(const std::string& path) {
    // The kernel empties a cgroup asynchronously after its last task has left.
    for (int attempt = 0; attempt < 400; ++attempt) {
      if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    benchMessage("cannot remove cgroup " + path + ": " + std::strerror(errno));
  }

  static void removeStale(const std::string& root, const std::string& prefix) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0 || !ownerGone(name, prefix)) continue;
      std::error_code childError;
      for (const auto& child : std::filesystem::directory_iterator(entry.path(), childError)) {
        if (child.is_directory()) ::rmdir(child.path().c_str());  // fails, harmlessly, while populated
      }
      ::rmdir(entry.path().c_str());
    }
  }

  std::string root_;
  std::string name_;
  std::vector<std::string> children_;
};

struct DaemonSettings {
  std::string daemonBinary;
  std::string cliBinary;
  unsigned proxyThreads = 0;  // 0: the daemon's default, one per CPU
  uint16_t proxyPort = 15443;
  rlim_t openFiles = 0;       // RLIMIT_NOFILE of the daemon; 0: the benchmark's own
  nlohmann::json extraConfig = nlohmann::json::object();  // merged over the base configuration
  std::vector<std::string> environment;                   // NAME=VALUE for the daemon
};

// The real shadowaid, configured like the integration tests do: everything under the work directory
// (configuration, state, runtime directory, log), its pins on a private bpffs the caller mounted at
// DIR/bpf, its programs attached to ATTACH_CGROUP only. The destructor stops it (SIGTERM, then
// SIGKILL), removes its pins (which detaches its programs) and reports what went wrong on the way.
class DaemonInstance {
 public:
  static constexpr auto kStartTimeout = std::chrono::seconds(20);
  static constexpr auto kStopTimeout = std::chrono::seconds(10);
  static constexpr auto kCliTimeout = std::chrono::seconds(20);

  DaemonInstance(DaemonSettings settings, const WorkDir& dir, std::string attachCgroup)
      : settings_(std::move(settings)),
        configPath_(dir.file("shadowaid.json")),
        socketPath_(dir.file("run/control.sock")),
        logPath_(dir.file("shadowaid.log")),
        stateDir_(dir.file("state")),
        runtimeDir_(dir.file("run")),
        pinDir_(dir.file("bpf")),
        attachCgroup_(std::move(attachCgroup)) {}
  DaemonInstance(const DaemonInstance&) = delete;
  DaemonInstance& operator=(const DaemonInstance&) = delete;
  ~DaemonInstance() { stop(); }

  Status start() {
    // Never the root cgroup: the programs would govern every process on the host.
    if (attachCgroup_.empty() || attachCgroup_ == "/") return makeError("refusing to attach to the root cgroup");
    nlohmann::json config = {
        {"state_dir", stateDir_},
        {"runtime_dir", runtimeDir_},
        {"bpf_pin_dir", pinDir_},
        {"control_socket", socketPath_},
        {"control_group", nullptr},
        {"cgroup", attachCgroup_},
        {"catalog_dirs", nlohmann::json::array()},
        {"failure_mode", "closed"},
        // The shipped default policy (masks secrets and PII, blocks nothing).
        {"policy_dir", SHADOWAI_SOURCE_RULES_DIR "/policy.d"},
        {"proxy",
         {{"listen_ipv4", "127.0.0.1"},
          {"listen_ipv6", "::1"},
          {"port", settings_.proxyPort},
          {"threads", settings_.proxyThreads}}},
    };
    config.update(settings_.extraConfig);
    if (config.value("cgroup", std::string()) != attachCgroup_) return makeError("the daemon's cgroup was overridden");
    if (auto written = writeFileAtomic(configPath_, config.dump(2)); !written) return written;
    configWritten_ = true;

    Fd log(::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return errnoError("cannot create " + logPath_);
    ExecSettings exec;
    exec.stdoutFd = log.get();
    exec.stderrFd = log.get();
    exec.deathSignal = SIGTERM;  // a benchmark killed with SIGKILL still lets its daemon stop cleanly
    exec.dropEnvironment = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"};
    exec.addEnvironment = settings_.environment;
    if (settings_.openFiles != 0) exec.openFileLimit = settings_.openFiles;
    auto process = spawnProgram({settings_.daemonBinary, "--config", configPath_}, exec);
    if (!process) return process.error();
    process_ = std::move(*process);

    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline && !stopRequested.load()) {
      if (!process_.running()) return makeError("shadowaid exited at start:\n" + logTail());
      if (auto answered = status(); answered) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stopRequested.load()) return makeError("interrupted");
    return makeError("shadowaid did not answer on its control socket in time:\n" + logTail());
  }

  void stop() {
    if (process_.running()) {
      (void)process_.signal(SIGTERM);
      if (!process_.waitFor(kStopTimeout)) {
        benchMessage("shadowaid did not stop on SIGTERM; killing it");
        process_.killAndReap();
      }
    }
    if (configWritten_) {
      configWritten_ = false;
      auto removed = runCommand({settings_.daemonBinary, "--config", configPath_, "--remove-pins"}, kCliTimeout);
      if (!removed || removed->exitCode != 0) {
        benchMessage("shadowaid --remove-pins failed: " + (removed ? removed->err : removed.error().describe()));
      }
    }
  }

  pid_t pid() const { return process_.pid(); }
  const std::string& logPath() const { return logPath_; }
  const std::string& stateDir() const { return stateDir_; }

  Result<nlohmann::json> status(std::chrono::milliseconds timeout = kCliTimeout) {
    auto output = cli({"status", "--json"}, timeout);
    if (!output) return output.error();
    try {
      return nlohmann::json::parse(output->out);
    } catch (const nlohmann::json::exception& error) {
      return makeError(std::string("shadowai status --json: ") + error.what());
    }
  }

  Status enforce(const std::string& cgroup) {
    auto output = cli({"enforce", "--cgroup", cgroup});
    if (!output) return output.error();
    return {};
  }

  std::string logTail(size_t keep = 2000) const {
    auto text = readFile(logPath_);
    if (!text) return "(no log)";
    return text->size() <= keep ? *text : text->substr(text->size() - keep);
  }

 private:
  Result<CommandOutput> cli(std::vector<std::string> args, std::chrono::milliseconds timeout = kCliTimeout) {
    std::vector<std::string> argv = {settings_.cliBinary, "--socket", socketPath_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto output = runCommand(argv, timeout);
    if (!output) return output.error();
    if (output->exitCode != 0) {
      std::string message = output->err;
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return makeError("shadowai " + args.front() + ": " + message);
    }
    return output;
  }

  const DaemonSettings settings_;
  const std::string configPath_, socketPath_, logPath_, stateDir_, runtimeDir_, pinDir_, attachCgroup_;
  ChildProcess process_;
  bool configWritten_ = false;
};

// A counter of the proxy in `shadowai status --json`; 0 when absent.
inline uint64_t proxyCounter(const nlohmann::json& status, const char* name) {
  const nlohmann::json* proxy = status.contains("proxy") ? &status["proxy"] : nullptr;
  return proxy != nullptr && proxy->contains(name) && (*proxy)[name].is_number() ? (*proxy)[name].get<uint64_t>() : 0;
}

}  // namespace shadowai::bench
