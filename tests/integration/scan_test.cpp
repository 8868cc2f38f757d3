// shadowai-scan against the real kernel: the test builds its own world (network and mount
// namespace from main(), its own cgroup, TLS servers posing as provider hosts with certificates
// from a test CA, a real dnsmasq), runs the real binary attached to its own cgroup only, drives
// real clients (curl, bash /dev/tcp, an unconnected UDP sender) from inside that cgroup, and
// checks the JSON report the way a user's script would read it.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "support/bpf_attachments.h"
#include "support/child_process.h"
#include "support/dnsmasq.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"
#include "support/tls_server.h"

namespace shadowai::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kOpenAiV4 = "127.0.0.2";    // api.openai.com, and the CDN-sharing non-catalog host
constexpr const char* kAnthropicV6 = "fd5a::3";   // api.anthropic.com, IPv6 only
constexpr const char* kMistralV4 = "127.0.0.5";   // api.mistral.ai, reached only through DNS (CNAME)
constexpr const char* kGroqV4 = "127.0.0.6";      // api.groq.com, reached only through DNS (QUIC)
constexpr const char* kDnsServer = "127.0.0.53";
constexpr const char* kPlainHttpV4 = "127.0.0.9";  // no name at all: reached by plain HTTP with a Host header
constexpr const char* kFakeKey = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0";

std::string sha256Prefix(const std::string& value) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(value.data(), value.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 6; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return "sha256:" + out;
}

// Every call row of the report, flattened with its workload's cgroup and process.
std::vector<json> callsOf(const json& report) {
  std::vector<json> calls;
  for (const auto& workload : report.at("workloads")) {
    for (auto call : workload.at("calls")) {
      call["cgroup"] = workload.at("workload").at("cgroup");
      call["comm"] = workload.at("process").at("comm");
      calls.push_back(call);
    }
  }
  return calls;
}

