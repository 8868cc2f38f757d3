// shadowaid end to end: the real daemon and CLI binaries, attached to the test's own cgroup, with
// TLS servers posing as provider hosts, dnsmasq for the catalog's start-up resolution, and real
// clients (curl, the connect probe, the UDP sender) in enforced and non-enforced child cgroups.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "support/bpf_attachments.h"
#include "support/child_process.h"
#include "support/dnsmasq.h"
#include "support/journald.h"
#include "support/require_root.h"
#include "support/run_command.h"
#include "support/shadowaid_under_test.h"
#include "support/test_daemon.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"
#include "support/tls_server.h"

namespace shadowai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kOpenAi = "127.0.0.2";
constexpr const char* kPlainSite = "127.0.0.4";  // www.not-an-llm.test
constexpr const char* kDnsServer = "127.0.0.53";
// A container's network (makeContainerNetwork): the test's side, a second site there, the inside.
constexpr const char* kContainerGateway = "10.77.0.1";
constexpr const char* kContainerSite = "10.77.0.3";
constexpr const char* kContainerAddress = "10.77.0.2";

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    auto journal = journald_.start();
    ASSERT_TRUE(journal) << journal.error().describe();
    auto dir = TempDir::create("shadowaid-test");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));

    anthropicV6_ = testIpv6Address(3);
    ASSERT_TRUE(setHostsFile(std::string("127.0.0.1 localhost\n::1 localhost\n") + kOpenAi + " api.openai.com\n" +
                             kPlainSite + " www.not-an-llm.test\n" + anthropicV6_ + " api.anthropic.com\n"));
    ASSERT_TRUE(setResolvConf(std::string("nameserver ") + kDnsServer + "\noptions timeout:1 attempts:1\n"));
    dns_ = std::make_unique<DnsmasqServer>(kDnsServer, dir_->path());
    dns_->addHost("api.openai.com", kOpenAi);
    ASSERT_TRUE(dns_->start());

    auto ca = TestCa::create(dir_->path());
    ASSERT_TRUE(ca);
    ca_ = std::make_unique<TestCa>(std::move(*ca));
    openAi_ = startServer(kOpenAi, "api.openai.com", {});
    anthropic_ = startServer(anthropicV6_, "api.anthropic.com", {});
    // The non-catalog site answers with a large body and records what it was sent.
    TlsResponse big;
    big.contentType = "application/octet-stream";
    big.body = largePayload(4 << 20, 7);
    plainSite_ = startServer(kPlainSite, "www.not-an-llm.test", big);

    auto attach = TestCgroup::create("daemon");
    ASSERT_TRUE(attach);
    attach_ = std::make_unique<TestCgroup>(std::move(*attach));
    auto workload = attach_->createChild("workload");
    ASSERT_TRUE(workload);
    workload_ = std::make_unique<TestCgroup>(std::move(*workload));
    auto other = attach_->createChild("other");
    ASSERT_TRUE(other);
    other_ = std::make_unique<TestCgroup>(std::move(*other));

    auto daemon = createTestDaemon(dir_->path(), attach_->relativePath(), journald_);
    ASSERT_TRUE(daemon) << daemon.error().describe();
    daemon_ = std::move(*daemon);
    writeConfig("closed");
  }

  void TearDown() override {
    if (!daemon_) return;
    daemon_->kill();
    auto removed = daemon_->removePins();
    EXPECT_TRUE(removed) << removed.error().describe();
  }

  static std::string largePayload(size_t size, unsigned seed) {
    std::string bytes(size, '\0');
    uint32_t state = seed;
    for (auto& byte : bytes) {
      state = state * 1664525u + 1013904223u;
      byte = static_cast<char>(state >> 24);
    }
    return bytes;
  }

  std::unique_ptr<TlsTestServer> startServer(const std::string& address, const std::string& name, TlsResponse response) {
    auto leaf = ca_->issueLeaf({name});
    EXPECT_TRUE(leaf);
    TlsServerOptions options;
    options.address = address;
    options.port = 443;
    options.certPath = leaf->certPath;
    options.keyPath = leaf->keyPath;
    options.response = std::move(response);
    auto server = TlsTestServer::start(options);
    EXPECT_TRUE(server) << server.error().describe();
    return std::make_unique<TlsTestServer>(std::move(*server));
  }

  std::string configPath() const { return daemon_->configPath(); }

  void writeConfig(const std::string& failureMode, const json& extra = json::object()) {
    json overrides = {
        {"failure_mode", failureMode},
        {"heartbeat_timeout_s", 1},
        // The test's provider servers have certificates from the test CA, not from the system store.
        {"intercept", {{"upstream_ca_bundle", ca_->certPath()}}},
        {"credentials_file", dir_->filePath("credentials.json")},
    };
    overrides.update(extra);
    auto written = daemon_->writeConfig(overrides);
    ASSERT_TRUE(written) << written.error().describe();
  }

  RunResult run(std::vector<std::string> argv, const TestCgroup* cgroup = nullptr) {
    SpawnOptions options;
    if (cgroup) options.cgroupDirectory = cgroup->path();
    return expectRan(runCommand(std::move(argv), 60s, options));
  }

  RunResult cli(std::vector<std::string> args) { return expectRan(daemon_->cli(std::move(args))); }
  json status() { return expectStatus(*daemon_); }

  // PREFIX runs the daemon under another command (e.g. prlimit to give it a small fd limit).
  void startDaemon(std::vector<std::string> prefix = {}) {
    auto started = daemon_->start(std::move(prefix));
    ASSERT_TRUE(started) << started.error().describe();
  }

  // A process in the workload cgroup holding VARIABLE=KEY in its environment, once /proc shows it
  // (spawn() returns before exec has replaced the environment).
  Result<ChildProcess> spawnKeyHolder(const std::string& variable, const std::string& key) {
    SpawnOptions holder;
    holder.environment = {{variable, key}};
    holder.cgroupDirectory = workload_->path();
    auto process = ChildProcess::spawn({"sleep", "60"}, holder);
    if (!process) return process;
    const std::string environ = "/proc/" + std::to_string(process->pid()) + "/environ";
    for (int i = 0; i < 200; ++i) {
      auto text = readFile(environ);
      if (text && text->find(variable + "=") != std::string::npos) break;
      std::this_thread::sleep_for(10ms);
    }
    return process;
  }

  void enforce(const TestCgroup& cgroup) {
    auto enforced = daemon_->enforce(cgroup.relativePath());
    ASSERT_TRUE(enforced) << enforced.error().describe();
  }

  std::string daemonCaPath() const { return daemon_->caPath(); }

  // Both CAs in one bundle, for a client that may or may not be intercepted (after startDaemon()).
  std::string bothCasPath() {
    const std::string path = dir_->filePath("both-cas.pem");
    auto test = readFile(ca_->certPath());
    auto daemon = readFile(daemonCaPath());
    EXPECT_TRUE(test && daemon);
    if (test && daemon) {
      EXPECT_TRUE(writeFileAtomic(path, *test + *daemon));
    }
    return path;
  }

  // curl from inside CGROUP, trusting CA_PATH (default: the test CA, i.e. the real servers);
  // prints "REMOTE_IP REMOTE_PORT" (curl reads them with getpeername()).
  RunResult curl(const TestCgroup& cgroup, std::vector<std::string> args, std::string caPath = "") {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "--cacert",
                                     caPath.empty() ? ca_->certPath() : caPath, "-w", "\n%{remote_ip} %{remote_port}"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, &cgroup);
  }

  // A container: a long-lived process of CGROUP in a network namespace of its own (inside the test's,
  // gone with it), once it is in there. Unless BARE, the namespace has loopback up and a veth link
  // to the test's namespace: kContainerGateway and kContainerSite on the test's side,
  // kContainerAddress inside. BARE: loopback down, nothing else. (No `ip netns add`: its files in
  // /run/netns would outlive the test.)
  std::unique_ptr<ChildProcess> startContainer(const TestCgroup& cgroup, bool bare = false) {
    SpawnOptions options;
    options.cgroupDirectory = cgroup.path();
    auto child = ChildProcess::spawn({"unshare", "--net", "sleep", "120"}, options);
    EXPECT_TRUE(child) << child.error().describe();
    if (!child) return nullptr;
    auto init = std::make_unique<ChildProcess>(std::move(*child));
    for (int i = 0; i < 200 && netnsInodeOf(init->pid()) == netnsInodeOf(::getpid()); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_NE(netnsInodeOf(init->pid()), netnsInodeOf(::getpid())) << "unshare --net did not make a namespace";
    if (bare) return init;
    const std::string pid = std::to_string(init->pid());
    const std::string hostSide = "v-ctr" + pid;
    const std::vector<std::string> inside = {"nsenter", "--target", pid, "--net", "ip"};
    auto insideDo = [&inside](std::vector<std::string> args) {
      std::vector<std::string> argv = inside;
      argv.insert(argv.end(), args.begin(), args.end());
      return argv;
    };
    const std::vector<std::vector<std::string>> commands = {
        {"ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", pid},
        {"ip", "addr", "add", std::string(kContainerGateway) + "/24", "dev", hostSide},
        {"ip", "addr", "add", std::string(kContainerSite) + "/24", "dev", hostSide},
        {"ip", "link", "set", hostSide, "up"},
        insideDo({"addr", "add", std::string(kContainerAddress) + "/24", "dev", "eth0"}),
        insideDo({"link", "set", "eth0", "up"}),
        insideDo({"link", "set", "lo", "up"})};
    for (const auto& command : commands) {
      RunResult result = run(command);
      EXPECT_EQ(result.exitCode, 0) << result.err;
      if (result.exitCode != 0) return nullptr;
    }
    return init;
  }

  static uint64_t netnsInodeOf(pid_t pid) {
    struct stat info{};
    return ::stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &info) == 0 ? info.st_ino : 0;
  }

  // curl() from inside the network namespace of CONTAINER (its init process).
  RunResult curlIn(const ChildProcess& container, const TestCgroup& cgroup, std::vector<std::string> args,
                   std::string caPath = "") {
    std::vector<std::string> argv = {"nsenter", "--target", std::to_string(container.pid()), "--net", "curl", "-sS",
                                     "--max-time", "20", "--cacert", caPath.empty() ? ca_->certPath() : caPath, "-w",
                                     "\n%{remote_ip} %{remote_port}"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, &cgroup);
  }

  static std::string lastLine(const std::string& text) {
    auto end = text.find_last_not_of('\n');
    if (end == std::string::npos) return "";
    auto start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
  }

  // Alerts of KIND (its short name) with every FIELD=VALUE given; waits for COUNT of them.
  std::vector<json> alerts(const std::string& kind, std::vector<std::string> matches, size_t count = 1) {
    return expectAlerts(*daemon_, kind, std::move(matches), count);
  }

  TestJournald journald_;
  std::unique_ptr<TempDir> dir_;
  std::string anthropicV6_;
  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<TestCa> ca_;
  std::unique_ptr<TlsTestServer> openAi_, anthropic_, plainSite_;
  std::unique_ptr<TestCgroup> attach_, workload_, other_;
  std::unique_ptr<ShadowaidUnderTest> daemon_;
};

