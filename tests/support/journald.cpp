#include "support/journald.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <sstream>
#include <thread>

#include "audit/alert_fields.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "support/test_namespace.h"

namespace shadowai::test {
namespace {

using namespace std::chrono_literals;

constexpr auto kStartTimeout = 10s;
constexpr auto kJournalctlTimeout = 10s;
constexpr const char* kJournalctl = "journalctl";

// Why each directory gets a private tmpfs, in this order:
// - /run/systemd/journal: journald's sockets (the native one clients send to, stdout, dev-log, the
//   varlink socket `journalctl --sync` talks to). Ours must hide any host journald's, so that what a
//   test sends reaches the test's journald and nothing else.
// - /run/log/journal: volatile storage. Empty, so the journal starts empty; private, so the test
//   reads only its own entries and the host's runtime journal stays untouched.
// - /var/log/journal (only if it exists): persistent storage. journald (Storage=auto) writes there
//   when the directory exists; it must never write into the host's persistent journal.
struct JournalDirectory {
  const char* path;
  bool onlyIfPresent;
};
// With a configuration drop-in, /run/systemd as a whole instead of its journal/ (journald reads
// drop-ins from /run/systemd/journald.conf.d, which must not be written on the host).
constexpr const char* kRunSystemd = "/run/systemd";
constexpr const char* kDropInDirectory = "/run/systemd/journald.conf.d";
constexpr auto kStopTimeout = 10s;
constexpr JournalDirectory kPrivateDirectories[] = {
    {"/run/systemd/journal", false},
    {"/run/log/journal", false},
    {"/var/log/journal", true},
};

bool exists(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0;
}

std::string parentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// A datagram connect() to a bound Unix socket succeeds; to a socket file nobody serves, it is refused.
bool socketAccepts(const char* path) {
  Fd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path, sizeof(address.sun_path) - 1);
  return ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

// Runs journalctl with ARGS: its stdout, or an error with its stderr.
Result<std::string> runJournalctl(std::vector<std::string> args) {
  args.insert(args.begin(), kJournalctl);
  const std::string command = args[0] + " " + args[1];
  auto child = ChildProcess::spawn(std::move(args));
  if (!child) return child.error();
  auto exitCode = child->wait(kJournalctlTimeout);
  if (!exitCode) return makeError(command + ": " + exitCode.error().describe());
  if (*exitCode != 0) {
    return makeError(command + " exited with " + std::to_string(*exitCode) + ": " + child->stderrText());
  }
  return child->stdoutText();
}

}  // namespace

TestJournald::~TestJournald() { stop(); }

Status TestJournald::available() {
  if (::access(kBinary, X_OK) != 0) {
    return makeError(std::string("systemd-journald not found at ") + kBinary + " (Debian package systemd)");
  }
  return {};
}

Status TestJournald::mountPrivateDirectory(const std::string& directory) {
  // Already on a tmpfs of ours (a configuration drop-in mounted all of /run/systemd).
  for (const auto& mounted : mounted_) {
    if (directory.rfind(mounted + "/", 0) == 0) return {};
  }
  if (exists(directory)) {
    if (auto mounted = mountPrivateFilesystem("tmpfs", directory); !mounted) return mounted;
    mounted_.push_back(directory);
    return {};
  }
  // Creating the directory would change the host's /run (a mount namespace does not separate
  // files), so the tmpfs goes over its parent instead, which hides the parent's other entries from
  // this test only.
  const std::string parent = parentOf(directory);
  if (!exists(parent)) {
    return makeError("neither " + directory + " nor " + parent +
                     " exists; refusing to create directories on the host's filesystem");
  }
  if (auto mounted = mountPrivateFilesystem("tmpfs", parent); !mounted) return mounted;
  mounted_.push_back(parent);
  if (::mkdir(directory.c_str(), 0755) != 0) return errnoError("cannot create " + directory + " on the private tmpfs");
  return {};
}

Status TestJournald::start() {
  if (process_) return makeError("the test journald is already running");
  if (!insideTestNamespaces()) return makeError("refusing to start a journald outside the test namespaces");
  if (auto ok = available(); !ok) return ok;
  if (!configuration_.empty()) {
    if (auto written = writeConfiguration(); !written) {
      stop();
      return written;
    }
  }
  for (const auto& directory : kPrivateDirectories) {
    if (directory.onlyIfPresent && !exists(directory.path)) continue;
    if (auto mounted = mountPrivateDirectory(directory.path); !mounted) {
      stop();
      return mounted;
    }
  }
  return spawnDaemon();
}

Status TestJournald::writeConfiguration() {
  if (!exists(kRunSystemd)) {
    return makeError(std::string(kRunSystemd) + " does not exist; refusing to create directories on the host");
  }
  if (auto mounted = mountPrivateFilesystem("tmpfs", kRunSystemd); !mounted) return mounted;
  mounted_.push_back(kRunSystemd);
  for (const char* directory : {"/run/systemd/journal", kDropInDirectory}) {
    if (::mkdir(directory, 0755) != 0) return errnoError(std::string("cannot create ") + directory);
  }
  return writeFileAtomic(std::string(kDropInDirectory) + "/shadowai-test.conf", "[Journal]\n" + configuration_);
}

Status TestJournald::spawnDaemon() {
  SpawnOptions options;
  // Without systemd as PID 1 journald logs to the kernel log, i.e. the host's dmesg; keep its
  // chatter in its own stderr.
  options.environment = {{"SYSTEMD_LOG_TARGET", "console"}};
  // Never tell a service manager the test runs under that "journald" is ready, nor take its sockets.
  options.unsetEnvironment = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS",
                              "LISTEN_PID"};
  auto spawned = ChildProcess::spawn({kBinary}, std::move(options));
  if (!spawned) {
    stop();
    return spawned.error();
  }
  process_ = std::make_unique<ChildProcess>(std::move(spawned).value());

  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::string lastError = "its socket " + std::string(kSocketPath) + " never accepted";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      std::string why = process_->describeOutput();
      stop();
      return makeError("systemd-journald exited at start: " + why);
    }
    if (socketAccepts(kSocketPath)) {
      // The socket is bound before journald's event loop runs; a sync round trip proves it serves.
      auto synced = sync();
      if (synced) return {};
      lastError = synced.error().describe();
    }
    std::this_thread::sleep_for(20ms);
  }
  std::string log = logText();
  stop();
  return makeError("systemd-journald did not become ready within 10 s (" + lastError + "): " + log);
}