const json* findCall(const std::vector<json>& calls, const std::string& provider, const std::string& method,
                     const std::string& protocol) {
  for (const auto& call : calls) {
    if (call.at("provider") == provider && call.at("matched_by") == method && call.at("protocol") == protocol) {
      return &call;
    }
  }
  return nullptr;
}

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    auto dir = TempDir::create("shadowai-scan-test");
    ASSERT_TRUE(dir) << dir.error().describe();
    dir_ = std::make_unique<TempDir>(std::move(*dir));

    ASSERT_TRUE(setHostsFile(std::string("127.0.0.1 localhost\n::1 localhost\n") + kOpenAiV4 +
                             " api.openai.com\n" + kOpenAiV4 + " www.not-an-llm.test\n" + kAnthropicV6 +
                             " api.anthropic.com\n"));
    ASSERT_TRUE(setResolvConf(std::string("nameserver ") + kDnsServer + "\noptions timeout:1 attempts:1\n"));

    auto ca = TestCa::create(dir_->path());
    ASSERT_TRUE(ca) << ca.error().describe();
    ca_ = std::make_unique<TestCa>(std::move(*ca));
    // One server on the shared address answers for a catalog host and a non-catalog one (a CDN).
    startServer(kOpenAiV4, {"api.openai.com", "www.not-an-llm.test"});
    startServer(kAnthropicV6, {"api.anthropic.com"});
    startServer(kMistralV4, {"api.mistral.ai"});
    startServer(kPlainHttpV4, {"www.not-an-llm.test"});

    dns_ = std::make_unique<DnsmasqServer>(kDnsServer, dir_->path());
    dns_->addHost("api.openai.com", kOpenAiV4);
    dns_->addHost("api.mistral.ai", kMistralV4);
    dns_->addHost("api.groq.com", kGroqV4);
    dns_->addCname("llm-alias.corp.test", "api.mistral.ai");
    auto started = dns_->start();
    ASSERT_TRUE(started) << started.error().describe();

    auto cgroup = TestCgroup::create("scan");
    ASSERT_TRUE(cgroup) << cgroup.error().describe();
    cgroup_ = std::make_unique<TestCgroup>(std::move(*cgroup));
  }

  void startServer(const std::string& address, const std::vector<std::string>& names) {
    auto leaf = ca_->issueLeaf(names);
    ASSERT_TRUE(leaf) << leaf.error().describe();
    auto server = TlsTestServer::start(address, 443, leaf->certPath, leaf->keyPath);
    ASSERT_TRUE(server) << server.error().describe();
    servers_.push_back(std::move(*server));
  }

  // Starts shadowai-scan attached to the test cgroup and waits until its programs are in place.
  void startScan(std::vector<std::string> extraArgs = {}) {
    std::vector<std::string> argv = {SHADOWAI_SCAN_BINARY, "--cgroup", cgroup_->relativePath(), "--duration", "120s",
                                     "--format", "json", "--output", reportPath()};
    argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
    auto scan = ChildProcess::spawn(argv);
    ASSERT_TRUE(scan) << scan.error().describe();
    scan_ = std::make_unique<ChildProcess>(std::move(*scan));
    // ingress_dns_answer is attached last.
    auto attached = waitForAttachedProgram(cgroup_->path(), BPF_CGROUP_INET_INGRESS, 20s);
    ASSERT_TRUE(attached) << attached.error().describe() << "\n" << scan_->describeOutput();
  }

  // Ends the scan the way a user does (Ctrl-C) and reads its report.
  json stopScan(int expectedExit) {
    EXPECT_TRUE(scan_->sendSignal(SIGINT));
    auto status = scan_->wait(30s);
    EXPECT_TRUE(status) << scan_->describeOutput();
    if (!status) return {};
    EXPECT_EQ(*status, expectedExit) << scan_->describeOutput();
    auto text = readFile(reportPath());
    EXPECT_TRUE(text) << scan_->describeOutput();
    if (!text) return {};
    reportText_ = *text;
    return json::parse(*text);
  }

  // Runs a client inside the test cgroup to completion.
  int runClient(std::vector<std::string> argv, SpawnOptions options = {}) {
    options.cgroupDirectory = cgroup_->path();
    auto child = ChildProcess::spawn(std::move(argv), options);
    EXPECT_TRUE(child) << child.error().describe();
    if (!child) return -1;
    auto status = child->wait(30s);
    EXPECT_TRUE(status) << child->describeOutput();
    lastClientOutput_ = child->describeOutput();
    return status ? *status : -1;
  }

  std::string reportPath() const { return dir_->filePath("report.json"); }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TestCa> ca_;
  std::vector<TlsTestServer> servers_;
  std::unique_ptr<DnsmasqServer> dns_;
  std::unique_ptr<TestCgroup> cgroup_;
  std::unique_ptr<ChildProcess> scan_;
  std::string reportText_;
  std::string lastClientOutput_;
};