TEST_F(DaemonTest, EnforcedLlmCallIsInterceptedAndOthersAreUntouched) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);

  // The workload trusts the host's CA (as after `shadowai ca install`): its call is terminated by the
  // proxy and re-originated to the provider, with the client's own key (no credentials file: pass-through).
  RunResult enforced = curl(*workload_, {"-H", "Authorization: Bearer sk-client-own-key", "https://api.openai.com/v1/models"},
                            daemonCaPath());
  ASSERT_EQ(enforced.exitCode, 0) << enforced.err << daemon_->describeOutput();
  EXPECT_NE(enforced.out.find("shadowai-test"), std::string::npos) << "the provider's answer did not arrive";
  EXPECT_EQ(lastLine(enforced.out), "127.0.0.2 443") << "getpeername() did not show the original address";
  ASSERT_EQ(openAi_->requests().size(), 1u);
  EXPECT_EQ(openAi_->requests()[0].sni, "api.openai.com");
  EXPECT_EQ(openAi_->requests()[0].target, "/v1/models");
  EXPECT_EQ(openAi_->requests()[0].header("authorization"), "Bearer sk-client-own-key");

  json afterEnforced = status();
  EXPECT_EQ(afterEnforced["proxy"]["accepted"], 1) << afterEnforced.dump(2);
  EXPECT_EQ(afterEnforced["proxy"]["intercepted_connections"], 1);
  EXPECT_EQ(afterEnforced["proxy"]["passed_through_llm_calls"], 0);
  EXPECT_EQ(afterEnforced["intercept"]["enabled"], true);
  // Per call, beside the per-connection counters; the cgroup as the modes and alerts give it.
  EXPECT_EQ(afterEnforced["intercept"]["calls"]["total"], 1) << afterEnforced.dump(2);
  EXPECT_EQ(afterEnforced["intercept"]["calls"]["forwarded"], 1);
  EXPECT_EQ(afterEnforced["intercept"]["calls"]["blocked"], 0);
  EXPECT_EQ(afterEnforced["cgroup"], attach_->relativePath());

  // What an operator reviews: journalctl -t shadowaid SHADOWAI_CGROUP=... with structured fields.
  auto modeChanged = alerts("mode-changed", {"SHADOWAI_CGROUP=" + workload_->relativePath(), "SHADOWAI_MODE=enforce"});
  ASSERT_EQ(modeChanged.size(), 1u);
  EXPECT_EQ(modeChanged[0]["SHADOWAI_PREVIOUS_MODE"], "detect");
  auto calls = alerts("llm-call-intercepted", {"SHADOWAI_PROVIDER=openai", "SHADOWAI_HOST=api.openai.com"});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["SHADOWAI_CGROUP"], workload_->relativePath());
  EXPECT_EQ(calls[0]["SHADOWAI_ADDRESS"], "127.0.0.2");
  EXPECT_EQ(calls[0]["SHADOWAI_COMM"], "curl");
  EXPECT_EQ(calls[0]["SHADOWAI_STATUS"], "200");
  EXPECT_EQ(calls[0]["SHADOWAI_METHOD"], "GET");
  EXPECT_EQ(calls[0]["SHADOWAI_PATH"], "/v1/models");
  EXPECT_EQ(calls[0]["SHADOWAI_CREDENTIAL"], "client");
  EXPECT_TRUE(calls[0].contains("SHADOWAI_LATENCY_MS"));
  EXPECT_EQ(calls[0].dump().find("sk-client-own-key"), std::string::npos) << "a key reached the journal";
  auto detected = alerts("llm-call-detected", {"SHADOWAI_PROVIDER=openai", "SHADOWAI_CGROUP=" + workload_->relativePath()});
  ASSERT_GE(detected.size(), 1u);
  EXPECT_EQ(detected[0]["SHADOWAI_PORT"], "443") << "detection must report the original destination, not the proxy";

  RunResult bystander = curl(*other_, {"https://api.openai.com/v1/models"});
  ASSERT_EQ(bystander.exitCode, 0) << bystander.err;
  EXPECT_EQ(openAi_->requests().size(), 2u);
  EXPECT_EQ(status()["proxy"]["accepted"], 1) << "a non-enforced cgroup went through the proxy";

  // IPv6 destination, through the proxy's IPv6 listener.
  RunResult v6 = curl(*workload_, {"-6", "https://api.anthropic.com/v1/messages"}, daemonCaPath());
  ASSERT_EQ(v6.exitCode, 0) << v6.err;
  EXPECT_EQ(lastLine(v6.out), anthropicV6_ + " 443");
  EXPECT_EQ(anthropic_->requests().size(), 1u);
  EXPECT_EQ(status()["proxy"]["intercepted_connections"], 2);
}

