// The world of an interception test: the real shadowaid enforcing a test cgroup, a FakeProvider
// posing as api.openai.com, api.anthropic.com and generativelanguage.googleapis.com behind the
// test's own /etc/hosts, the official SDK clients and curl run in the enforced cgroup, and a real
// systemd-journald to read the daemon's alerts from. Shared by the interception and policy tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "support/child_process.h"
#include "support/fake_provider.h"
#include "support/journald.h"
#include "support/require_root.h"
#include "support/run_command.h"
#include "support/sdk_clients.h"
#include "support/shadowaid_under_test.h"
#include "support/test_daemon.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"
#include "support/tls_server.h"

namespace shadowai::test {

using nlohmann::json;
using namespace std::chrono_literals;

#define ASSERT_OK(expression)                                              \
  do {                                                                     \
    auto&& assertOkResult = (expression);                                  \
    ASSERT_TRUE(assertOkResult.ok()) << assertOkResult.error().describe(); \
  } while (0)

inline constexpr const char* kProviderAddress = "127.0.0.2";
inline constexpr const char* kOtherAddress = "127.0.0.3";  // for tests that need a misbehaving provider
inline constexpr const char* kManagedOpenAi = "sk-managed-openai-0123456789abcdef";
inline constexpr const char* kManagedAnthropic = "sk-ant-managed-0123456789abcdef";
inline constexpr const char* kManagedGemini = "AIza-managed-gemini-0123456789abcdef";
inline constexpr int kProxyPort = ShadowaidUnderTest::kProxyPort;

class InterceptFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    if (std::string reason = nodeUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_OK(sdkClientsInstalled());
    ASSERT_OK(journald_.start());
    auto dir = TempDir::create("intercept-test");
    ASSERT_OK(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));

    auto ca = TestCa::create(dir_->path());
    ASSERT_OK(ca);
    ca_ = std::make_unique<TestCa>(std::move(*ca));
    auto leaf = ca_->issueLeaf({sdkClientHost(SdkClient::kOpenAi), sdkClientHost(SdkClient::kAnthropic),
                                sdkClientHost(SdkClient::kGemini)});
    ASSERT_OK(leaf);
    leaf_ = *leaf;
    FakeProviderOptions options;
    options.address = kProviderAddress;
    options.port = 443;
    options.certPath = leaf_.certPath;
    options.keyPath = leaf_.keyPath;
    auto provider = FakeProvider::start(options);
    ASSERT_OK(provider);
    provider_ = std::make_unique<FakeProvider>(std::move(*provider));
    pointHostsAt(kProviderAddress);
    // No DNS server: the daemon's start-up resolution of the catalog fails at once (SNI is what
    // interception goes by).
    ASSERT_TRUE(setResolvConf("nameserver 127.0.0.53\noptions timeout:1 attempts:1\n"));

    auto attach = TestCgroup::create("intercept");
    ASSERT_OK(attach);
    attach_ = std::make_unique<TestCgroup>(std::move(*attach));
    auto workload = attach_->createChild("workload");
    ASSERT_OK(workload);
    workload_ = std::make_unique<TestCgroup>(std::move(*workload));

