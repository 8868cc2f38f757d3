#include "support/shadowaid_under_test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <thread>

#include "common/fd.h"
#include "common/file_util.h"
#include "support/test_namespace.h"

namespace shadowai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kStatusPollInterval = 50ms;

// A daemon under test notifies no service manager and has no journal stream but the one it is given.
const std::vector<std::string> kServiceManagerVariables = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                                           "JOURNAL_STREAM"};

std::string lastLines(const std::string& text, size_t keep) {
  return text.size() <= keep ? text : text.substr(text.size() - keep);
}

}  // namespace

Result<std::unique_ptr<ShadowaidUnderTest>> ShadowaidUnderTest::create(ShadowaidSettings settings) {
  std::unique_ptr<ShadowaidUnderTest> daemon(new ShadowaidUnderTest(std::move(settings)));
  std::error_code error;
  std::filesystem::create_directories(daemon->pinDir(), error);
  if (error) return makeError("cannot create " + daemon->pinDir() + ": " + error.message());
  if (auto mounted = mountPrivateFilesystem("bpf", daemon->pinDir()); !mounted) return mounted.error();
  return daemon;
}

ShadowaidUnderTest::~ShadowaidUnderTest() {
  if (running()) {
    if (auto stopped = stop(); !stopped) report(stopped.error().describe());
  }
  if (auto removed = removePins(); !removed) report(removed.error().describe());
}

void ShadowaidUnderTest::report(const std::string& problem) const {
  if (settings_.reportProblem) {
    settings_.reportProblem(problem);
  } else {
    std::fprintf(stderr, "shadowaid under test: %s\n", problem.c_str());
  }
}

json ShadowaidUnderTest::baseConfig() const {
  return {
      {"state_dir", stateDir()},
      {"runtime_dir", path("run")},
      {"bpf_pin_dir", pinDir()},
      {"control_socket", socketPath()},
      {"control_group", nullptr},
      {"cgroup", settings_.attachCgroup},
      {"catalog_dirs", json::array()},
      {"proxy", {{"listen_ipv4", "127.0.0.1"}, {"listen_ipv6", "::1"}, {"port", kProxyPort}}},
      // The shipped default policy (masks secrets and PII, blocks nothing).
      {"policy_dir", SHADOWAI_SOURCE_RULES_DIR "/policy.d"},
  };
}

Status ShadowaidUnderTest::writeConfig(const json& overrides) {
  json config = baseConfig();
  config.update(overrides);
  const std::string cgroup = config["cgroup"].is_string() ? config["cgroup"].get<std::string>() : "";
  if (cgroup.empty() || cgroup == "/") return makeError("refusing to attach shadowaid to the root cgroup");
  if (auto written = writeFileAtomic(configPath(), config.dump(2)); !written) return written;
  configWritten_ = true;
  return {};
}

SpawnOptions ShadowaidUnderTest::spawnOptions() const {
  SpawnOptions options;
  options.unsetEnvironment = kServiceManagerVariables;
  options.environment = settings_.environment;
  options.openFileLimit = settings_.openFileLimit;
  options.parentDeathSignal = settings_.parentDeathSignal;
  options.ownProcessGroup = settings_.ownProcessGroup;
  return options;
}