TEST_F(DaemonTest, WorkloadThatDoesNotTrustTheHostCaCannotCallTheProvider) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  // Trusting only the real server's CA: the proxy's certificate is refused, and nothing bypasses it.
  RunResult refused = curl(*workload_, {"https://api.openai.com/v1/models"});
  EXPECT_EQ(refused.exitCode, 60) << "curl did not fail on the certificate: " << refused.out << refused.err;
  EXPECT_EQ(openAi_->connectionCount(), 0u) << "the provider was reached without the proxy's handshake";
  auto failed = alerts("intercept-tls-failed", {"SHADOWAI_HOST=api.openai.com", "SHADOWAI_CGROUP=" + workload_->relativePath()});
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0]["SHADOWAI_REASON"].get<std::string>().find("ca"), std::string::npos) << failed[0].dump();
}

TEST_F(DaemonTest, NonCatalogTlsIsSplicedByteForByteWithTheRealCertificate) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  const std::string upload = largePayload(3 << 20, 11);
  ASSERT_TRUE(writeFileAtomic(dir_->filePath("upload.bin"), upload));
  const std::string downloaded = dir_->filePath("download.bin");
  // --cacert: curl accepts only the real server's certificate, so nothing in between terminated TLS.
  RunResult result = curl(*workload_, {"--data-binary", "@" + dir_->filePath("upload.bin"), "-o", downloaded,
                                       "https://www.not-an-llm.test/upload"});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  ASSERT_EQ(plainSite_->requests().size(), 1u);
  EXPECT_TRUE(plainSite_->requests()[0].body == upload) << "upload changed on the way";
  auto received = readFile(downloaded);
  ASSERT_TRUE(received);
  EXPECT_TRUE(*received == largePayload(4 << 20, 7)) << "download changed on the way";
  json after = status();
  EXPECT_EQ(after["proxy"]["spliced"], 1) << after.dump(2);
  // Not an address the catalog names: the upstream connect started while the ClientHello came in.
  EXPECT_EQ(after["proxy"]["early_connects"], 1) << after.dump(2);
  EXPECT_EQ(after["proxy"]["passed_through_llm_calls"], 0);
}