    auto daemon = createTestDaemon(dir_->path(), attach_->relativePath(), journald_);
    ASSERT_OK(daemon);
    daemon_ = std::move(*daemon);
  }

  void TearDown() override {
    if (!daemon_) return;
    daemon_->kill();
    auto removed = daemon_->removePins();
    EXPECT_TRUE(removed) << removed.error().describe();
  }

  void pointHostsAt(const std::string& address) {
    std::string hosts = "127.0.0.1 localhost\n::1 localhost\n";
    for (auto client : {SdkClient::kOpenAi, SdkClient::kAnthropic, SdkClient::kGemini}) {
      hosts += address + " " + sdkClientHost(client) + "\n";
    }
    ASSERT_TRUE(setHostsFile(hosts));
  }

  std::string configPath() const { return daemon_->configPath(); }
  std::string credentialsPath() const { return dir_->filePath("credentials.json"); }
  std::string daemonCaPath() const { return daemon_->caPath(); }

  // The managed keys of the three providers; MODE for calls no key covers.
  void writeCredentials(const std::string& mode, bool withKeys = true) {
    json keys = json::array();
    if (withKeys) {
      keys.push_back({{"provider", "openai"}, {"key", kManagedOpenAi}, {"label", "fleet-openai"}});
      keys.push_back({{"provider", "anthropic"}, {"key", kManagedAnthropic}, {"label", "fleet-anthropic"}});
      keys.push_back({{"provider", "google-gemini"}, {"key", kManagedGemini}, {"label", "fleet-gemini"}});
    }
    json file = {{"schema", 1}, {"mode", mode}, {"keys", keys}};
    ASSERT_TRUE(writeFileAtomic(credentialsPath(), file.dump(2)));
    ASSERT_EQ(::chmod(credentialsPath().c_str(), 0600), 0);
  }

  void writeConfig(const json& intercept = json::object()) {
    json interceptSection = {{"upstream_ca_bundle", ca_->certPath()}};
    interceptSection.update(intercept);
    ASSERT_OK(daemon_->writeConfig({
        // One worker, so one upstream pool: which calls share a connection does not depend on which
        // worker the kernel gave each client connection to.
        {"proxy", {{"listen_ipv4", "127.0.0.1"}, {"listen_ipv6", "::1"}, {"port", kProxyPort}, {"threads", 1}}},
        {"intercept", interceptSection},
        {"credentials_file", credentialsPath()},
        {"policy_dir", policyDir_},
    }));
  }

  RunResult run(std::vector<std::string> argv) { return expectRan(runCommand(std::move(argv))); }
  RunResult cli(std::vector<std::string> args) { return expectRan(daemon_->cli(std::move(args))); }
  json status() { return expectStatus(*daemon_); }

  // Starts the daemon with the configuration and credentials written so far (defaults when none)
  // and puts the workload cgroup in enforce mode.
  void startEnforcing() {
    if (!std::filesystem::exists(configPath())) writeConfig();
    if (!std::filesystem::exists(credentialsPath())) writeCredentials("require-managed");
    ASSERT_OK(daemon_->start());
    ASSERT_OK(daemon_->enforce(workload_->relativePath()));
  }

  SpawnOptions inWorkload() const {
    SpawnOptions options;
    options.cgroupDirectory = workload_->path();
    return options;
  }

  // An SDK call from the enforced workload, trusting the daemon's CA only.
  Result<SdkCallResult> call(SdkClient client, const std::vector<std::string>& args) {
    return runSdkClient(client, args, daemonCaPath(), inWorkload());
  }

  Result<CurlResult> curl(const std::vector<std::string>& args) {
    return runCurl(daemonCaPath(), args, inWorkload());
  }

  FakeProviderRequest lastRequest() const {
    auto requests = provider_->requests();
    return requests.empty() ? FakeProviderRequest{} : requests.back();
  }

  std::vector<json> journal(const std::string& kind, std::vector<std::string> matches, size_t count) {
    return expectAlerts(*daemon_, kind, std::move(matches), count);
  }

  // No managed key anywhere in what shadowaid wrote to the journal or its own output.
  void expectNoManagedKeyLogged() {
    auto everything = daemon_->waitForJournal();
    ASSERT_OK(everything);
    std::string text;
    for (const auto& entry : *everything) text += entry.dump() + "\n";
    text += daemon_->output();
    for (const char* key : {kManagedOpenAi, kManagedAnthropic, kManagedGemini}) {
      EXPECT_EQ(text.find(key), std::string::npos) << "a managed key was logged";
    }
  }

  // The shipped default policy unless a test writes its own.
  std::string policyDir_ = SHADOWAI_SOURCE_RULES_DIR "/policy.d";
  TestJournald journald_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TestCa> ca_;
  LeafFiles leaf_;
  std::unique_ptr<FakeProvider> provider_;
  std::unique_ptr<TestCgroup> attach_, workload_;
  std::unique_ptr<ShadowaidUnderTest> daemon_;
};

}  // namespace shadowai::test