TEST_F(ScanTest, ReportsEachCatalogCallWithProviderWorkloadAndMatchMethod) {
  startScan();
  ASSERT_FALSE(HasFatalFailure());

  const std::string caFile = ca_->certPath();
  // SNI over IPv4 (name from /etc/hosts).
  EXPECT_EQ(runClient({"curl", "-sS", "--cacert", caFile, "https://api.openai.com/v1/models"}), 0) << lastClientOutput_;
  // SNI over IPv6.
  EXPECT_EQ(runClient({"curl", "-sS", "-6", "--cacert", caFile, "https://api.anthropic.com/v1/messages"}), 0)
      << lastClientOutput_;
  // A non-catalog host on the same address as api.openai.com: must not be reported.
  EXPECT_EQ(runClient({"curl", "-sS", "--cacert", caFile, "https://www.not-an-llm.test/"}), 0) << lastClientOutput_;
  // No TLS, name through dnsmasq via a CNAME chain: matched by the DNS answer.
  EXPECT_EQ(runClient({"bash", "-c", "exec 3<>/dev/tcp/llm-alias.corp.test/443"}), 0) << lastClientOutput_;
  // No TLS, no DNS, a bare address that start-up resolution ties to api.openai.com.
  EXPECT_EQ(runClient({"bash", "-c", std::string("exec 3<>/dev/tcp/") + kOpenAiV4 + "/443"}), 0)
      << lastClientOutput_;
  // An unconnected UDP datagram to 443 (QUIC) to a name resolved through dnsmasq.
  EXPECT_EQ(runClient({SHADOWAI_UDP_SEND_BINARY, "api.groq.com", "443", "3"}), 0) << lastClientOutput_;

  // Plain HTTP (no TLS) to an address nothing ties to a provider: the Host header names it. (The
  // server there speaks TLS: the call fails, after its request was on the wire.)
  runClient({"curl", "-sS", "--max-time", "5", "-H", "Host: api.openai.com",
             std::string("http://") + kPlainHttpV4 + ":443/v1/chat/completions"});

  // A process holding a key in its environment, alive when the scan ends.
  SpawnOptions keyHolder;
  keyHolder.environment = {{"OPENAI_API_KEY", kFakeKey}, {"UNRELATED_VARIABLE", "x"}};
  keyHolder.cgroupDirectory = cgroup_->path();
  auto holder = ChildProcess::spawn({"sleep", "60"}, keyHolder);
  ASSERT_TRUE(holder) << holder.error().describe();

  json report = stopScan(1);
  ASSERT_FALSE(report.is_null());
  SCOPED_TRACE(report.dump(2));
  const auto calls = callsOf(report);

  const json* openAiSni = findCall(calls, "openai", "sni", "tcp");
  ASSERT_NE(openAiSni, nullptr);
  EXPECT_EQ(openAiSni->at("host"), "api.openai.com");
  EXPECT_EQ(openAiSni->at("port"), 443);
  EXPECT_EQ(openAiSni->at("connections"), 1) << "the non-catalog host on the same address was counted";
  EXPECT_EQ(openAiSni->at("cgroup"), cgroup_->relativePath());
  EXPECT_EQ(openAiSni->at("comm"), "curl");

  const json* anthropic = findCall(calls, "anthropic", "sni", "tcp");
  ASSERT_NE(anthropic, nullptr);
  EXPECT_EQ(anthropic->at("host"), "api.anthropic.com");

  const json* mistral = findCall(calls, "mistral", "dns", "tcp");
  ASSERT_NE(mistral, nullptr);
  EXPECT_EQ(mistral->at("host"), "api.mistral.ai");
  EXPECT_EQ(mistral->at("comm"), "bash");

  const json* openAiIp = findCall(calls, "openai", "ip", "tcp");
  ASSERT_NE(openAiIp, nullptr);
  EXPECT_EQ(openAiIp->at("host"), "api.openai.com");

  const json* plainHttp = findCall(calls, "openai", "http-host", "tcp");
  ASSERT_NE(plainHttp, nullptr) << "plain HTTP to a provider was not detected";
  EXPECT_EQ(plainHttp->at("host"), "api.openai.com");
  EXPECT_EQ(report.at("totals").at("events").at("http_requests"), 1);

  const json* groq = findCall(calls, "groq", "dns", "quic");
  ASSERT_NE(groq, nullptr);
  EXPECT_EQ(groq->at("connections"), 1) << "three datagrams from one socket are one flow";

  for (const auto& call : calls) {
    EXPECT_NE(call.at("host"), "www.not-an-llm.test");
    EXPECT_EQ(call.at("cgroup"), cgroup_->relativePath());
  }

  // The key: variable name and fingerprint, never the value.
  ASSERT_EQ(report.at("env_keys").size(), 1u);
  const auto& key = report.at("env_keys")[0];
  EXPECT_EQ(key.at("variable"), "OPENAI_API_KEY");
  EXPECT_EQ(key.at("pid"), holder->pid());
  EXPECT_EQ(key.at("fingerprint"), sha256Prefix(kFakeKey));
  EXPECT_EQ(key.at("workload").at("cgroup"), cgroup_->relativePath());
  EXPECT_EQ(reportText_.find(kFakeKey), std::string::npos) << "the key value leaked into the report";
  EXPECT_EQ(reportText_.find("UNRELATED_VARIABLE"), std::string::npos);

  EXPECT_EQ(report.at("totals").at("lost_events").at("total"), 0);
  EXPECT_TRUE(report.at("ended_early").get<bool>());

  // Nothing stays attached once the scan has ended.
  auto remaining = attachedProgramCount(cgroup_->path(), BPF_CGROUP_INET4_CONNECT);
  ASSERT_TRUE(remaining);
  EXPECT_EQ(*remaining, 0u);
}