TEST_F(DaemonTest, ContainerWithItsOwnNetworkIsEnforcedThroughAListenerInItsNamespace) {
  auto init = startContainer(*workload_);
  ASSERT_TRUE(init);
  auto provider = startServer(kContainerGateway, "api.openai.com", {});
  TlsResponse big;
  big.contentType = "application/octet-stream";
  big.body = largePayload(2 << 20, 5);
  auto site = startServer(kContainerSite, "www.not-an-llm.test", big);
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);

  // `enforce` returned once the proxy listened in the container's namespace.
  json namespaces = status()["proxy"]["network_namespaces"];
  ASSERT_EQ(namespaces.size(), 1u) << namespaces.dump(2) << daemon_->describeOutput();
  EXPECT_EQ(namespaces[0]["netns"], netnsInodeOf(init->pid()));
  EXPECT_EQ(namespaces[0]["listening"], json::array({"127.0.0.1", "::1"})) << namespaces.dump(2);

  const std::string resolveProvider = std::string("api.openai.com:443:") + kContainerGateway;
  RunResult call = curlIn(*init, *workload_, {"--resolve", resolveProvider, "https://api.openai.com/v1/models"},
                          daemonCaPath());
  ASSERT_EQ(call.exitCode, 0) << call.err << daemon_->describeOutput();
  EXPECT_NE(call.out.find("shadowai-test"), std::string::npos) << "the provider's answer did not arrive";
  EXPECT_EQ(lastLine(call.out), std::string(kContainerGateway) + " 443") << "getpeername() did not show the original address";
  ASSERT_EQ(provider->requests().size(), 1u);
  EXPECT_EQ(provider->requests()[0].sni, "api.openai.com");
  // The proxy's upstream connection left from the container's namespace, as the workload's own
  // would have: its routes and network policy still apply.
  EXPECT_EQ(provider->requests()[0].clientAddress, kContainerAddress);
  auto calls = alerts("llm-call-intercepted", {"SHADOWAI_ADDRESS=" + std::string(kContainerGateway)});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["SHADOWAI_CGROUP"], workload_->relativePath());

  // A site not in the catalog is spliced, with its own certificate, from the container's namespace.
  const std::string downloaded = dir_->filePath("container-download.bin");
  RunResult spliced = curlIn(*init, *workload_,
                             {"--resolve", std::string("www.not-an-llm.test:443:") + kContainerSite, "-o", downloaded,
                              "https://www.not-an-llm.test/file"});
  ASSERT_EQ(spliced.exitCode, 0) << spliced.err;
  auto received = readFile(downloaded);
  ASSERT_TRUE(received);
  EXPECT_TRUE(*received == largePayload(2 << 20, 5)) << "download changed on the way";
  ASSERT_EQ(site->requests().size(), 1u);
  EXPECT_EQ(site->requests()[0].clientAddress, kContainerAddress);
  json after = status();
  EXPECT_EQ(after["proxy"]["accepted"], 2) << after.dump(2);
  EXPECT_EQ(after["proxy"]["intercepted_connections"], 1);
  EXPECT_EQ(after["proxy"]["spliced"], 1);

  // The container stops: the listener (which holds its namespace) goes.
  ASSERT_TRUE(init->sendSignal(SIGKILL));
  ASSERT_TRUE(init->wait(10s));
  for (int i = 0; i < 100 && !status()["proxy"]["network_namespaces"].empty(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status()["proxy"]["network_namespaces"], json::array()) << daemon_->describeOutput();
}

TEST_F(DaemonTest, ConnectionWithoutSniToACatalogAddressIsRefusedBeforeItReachesIt) {
  writeConfig("closed", {{"no_sni_catalog_address", "refuse"}});
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  // Plain HTTP to api.openai.com's address: no ClientHello, so no SNI. Refused once the daemon has
  // resolved the catalog through dnsmasq (until then the address is not known as the catalog's).
  auto probe = [&] { return run({SHADOWAI_CONNECT_PROBE_BINARY, kOpenAi, "443", "GET / HTTP/1.0\r\n\r\n"}, workload_.get()); };
  bool refused = false;
  for (int attempt = 0; attempt < 100 && !refused; ++attempt) {
    RunResult result = probe();
    refused = result.exitCode == 0 && result.out.find("reply=\n") != std::string::npos;
    if (!refused) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(refused) << "a connection without SNI to a catalog address was not refused";
  const size_t reachedBefore = openAi_->connectionCount();
  RunResult again = probe();
  EXPECT_NE(again.out.find("reply=\n"), std::string::npos) << again.out << again.err;
  // A refused connection never reaches its destination, not even with a TCP handshake: the
  // proxy connects early only to addresses the catalog does not name.
  EXPECT_EQ(openAi_->connectionCount(), reachedBefore);
  auto seen = alerts("no-sni-catalog-address", {"SHADOWAI_ACTION=refused", "SHADOWAI_ADDRESS=127.0.0.2"});
  ASSERT_GE(seen.size(), 1u);
  EXPECT_EQ(seen[0]["SHADOWAI_HOST"], "api.openai.com");
}

// A provider called without TLS, at an address nothing ties to it: the Host header names it.
TEST_F(DaemonTest, PlainHttpToAProviderIsAlertedAndRefusedLikeACallWithoutSni) {
  writeConfig("closed", {{"no_sni_catalog_address", "refuse"}});
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  RunResult call = curl(*workload_, {"-H", "Authorization: Bearer sk-plain-http-key", "-H", "Host: api.openai.com",
                                     std::string("http://") + kPlainSite + ":443/v1/models"});
  EXPECT_NE(call.exitCode, 0) << call.out;
  auto refused = alerts("no-sni-catalog-address", {"SHADOWAI_PROTOCOL=http", "SHADOWAI_HOST=api.openai.com"});
  ASSERT_EQ(refused.size(), 1u) << daemon_->describeOutput();
  EXPECT_EQ(refused[0]["SHADOWAI_ACTION"], "refused");
  EXPECT_EQ(refused[0]["SHADOWAI_PROVIDER"], "openai");
  EXPECT_EQ(refused[0]["SHADOWAI_CGROUP"], workload_->relativePath());
  EXPECT_EQ(refused[0].dump().find("sk-plain-http-key"), std::string::npos) << "a key reached the journal";
  EXPECT_EQ(status()["proxy"]["refused_by_decision"], 1);
  EXPECT_TRUE(plainSite_->requests().empty());
}

TEST_F(DaemonTest, DirectConnectionToTheProxyPortIsRefused) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  RunResult probe = run({SHADOWAI_CONNECT_PROBE_BINARY, "127.0.0.1", "15443", "GET / HTTP/1.0"}, other_.get());
  EXPECT_EQ(probe.exitCode, 0) << probe.out << probe.err;
  EXPECT_NE(probe.out.find("reply=\n"), std::string::npos) << "the proxy answered a direct connection: " << probe.out;
  EXPECT_GE(status()["proxy"]["refused_no_destination"].get<int>(), 1);
  EXPECT_EQ(alerts("proxy-direct-connect-refused", {"SHADOWAI_ACTION=refused"}).size(), 1u);
}