Status ShadowaidUnderTest::start(std::vector<std::string> prefix) {
  if (running()) return makeError("shadowaid is already running");
  if (!configWritten_) {
    if (auto written = writeConfig(); !written) return written;
  }
  SpawnOptions options = spawnOptions();
  Fd log;
  if (!settings_.logPath.empty()) {
    log.reset(::open(settings_.logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    struct stat file {};
    if (!log || ::fstat(log.get(), &file) != 0) return errnoError("cannot create " + settings_.logPath);
    options.outputFd = log.get();
    if (settings_.logIsJournalStream) {
      options.environment.emplace_back("JOURNAL_STREAM",
                                        std::to_string(static_cast<unsigned long long>(file.st_dev)) + ":" +
                                            std::to_string(static_cast<unsigned long long>(file.st_ino)));
    }
  }
  prefix.insert(prefix.end(), {settings_.daemonBinary, "--config", configPath()});
  auto spawned = ChildProcess::spawn(std::move(prefix), std::move(options));
  if (!spawned) return spawned.error();
  process_ = std::make_unique<ChildProcess>(std::move(*spawned));

  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (settings_.interrupted != nullptr && settings_.interrupted->load()) return makeError("interrupted");
    if (!process_->running()) return makeError("shadowaid exited at start:\n" + describeOutput());
    if (auto answered = cli({"status", "--json"}); answered && answered->exitCode == 0) return {};
    std::this_thread::sleep_for(kStatusPollInterval);
  }
  return makeError("shadowaid did not answer on its control socket in time:\n" + describeOutput());
}

bool ShadowaidUnderTest::running() { return process_ && process_->running(); }

pid_t ShadowaidUnderTest::pid() const { return process_ ? process_->pid() : 0; }

Status ShadowaidUnderTest::sendSignal(int signal) {
  if (!process_) return makeError("shadowaid was never started");
  return process_->sendSignal(signal);
}

Result<int> ShadowaidUnderTest::wait(std::chrono::milliseconds timeout) {
  if (!process_) return makeError("shadowaid was never started");
  return process_->wait(timeout);
}

Status ShadowaidUnderTest::stop() {
  if (!running()) return {};
  if (auto signalled = process_->sendSignal(SIGTERM); !signalled && process_->running()) return signalled;
  if (auto exited = process_->wait(kStopTimeout); !exited) {
    return makeError("shadowaid did not stop on SIGTERM; killed it");
  }
  return {};
}

void ShadowaidUnderTest::kill() {
  if (!running()) return;
  (void)process_->sendSignal(SIGKILL);
  (void)process_->wait(kStopTimeout);
}

Status ShadowaidUnderTest::removePins() {
  if (!configWritten_) return {};
  configWritten_ = false;
  auto removed = runCommand({settings_.daemonBinary, "--config", configPath(), "--remove-pins"}, kCliTimeout);
  if (!removed) return removed.error();
  if (removed->exitCode != 0) {
    return makeError("shadowaid --remove-pins exited with " + std::to_string(removed->exitCode) + ": " + removed->err);
  }
  return {};
}

Result<RunResult> ShadowaidUnderTest::cli(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  args.insert(args.begin(), {settings_.cliBinary, "--socket", socketPath()});
  return runCommand(std::move(args), timeout);
}

Result<json> ShadowaidUnderTest::status(std::chrono::milliseconds timeout) {
  auto output = cli({"status", "--json"}, timeout);
  if (!output) return output.error();
  if (output->exitCode != 0) {
    std::string message = output->err;
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return makeError("shadowai status: " + message);
  }
  json parsed = json::parse(output->out, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return makeError("shadowai status --json printed no JSON object: " + output->out);
  return parsed;
}

Status ShadowaidUnderTest::enforce(const std::string& cgroup) {
  auto output = cli({"enforce", "--cgroup", cgroup});
  if (!output) return output.error();
  if (output->exitCode != 0) return makeError("shadowai enforce: " + output->out + output->err);
  return {};
}

std::string ShadowaidUnderTest::output() const {
  if (!settings_.logPath.empty()) {
    auto text = readFile(settings_.logPath);
    return text ? *text : std::string();
  }
  return process_ ? process_->stdoutText() + process_->stderrText() : std::string();
}

std::string ShadowaidUnderTest::describeOutput() const {
  if (!settings_.logPath.empty()) return "--- " + settings_.logPath + " ---\n" + output();
  return process_ ? process_->describeOutput() : "(shadowaid was never started)";
}

std::string ShadowaidUnderTest::outputTail(size_t keep) const { return lastLines(output(), keep); }

Result<std::vector<json>> ShadowaidUnderTest::waitForAlerts(const std::string& kind, std::vector<std::string> matches,
                                                            size_t count, std::chrono::milliseconds timeout) {
  if (settings_.journald == nullptr) return makeError("shadowaid under test has no journald to read");
  matches.insert(matches.begin(), "SHADOWAI_ALERT=" + kind);
  matches.insert(matches.begin(), "SYSLOG_IDENTIFIER=shadowaid");
  return settings_.journald->waitForEntries(matches, count, timeout);
}

Result<std::vector<json>> ShadowaidUnderTest::waitForJournal(std::chrono::milliseconds timeout) {
  if (settings_.journald == nullptr) return makeError("shadowaid under test has no journald to read");
  return settings_.journald->waitForEntries({"SYSLOG_IDENTIFIER=shadowaid"}, 1, timeout);
}

uint64_t proxyCounter(const json& status, const char* name) {
  const json* proxy = status.contains("proxy") ? &status["proxy"] : nullptr;
  return proxy != nullptr && proxy->contains(name) && (*proxy)[name].is_number() ? (*proxy)[name].get<uint64_t>() : 0;
}

}  // namespace shadowai::test