void TestJournald::stop() {
  process_.reset();  // SIGKILL by pidfd and reap
  for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) {
    // Detached: a client of ours may still hold a file open on it.
    ::umount2(it->c_str(), MNT_DETACH);
  }
  mounted_.clear();
}

Status TestJournald::killDaemonForTest() {
  if (!process_) return makeError("the test journald is not running");
  if (auto signalled = process_->sendSignal(SIGKILL); !signalled) return signalled;
  auto exitCode = process_->wait(kStartTimeout);
  if (!exitCode) return exitCode.error();
  return {};
}

void TestJournald::stopDaemon() {
  if (!running()) return;
  if (process_->sendSignal(SIGTERM)) (void)process_->wait(kStopTimeout);  // killed after the timeout
}

Status TestJournald::startDaemon() {
  if (mounted_.empty()) return makeError("the test journald was never started");
  if (running()) return {};
  process_.reset();
  return spawnDaemon();
}

bool TestJournald::running() { return process_ && process_->running(); }

pid_t TestJournald::pid() { return running() ? process_->pid() : 0; }

Status TestJournald::pauseForTest() {
  if (!process_) return makeError("the test journald is not running");
  return process_->sendSignal(SIGSTOP);
}

Status TestJournald::resumeForTest() {
  if (!process_) return makeError("the test journald is not running");
  return process_->sendSignal(SIGCONT);
}

Status TestJournald::sync() {
  auto synced = runJournalctl({"--sync"});
  if (!synced) return synced.error();
  return {};
}

Result<std::vector<nlohmann::json>> TestJournald::readEntries(const std::vector<std::string>& matches) {
  if (auto synced = sync(); !synced) return synced.error();
  std::vector<std::string> args = {"--directory=" + std::string(kJournalDirectory), "--output=json", "--no-pager",
                                   "--quiet", "--"};
  args.insert(args.end(), matches.begin(), matches.end());
  auto output = runJournalctl(std::move(args));
  if (!output) return output.error();
  std::vector<nlohmann::json> entries;
  std::istringstream lines(*output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_discarded() || !entry.is_object()) {
      return makeError("journalctl printed a line that is not a JSON object: " + line);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::vector<nlohmann::json>> TestJournald::waitForEntries(const std::vector<std::string>& matches, size_t count,
                                                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto entries = readEntries(matches);
    if (!entries) return entries.error();
    if (entries->size() >= count) return entries;
    if (std::chrono::steady_clock::now() >= deadline) {
      return makeError("expected " + std::to_string(count) + " journal entries, found " +
                       std::to_string(entries->size()) + " after " + std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(50ms);
  }
}

std::string TestJournald::logText() const { return process_ ? process_->describeOutput() : std::string(); }

std::optional<std::string> journalField(const nlohmann::json& entry, const std::string& name) {
  auto found = entry.find(name);
  if (found == entry.end()) return std::nullopt;
  if (found->is_string()) return found->get<std::string>();
  if (!found->is_array() || found->empty() || !found->front().is_number_integer()) return std::nullopt;
  std::string bytes;
  for (const auto& byte : *found) {
    if (!byte.is_number_integer()) return std::nullopt;
    bytes.push_back(static_cast<char>(byte.get<int>()));
  }
  return bytes;
}

std::vector<std::string> undeclaredAlertFields(const nlohmann::json& entry) {
  const std::optional<std::string> name = journalField(entry, std::string(alertFieldName(AlertField::kAlert)));
  const std::optional<AlertKind> kind = name ? alertKindFromName(*name) : std::nullopt;
  if (!kind) return {"no known SHADOWAI_ALERT"};
  std::vector<std::string> undeclared;
  for (const auto& [field, value] : entry.items()) {
    if (!field.starts_with("SHADOWAI_")) continue;
    bool declared = false;
    for (const auto& info : kAlertFields) {
      if (info.name != field) continue;
      declared = isReservedAlertField(info.field) || alertKindMayCarry(*kind, info.field);
    }
    if (!declared) undeclared.push_back(field);
  }
  return undeclared;
}

}  // namespace shadowai::test