TEST_F(DaemonTest, QuicToAnLlmEndpointIsRefusedInEnforceModeOnly) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  // The daemon learns api.openai.com's address by resolving the catalog through dnsmasq and
  // publishes it to the kernel once a second.
  int exitCode = 0;
  for (int attempt = 0; attempt < 100 && exitCode != 1; ++attempt) {
    exitCode = run({SHADOWAI_UDP_SEND_BINARY, kOpenAi, "443"}, workload_.get()).exitCode;
    if (exitCode != 1) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(exitCode, 1) << "UDP/443 to an LLM address left an enforced cgroup";
  EXPECT_EQ(run({SHADOWAI_UDP_SEND_BINARY, kOpenAi, "443"}, other_.get()).exitCode, 0);
  EXPECT_EQ(run({SHADOWAI_UDP_SEND_BINARY, kPlainSite, "443"}, workload_.get()).exitCode, 0);
  // api.anthropic.com is pinned in /etc/hosts only (DNS does not know it): refused all the same.
  EXPECT_EQ(run({SHADOWAI_UDP_SEND_BINARY, anthropicV6_, "443"}, workload_.get()).exitCode, 1)
      << "UDP/443 to a provider address from /etc/hosts left an enforced cgroup";
  auto refused = alerts("quic-refused", {"SHADOWAI_ADDRESS=127.0.0.2", "SHADOWAI_CGROUP=" + workload_->relativePath()});
  ASSERT_GE(refused.size(), 1u);
  EXPECT_EQ(refused[0]["SHADOWAI_HOST"], "api.openai.com");
  // The status counter agrees with the alerts in the journal (it counts before alerting).
  uint64_t counted = 0;
  size_t alerted = 0;
  for (int i = 0; i < 50; ++i) {
    alerted = alerts("quic-refused", {}).size();
    counted = status()["detection"]["quic_refused"].get<uint64_t>();
    if (counted == alerted) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(counted, alerted);
}

TEST_F(DaemonTest, ClosedModeFailsFastAfterKillAndRestartRestoresEnforcement) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  ASSERT_TRUE(daemon_->sendSignal(SIGKILL));
  (void)daemon_->wait(10s);

  const size_t before = openAi_->connectionCount();
  RunResult down = curl(*workload_, {"https://api.openai.com/v1/models"});
  EXPECT_EQ(down.exitCode, 7) << "curl should fail to connect: " << down.err;
  EXPECT_EQ(openAi_->connectionCount(), before) << "an enforced connection reached the server directly";

  startDaemon();  // no `shadowai enforce` again
  ASSERT_FALSE(HasFatalFailure());
  RunResult up = curl(*workload_, {"https://api.openai.com/v1/models"}, daemonCaPath());
  ASSERT_EQ(up.exitCode, 0) << up.err;
  EXPECT_EQ(status()["proxy"]["accepted"], 1) << "enforcement did not come back with the daemon";
}

TEST_F(DaemonTest, OpenModeLetsTrafficThroughOnceTheHeartbeatExpires) {
  writeConfig("open");
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  ASSERT_TRUE(daemon_->sendSignal(SIGKILL));
  (void)daemon_->wait(10s);
  std::this_thread::sleep_for(1500ms);  // past heartbeat_timeout_s: the behaviour under test
  RunResult direct = curl(*workload_, {"https://api.openai.com/v1/models"});
  ASSERT_EQ(direct.exitCode, 0) << direct.err;
  EXPECT_EQ(openAi_->requests().size(), 1u);
  startDaemon();  // it notices the gap and says so
  ASSERT_FALSE(HasFatalFailure());
  auto resumed = alerts("enforcement-resumed", {"SHADOWAI_FAILURE_MODE=open"});
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0]["PRIORITY"], "3");
}

TEST_F(DaemonTest, StartAndStopAreAlertedWithTheGovernedCgroupAndWhy) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  // Relative to the cgroup v2 root, like SHADOWAI_CGROUP everywhere: the filter users type.
  auto started = alerts("daemon-started", {"SHADOWAI_CGROUP=" + attach_->relativePath()});
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0]["SHADOWAI_FAILURE_MODE"], "closed");
  ASSERT_TRUE(daemon_->sendSignal(SIGTERM));
  auto exited = daemon_->wait(10s);
  ASSERT_TRUE(exited) << exited.error().describe();
  EXPECT_EQ(*exited, 0) << daemon_->describeOutput();
  auto stopping = alerts("daemon-stopping", {"SHADOWAI_REASON=signal SIGTERM"});
  ASSERT_EQ(stopping.size(), 1u);
  EXPECT_EQ(stopping[0]["SHADOWAI_FAILURE_MODE"], "closed");
}

TEST_F(DaemonTest, AStartThatFailsAfterTheKernelCheckSaysWhyWithoutAStartedAlert) {
  writeConfig("closed", {{"cgroup", attach_->relativePath() + "/no-such-child"}});
  RunResult failed = run({SHADOWAI_DAEMON_BINARY, "--config", configPath()});
  EXPECT_EQ(failed.exitCode, 1) << failed.out << failed.err;
  auto stopping = alerts("daemon-stopping", {});
  ASSERT_EQ(stopping.size(), 1u);
  const std::string reason = journalField(stopping[0], "SHADOWAI_REASON").value_or("");
  EXPECT_EQ(reason.rfind("start failed: bad \"cgroup\"", 0), 0u) << reason;
  auto started = journald_.readEntries({"SHADOWAI_ALERT=daemon-started"});
  ASSERT_TRUE(started) << started.error().describe();
  EXPECT_TRUE(started->empty()) << "a daemon that did not start said it had";
}