// A batch job that holds a key only in the middle of the scan (started after it, gone before its
// end) is read when it execs; a key holder outside the scanned cgroup is not the scan's business.
TEST_F(ScanTest, AKeyHolderThatLivesOnlyMidScanIsReported) {
  startScan();
  ASSERT_FALSE(HasFatalFailure());
  SpawnOptions job;
  job.environment = {{"OPENAI_API_KEY", kFakeKey}};
  job.cgroupDirectory = cgroup_->path();
  auto batch = ChildProcess::spawn({"sleep", "2"}, job);
  ASSERT_TRUE(batch) << batch.error().describe();
  SpawnOptions outside;
  outside.environment = {{"ANTHROPIC_API_KEY", kFakeKey}};
  auto elsewhere = ChildProcess::spawn({"sleep", "2"}, outside);
  ASSERT_TRUE(elsewhere) << elsewhere.error().describe();
  ASSERT_TRUE(batch->wait(10s));
  ASSERT_TRUE(elsewhere->wait(10s));

  json report = stopScan(1);
  ASSERT_FALSE(report.is_null());
  ASSERT_EQ(report.at("env_keys").size(), 1u) << report.dump(2);
  EXPECT_EQ(report.at("env_keys")[0].at("variable"), "OPENAI_API_KEY");
  EXPECT_EQ(report.at("env_keys")[0].at("pid"), batch->pid());
  EXPECT_EQ(report.at("env_keys")[0].at("fingerprint"), sha256Prefix(kFakeKey));
  EXPECT_EQ(reportText_.find(kFakeKey), std::string::npos) << "the key value leaked into the report";
}

TEST_F(ScanTest, QuietCgroupHasNoFindingAndExitsZero) {
  startScan();
  ASSERT_FALSE(HasFatalFailure());
  // Traffic that is not an LLM call: a non-catalog TLS host.
  EXPECT_EQ(runClient({"curl", "-sS", "--cacert", ca_->certPath(), "https://www.not-an-llm.test/"}), 0)
      << lastClientOutput_;
  json report = stopScan(0);
  ASSERT_FALSE(report.is_null());
  EXPECT_TRUE(report.at("workloads").empty()) << report.dump(2);
  EXPECT_TRUE(report.at("env_keys").empty());
  EXPECT_GE(report.at("totals").at("events").at("tls_hellos").get<int>(), 1);
  EXPECT_GE(report.at("totals").at("events").at("non_catalog_flows").get<int>(), 1);
}

TEST_F(ScanTest, BadArgumentsGiveOneLineErrorAndExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const Case cases[] = {
      {{"--cgroup", "/no-such-cgroup-for-shadowai"}, "bad --cgroup"},
      {{"--cgroup", "../../etc"}, "bad --cgroup"},
      {{"--duration", "10parsecs"}, "bad duration"},
      {{"--format", "xml"}, "--format"},
      {{"--catalog-dir", dir_->path() + "/bad-catalog"}, "bad.json:"},
      {{"as-nobody"}, "must run as root"},
  };
  ASSERT_TRUE(writeFileAtomic(dir_->path() + "/placeholder", ""));
  std::filesystem::create_directories(dir_->path() + "/bad-catalog");
  ASSERT_TRUE(writeFileAtomic(dir_->path() + "/bad-catalog/bad.json", "{\"endpoints\": [ {\"provider\": }\n"));
  for (const auto& c : cases) {
    std::vector<std::string> argv = {SHADOWAI_SCAN_BINARY};
    if (c.args.size() == 1 && c.args[0] == "as-nobody") {
      argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SHADOWAI_SCAN_BINARY};
    } else {
      argv.insert(argv.end(), c.args.begin(), c.args.end());
    }
    if (std::find(argv.begin(), argv.end(), "--duration") == argv.end()) {
      argv.insert(argv.end(), {"--duration", "1s"});
    }
    auto scan = ChildProcess::spawn(argv);
    ASSERT_TRUE(scan);
    auto status = scan->wait(30s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 2) << scan->describeOutput();
    const std::string err = scan->stderrText();
    EXPECT_NE(err.find(c.expected), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "not one line: " << err;
  }
}

}  // namespace
}  // namespace shadowai::test