// A start that fails after attaching (here on its policy: policy_dir is a symlink loop) leaves the
// kernel as it found it: nothing attached or pinned. Had it found enforcement in force (a daemon that
// crashed), that stays, and enforced workloads keep failing closed.
TEST_F(DaemonTest, AStartThatFailsOnItsPolicyLeavesTheKernelAsItFoundIt) {
  const std::string loop = dir_->filePath("policy-loop");
  ASSERT_EQ(::symlink(loop.c_str(), loop.c_str()), 0);
  writeConfig("closed", {{"policy_dir", loop}});
  RunResult failed = run({SHADOWAI_DAEMON_BINARY, "--config", configPath()});
  EXPECT_EQ(failed.exitCode, 1) << failed.out << failed.err;
  // The kernel frees a link once its last reference (the pin) is gone, not always at once.
  auto attached = attachedProgramCount(attach_->path(), BPF_CGROUP_INET4_CONNECT);
  for (int i = 0; i < 100 && attached && *attached != 0; ++i) {
    std::this_thread::sleep_for(50ms);
    attached = attachedProgramCount(attach_->path(), BPF_CGROUP_INET4_CONNECT);
  }
  ASSERT_TRUE(attached) << attached.error().describe();
  EXPECT_EQ(*attached, 0u) << "a failed start left its programs attached";
  std::vector<std::string> pins;  // a bpffs of its own also holds the kernel's maps.debug and progs.debug
  for (const auto& entry : std::filesystem::directory_iterator(daemon_->pinDir())) {
    if (!entry.path().filename().string().ends_with(".debug")) pins.push_back(entry.path().filename());
  }
  EXPECT_EQ(pins, std::vector<std::string>{}) << "a failed start left pins behind";

  writeConfig("closed");
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  ASSERT_TRUE(daemon_->sendSignal(SIGKILL));
  (void)daemon_->wait(10s);
  writeConfig("closed", {{"policy_dir", loop}});
  RunResult failedAgain = run({SHADOWAI_DAEMON_BINARY, "--config", configPath()});
  EXPECT_EQ(failedAgain.exitCode, 1) << failedAgain.out << failedAgain.err;
  attached = attachedProgramCount(attach_->path(), BPF_CGROUP_INET4_CONNECT);
  ASSERT_TRUE(attached) << attached.error().describe();
  EXPECT_EQ(*attached, 1u) << "enforcement found in force was removed";
  const size_t before = openAi_->connectionCount();
  RunResult down = curl(*workload_, {"https://api.openai.com/v1/models"});
  EXPECT_EQ(down.exitCode, 7) << "an enforced workload bypassed the proxy: " << down.err;
  EXPECT_EQ(openAi_->connectionCount(), before);
}

TEST_F(DaemonTest, KeysInEnvironmentsAreAlertedWithFingerprintOnly) {
  auto process = spawnKeyHolder("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef");
  ASSERT_TRUE(process);
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  auto found = alerts("env-key-detected", {"SHADOWAI_VARIABLE=ANTHROPIC_API_KEY"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["SHADOWAI_PID"], std::to_string(process->pid()));
  EXPECT_EQ(found[0]["SHADOWAI_PROVIDER"], "anthropic");
  EXPECT_EQ(found[0]["SHADOWAI_FINGERPRINT"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_EQ(found[0].dump().find("sk-ant-test"), std::string::npos) << "the key leaked into the journal";

  // A short job started later, gone long before the next 30-second pass: read when it execs.
  SpawnOptions job;
  job.environment = {{"OPENAI_API_KEY", "sk-proj-shortlived-0123456789"}};
  job.cgroupDirectory = workload_->path();
  auto shortJob = ChildProcess::spawn({"sleep", "2"}, job);
  ASSERT_TRUE(shortJob);
  ASSERT_TRUE(shortJob->wait(10s));
  auto jobFound = alerts("env-key-detected", {"SHADOWAI_VARIABLE=OPENAI_API_KEY"});
  ASSERT_EQ(jobFound.size(), 1u) << daemon_->describeOutput();
  EXPECT_EQ(jobFound[0]["SHADOWAI_PID"], std::to_string(shortJob->pid()));
}

// The capabilities the shipped unit leaves the daemon (its CapabilityBoundingSet= lines), as setpriv
// arguments: "-all,+bpf,+net_admin,...", less EXCEPT.
std::string unitBoundingSet(const std::string& except) {
  auto unit = readFile(SHADOWAI_UNIT_FILE);
  if (!unit) return {};
  std::string set = "-all";
  std::istringstream lines(*unit);
  const std::string key = "CapabilityBoundingSet=";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream names(line.substr(key.size()));
    for (std::string name; names >> name;) {
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      if (name.rfind("cap_", 0) == 0 && name != except) set += ",+" + name.substr(4);
    }
  }
  return set;
}

// What the packaged daemon has under systemd: only the unit's capabilities and no_new_privs. Every
// part of its work must still function: loading and attaching the programs (their attribution
// helpers need CAP_PERFMON), detection with attribution (the environment of a root process, which
// needs ptrace read access once the daemon has fewer capabilities than it), the control socket
// handed to its group, enforce mode and an intercepted call. Without CAP_SYS_ADMIN, which the unit
// keeps for containers' network namespaces (ContainerWithItsOwnNetwork... below) and kernels before
// 5.8: it would grant all of those too, and hide a missing line.
TEST_F(DaemonTest, WorksWithOnlyTheCapabilitiesOfTheShippedUnit) {
  const std::string boundingSet = unitBoundingSet("cap_sys_admin");
  const group* controlGroup = ::getgrnam("nogroup");
  ASSERT_NE(controlGroup, nullptr) << "the test needs the group nogroup";
  const gid_t controlGid = controlGroup->gr_gid;
  writeConfig("closed", {{"control_group", "nogroup"}});
  ASSERT_NE(boundingSet.find("+bpf"), std::string::npos) << "no CapabilityBoundingSet= read from " << SHADOWAI_UNIT_FILE;
  auto process = spawnKeyHolder("OPENAI_API_KEY", "sk-proj-unit-capabilities-0123456789");
  ASSERT_TRUE(process);

  startDaemon({"setpriv", "--bounding-set", boundingSet, "--inh-caps", "-all", "--no-new-privs", "--"});
  ASSERT_FALSE(HasFatalFailure());
  // The daemon really runs with the reduced set.
  auto daemonStatus = readFile("/proc/" + std::to_string(daemon_->pid()) + "/status");
  ASSERT_TRUE(daemonStatus);
  EXPECT_EQ(daemonStatus->find("CapBnd:\t000001ffffffffff"), std::string::npos) << *daemonStatus;
  EXPECT_NE(daemonStatus->find("NoNewPrivs:\t1"), std::string::npos) << *daemonStatus;
  struct stat socketStat {};
  ASSERT_EQ(::stat(daemon_->socketPath().c_str(), &socketStat), 0);
  EXPECT_EQ(socketStat.st_gid, controlGid) << "the control socket was not handed to its group";
  EXPECT_EQ(socketStat.st_mode & 0777, 0660u);

  auto found = alerts("env-key-detected", {"SHADOWAI_VARIABLE=OPENAI_API_KEY"});
  ASSERT_EQ(found.size(), 1u) << daemon_->describeOutput();
  EXPECT_EQ(found[0]["SHADOWAI_PID"], std::to_string(process->pid()));

  enforce(*workload_);
  RunResult enforced = curl(*workload_, {"https://api.openai.com/v1/models"}, daemonCaPath());
  ASSERT_EQ(enforced.exitCode, 0) << enforced.err << daemon_->describeOutput();
  EXPECT_EQ(lastLine(enforced.out), "127.0.0.2 443");
  ASSERT_EQ(openAi_->requests().size(), 1u);
  auto calls = alerts("llm-call-intercepted", {"SHADOWAI_PROVIDER=openai", "SHADOWAI_CGROUP=" + workload_->relativePath()});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["SHADOWAI_COMM"], "curl") << "attribution failed under the unit's capabilities";
  EXPECT_EQ(status()["proxy"]["intercepted_connections"], 1);
}

// Without CAP_SYS_ADMIN (a drop-in removed it) the proxy cannot enter a container's network
// namespace: the operator is told, and the container's connections fail rather than bypass the proxy.
TEST_F(DaemonTest, AContainerTheProxyCannotListenInIsAlertedAndFailsClosed) {
  const std::string boundingSet = unitBoundingSet("cap_sys_admin");
  ASSERT_NE(boundingSet.find("+bpf"), std::string::npos) << "no CapabilityBoundingSet= read from " << SHADOWAI_UNIT_FILE;
  auto init = startContainer(*workload_);
  ASSERT_TRUE(init);
  auto provider = startServer(kContainerGateway, "api.openai.com", {});
  startDaemon({"setpriv", "--bounding-set", boundingSet, "--inh-caps", "-all", "--no-new-privs", "--"});
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);

  // Without CAP_SYS_ADMIN the daemon cannot even read which namespace the container is in (ptrace
  // read access to a root process), only that it is not its own.
  auto failed = alerts("enforce-netns-failed", {"SHADOWAI_PID=" + std::to_string(init->pid())});
  ASSERT_EQ(failed.size(), 1u) << status().dump(2) << daemon_->describeOutput();
  EXPECT_EQ(failed[0]["SHADOWAI_CGROUP"], workload_->relativePath());
  EXPECT_NE(failed[0]["SHADOWAI_REASON"].get<std::string>().find("CAP_SYS_ADMIN"), std::string::npos)
      << failed[0].dump(2);
  json namespaces = status()["proxy"]["network_namespaces"];
  ASSERT_EQ(namespaces.size(), 1u) << namespaces.dump(2);
  EXPECT_EQ(namespaces[0]["pid"], init->pid());
  EXPECT_TRUE(namespaces[0].contains("error")) << namespaces.dump(2);

  RunResult call = curlIn(*init, *workload_, {"--resolve", std::string("api.openai.com:443:") + kContainerGateway,
                                              "https://api.openai.com/v1/models"}, daemonCaPath());
  EXPECT_EQ(call.exitCode, 7) << "not a connection error: " << call.out << call.err;
  EXPECT_EQ(provider->connectionCount(), 0u) << "the container reached the provider without the proxy";

  // Once per namespace, not once per connect or pass: the curl above was held, told the daemon, and
  // was refused at once; two more of the daemon's once-a-second passes come by meanwhile.
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(alerts("enforce-netns-failed", {"SHADOWAI_PID=" + std::to_string(init->pid())}).size(), 1u)
      << daemon_->describeOutput();
}

TEST_F(DaemonTest, ModeFollowsTheCgroupPathWhenItIsRecreated) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  // As `systemctl restart` does: the unit's cgroup is removed and made again, with a new id.
  workload_.reset();
  auto again = attach_->createChild("workload");
  ASSERT_TRUE(again);
  workload_ = std::make_unique<TestCgroup>(std::move(*again));
  int accepted = 0;
  const std::string trusted = bothCasPath();  // direct until the mode is back, intercepted after
  for (int attempt = 0; attempt < 50 && accepted == 0; ++attempt) {
    RunResult result = curl(*workload_, {"https://api.openai.com/v1/models"}, trusted);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    accepted = status()["proxy"]["accepted"].get<int>();
    if (accepted == 0) std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(accepted, 1) << "the recreated cgroup lost its enforce mode";
}

// The restart in a loop, connecting the moment the cgroup is back: the kernel applies the mode
// inside mkdir(2), so not one connection goes around the proxy.
TEST_F(DaemonTest, ARestartedCgroupIsEnforcedFromItsFirstConnect) {
  writeConfig("closed", {{"no_sni_catalog_address", "refuse"}});
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  constexpr int kRestarts = 200;
  for (int round = 0; round < kRestarts; ++round) {
    workload_.reset();
    auto again = attach_->createChild("workload");
    ASSERT_TRUE(again);
    workload_ = std::make_unique<TestCgroup>(std::move(*again));
    RunResult probe = run({SHADOWAI_CONNECT_PROBE_BINARY, kOpenAi, "443", "ping"}, workload_.get());
    ASSERT_EQ(probe.exitCode, 0) << "round " << round << ": " << probe.out;
    ASSERT_EQ(openAi_->connectionCount(), 0u) << "round " << round << ": a connection reached the provider directly";
  }
  EXPECT_EQ(status()["proxy"]["accepted"], kRestarts) << daemon_->describeOutput();
}

// A container that calls out the moment it starts: the kernel holds its first SYN until the proxy
// listens in the new namespace, so the call is served (a second late), never refused.
TEST_F(DaemonTest, AContainerThatConnectsTheMomentItStartsIsServed) {
  writeConfig("closed", {{"no_sni_catalog_address", "refuse"}});
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  constexpr int kContainers = 50;
  const std::string command =
      std::string("ip link set lo up && exec ") + SHADOWAI_CONNECT_PROBE_BINARY + " 127.0.0.2 443 ping";
  for (int round = 0; round < kContainers; ++round) {
    RunResult probe = run({"unshare", "--net", "sh", "-c", command}, workload_.get());
    ASSERT_EQ(probe.exitCode, 0) << "round " << round << ": " << probe.out << probe.err << daemon_->describeOutput();
    ASSERT_NE(probe.out.find("peer=127.0.0.2:443"), std::string::npos) << probe.out;
  }
  json after = status();
  EXPECT_EQ(after["proxy"]["accepted"], kContainers) << after.dump(2);
  EXPECT_EQ(openAi_->connectionCount(), 0u);
  // Each container is gone, and with it the listener that held its namespace.
  for (int i = 0; i < 100 && !status()["proxy"]["network_namespaces"].empty(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status()["proxy"]["network_namespaces"], json::array()) << daemon_->describeOutput();
}

TEST_F(DaemonTest, ExhaustingTheProxysDescriptorsNeverLetsTrafficBypassIt) {
  // 600 descriptors, less than twice the reserve (256, plus 256 per proxy thread for the
  // interception's pooled upstream connections): the proxy admits its floor of 64 connections and
  // refuses the rest.
  startDaemon({"prlimit", "--nofile=600:600"});
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  SpawnOptions options;
  options.cgroupDirectory = workload_->path();
  auto holder = ChildProcess::spawn({SHADOWAI_HOLD_CONNECTIONS_BINARY, kOpenAi, "443", "500"}, options);
  ASSERT_TRUE(holder);
  for (int i = 0; i < 100 && holder->stdoutText().find("opened=") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(holder->stdoutText().find("opened="), std::string::npos) << holder->describeOutput();
  std::this_thread::sleep_for(2500ms);  // two rounds of the daemon's periodic mode re-application

  json after = status();
  ASSERT_FALSE(after.is_null());
  EXPECT_GE(after["proxy"]["refused_over_limit"].get<int>(), 1) << after.dump(2);
  EXPECT_EQ(openAi_->connectionCount(), 0u) << "connections reached the server without the proxy";
  bool enforced = false;
  for (const auto& entry : after["modes"]) {
    if (entry["cgroup"] == workload_->relativePath() && entry["mode"] == "enforce") enforced = true;
  }
  EXPECT_TRUE(enforced) << after["modes"].dump();
  RunResult later = curl(*workload_, {"--max-time", "5", "https://api.openai.com/v1/models"});
  EXPECT_EQ(openAi_->connectionCount(), 0u) << "a new connection bypassed the proxy: " << later.out;
}

// shadowai-scan on a host where shadowaid enforces: the enforced workload's call is in the report
// with its real destination and provider (not the proxy's loopback address), counted as enforced.
TEST_F(DaemonTest, AScanWhereShadowaidEnforcesReportsEnforcedCallsWithTheirRealDestination) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  enforce(*workload_);
  auto before = attachedProgramCount(attach_->path(), BPF_CGROUP_INET_INGRESS);
  ASSERT_TRUE(before);
  const std::string reportPath = dir_->filePath("scan.json");
  auto scan = ChildProcess::spawn({SHADOWAI_SCAN_BINARY, "--cgroup", attach_->relativePath(), "--duration", "120s",
                                   "--format", "json", "--output", reportPath, "--shadowaid-pins", daemon_->pinDir()});
  ASSERT_TRUE(scan) << scan.error().describe();
  for (int i = 0; i < 200; ++i) {
    auto now = attachedProgramCount(attach_->path(), BPF_CGROUP_INET_INGRESS);
    if (now && *now > *before) break;
    std::this_thread::sleep_for(50ms);
  }
  RunResult call = curl(*workload_, {"https://api.openai.com/v1/models"}, daemonCaPath());
  ASSERT_EQ(call.exitCode, 0) << call.err;
  ASSERT_EQ(status()["proxy"]["intercepted_connections"], 1);
  ASSERT_TRUE(scan->sendSignal(SIGINT));
  auto exited = scan->wait(30s);
  ASSERT_TRUE(exited) << scan->describeOutput();
  auto text = readFile(reportPath);
  ASSERT_TRUE(text) << scan->describeOutput();
  json report = json::parse(*text);
  EXPECT_EQ(report["shadowaid_enforcing"], true) << report.dump(2);
  const json* found = nullptr;
  for (const auto& workload : report["workloads"]) {
    for (const auto& entry : workload["calls"]) {
      if (entry["provider"] == "openai") found = &entry;
    }
  }
  ASSERT_NE(found, nullptr) << "the enforced call is missing from the scan: " << report.dump(2);
  EXPECT_EQ((*found)["host"], "api.openai.com");
  EXPECT_EQ((*found)["port"], 443) << "the proxy's port, not the real destination";
  EXPECT_EQ((*found)["matched_by"], "sni");
  EXPECT_EQ((*found)["connections"], 1);
  EXPECT_EQ((*found)["enforced_connections"], 1);
}

// Scripts read `shadowai status --json`: every field it has is in docs/daemon.md's table.
TEST_F(DaemonTest, EveryStatusFieldIsDocumented) {
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  auto docs = readFile(SHADOWAI_SOURCE_RULES_DIR "/../docs/daemon.md");
  ASSERT_TRUE(docs);
  std::vector<std::string> undocumented;
  std::function<void(const json&, const std::string&)> walk = [&](const json& object, const std::string& prefix) {
    for (const auto& [key, value] : object.items()) {
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (value.is_object()) {
        walk(value, path);
      } else if (docs->find("| `" + path + "`") == std::string::npos && docs->find(", `" + path + "` |") == std::string::npos) {
        undocumented.push_back(path);
      }
    }
  };
  json current = status();
  ASSERT_TRUE(current.is_object());
  walk(current, "");
  EXPECT_EQ(undocumented, std::vector<std::string>{}) << "add them to the status table in docs/daemon.md";
}

TEST_F(DaemonTest, CliErrorsAreOneLine) {
  RunResult notRunning = cli({"status"});
  EXPECT_EQ(notRunning.exitCode, 2);
  EXPECT_NE(notRunning.err.find("not running"), std::string::npos) << notRunning.err;
  startDaemon();
  ASSERT_FALSE(HasFatalFailure());
  RunResult unknown = cli({"enforce", "--cgroup", attach_->relativePath() + "/no-such"});
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_NE(unknown.err.find("unknown cgroup"), std::string::npos) << unknown.err;
  RunResult unit = cli({"enforce", "--unit", "no-such-unit.service"});
  EXPECT_EQ(unit.exitCode, 2);
  EXPECT_NE(unit.err.find("unknown unit"), std::string::npos) << unit.err;
  for (const auto* result : {&notRunning, &unknown, &unit}) {
    EXPECT_EQ(std::count(result->err.begin(), result->err.end(), '\n'), 1) << result->err;
  }
}

}  // namespace
}  // namespace shadowai::test
