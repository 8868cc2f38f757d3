// Proves the integration-test world works before any real test relies on it: the namespaces, the
// fake provider hosts behind our own /etc/hosts and DNS, the test CA, cgroups and child processes.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "support/child_process.h"
#include "support/dnsmasq.h"
#include "support/require_root.h"
#include "support/test_ca.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"
#include "support/tls_server.h"
#include "tls/openssl_handles.h"

namespace shadowai::test {
namespace {

using std::chrono::seconds;

#define ASSERT_OK(expression)                                              \
  do {                                                                     \
    auto&& assertOkResult = (expression);                                  \
    ASSERT_TRUE(assertOkResult.ok()) << assertOkResult.error().describe(); \
  } while (0)

// curl as a workload would run it: no ~/.curlrc, no proxy from the environment, our CA only.
std::vector<std::string> curlCommand(const std::string& caPath, std::vector<std::string> extra) {
  std::vector<std::string> argv = {"curl", "-q", "--silent", "--show-error", "--fail", "--noproxy", "*",
                                   "--max-time", "20", "--cacert", caPath};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TlsServerOptions serverOptions(const std::string& address, uint16_t port, const LeafFiles& leaf) {
  TlsServerOptions options;
  options.address = address;
  options.port = port;
  options.certPath = leaf.certPath;
  options.keyPath = leaf.keyPath;
  return options;
}

class SupportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    ASSERT_TRUE(insideTestNamespaces());
  }
};

TEST_F(SupportTest, CurlReachesFakeProviderOverIpv4AndIpv6WithSni) {
  auto ca = TestCa::create();
  ASSERT_OK(ca);
  auto leaf = ca->issueLeaf({"api.openai.com"}, {"127.0.0.2", "fd5a::2"});
  ASSERT_OK(leaf);
  auto server4 = TlsTestServer::start(serverOptions("127.0.0.2", 443, *leaf));
  ASSERT_OK(server4);
  TlsServerOptions options6 = serverOptions(testIpv6Address(2), 443, *leaf);
  options6.response.body = R"({"served":"v6"})";
  auto server6 = TlsTestServer::start(options6);
  ASSERT_OK(server6);
  EXPECT_EQ(server4->port(), 443);

  const std::string hosts = "127.0.0.1 localhost\n127.0.0.2 api.openai.com\nfd5a::2 api.openai.com\n";
  ASSERT_OK(setHostsFile(hosts));
  // A bind mount in this test's mount namespace, not a write to the host's file.
  auto ours = readFile("/etc/hosts");
  ASSERT_OK(ours);
  EXPECT_EQ(*ours, hosts);
  auto mounts = readFile("/proc/self/mountinfo");
  ASSERT_OK(mounts);
  EXPECT_NE(mounts->find(" /etc/hosts "), std::string::npos) << *mounts;

  auto get = ChildProcess::spawn(curlCommand(ca->certPath(), {"-4", "https://api.openai.com/"}));
  ASSERT_OK(get);
  auto getExit = get->wait(seconds(30));
  ASSERT_OK(getExit);
  ASSERT_EQ(*getExit, 0) << get->describeOutput();
  EXPECT_EQ(get->stdoutText(), TlsResponse{}.body);
  EXPECT_EQ(server4->sniSeen(), std::vector<std::string>{"api.openai.com"});
  ASSERT_EQ(server4->requests().size(), 1u);
  EXPECT_EQ(server4->requests()[0].method, "GET");
  EXPECT_EQ(server4->requests()[0].target, "/");
  EXPECT_EQ(server4->requests()[0].header("host"), "api.openai.com");

  const std::string body = R"({"model":"gpt-4o-mini","messages":[]})";
  auto post = ChildProcess::spawn(curlCommand(
      ca->certPath(), {"-6", "-H", "Content-Type: application/json", "--data-binary", body,
                       "https://api.openai.com/v1/chat/completions"}));
  ASSERT_OK(post);
  auto postExit = post->wait(seconds(30));
  ASSERT_OK(postExit);
  ASSERT_EQ(*postExit, 0) << post->describeOutput();
  EXPECT_EQ(post->stdoutText(), R"({"served":"v6"})");
  EXPECT_EQ(server6->sniSeen(), std::vector<std::string>{"api.openai.com"});
  ASSERT_TRUE(server6->waitForRequests(1, seconds(5)));
  EXPECT_EQ(server6->requests()[0].method, "POST");
  EXPECT_EQ(server6->requests()[0].target, "/v1/chat/completions");
  EXPECT_EQ(server6->requests()[0].body, body);
  EXPECT_EQ(server4->connectionCount(), 1u);
}

TEST_F(SupportTest, CurlRejectsAServerItsCaDidNotSign) {
  auto ca = TestCa::create();
  ASSERT_OK(ca);
  auto otherCa = TestCa::create();
  ASSERT_OK(otherCa);
  auto leaf = otherCa->issueLeaf({"api.anthropic.com"});
  ASSERT_OK(leaf);
  auto server = TlsTestServer::start(serverOptions("127.0.0.3", 443, *leaf));
  ASSERT_OK(server);
  ASSERT_OK(setHostsFile("127.0.0.3 api.anthropic.com\n"));

  auto curl = ChildProcess::spawn(curlCommand(ca->certPath(), {"https://api.anthropic.com/"}));
  ASSERT_OK(curl);
  auto exitCode = curl->wait(seconds(30));
  ASSERT_OK(exitCode);
  EXPECT_EQ(*exitCode, 60) << curl->describeOutput();  // CURLE_PEER_FAILED_VERIFICATION
  EXPECT_TRUE(server->requests().empty());
}

// A minimal blocking TLS client, to check echo mode byte for byte.
std::string tlsRoundTrip(const std::string& caPath, const std::string& hostPort, const std::string& sni,
                         const std::string& payload) {
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()));
  if (!context || SSL_CTX_load_verify_locations(context.get(), caPath.c_str(), nullptr) != 1) return "<ca>";
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
  BioPtr bio(BIO_new_ssl_connect(context.get()));
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  SSL_set_tlsext_host_name(ssl, sni.c_str());
  SSL_set1_host(ssl, sni.c_str());
  BIO_set_conn_hostname(bio.get(), hostPort.c_str());
  if (BIO_do_handshake(bio.get()) != 1) return "<handshake>";
  if (BIO_write(bio.get(), payload.data(), static_cast<int>(payload.size())) != static_cast<int>(payload.size())) {
    return "<write>";
  }
  std::string echoed;
  char buffer[4096];
  while (echoed.size() < payload.size()) {
    int got = BIO_read(bio.get(), buffer, sizeof(buffer));
    if (got <= 0) break;
    echoed.append(buffer, static_cast<size_t>(got));
  }
  return echoed;
}

TEST_F(SupportTest, EchoModeSendsBackRawBytes) {
  auto ca = TestCa::create();
  ASSERT_OK(ca);
  auto leaf = ca->issueLeaf({"echo.test"});
  ASSERT_OK(leaf);
  TlsServerOptions options = serverOptions(testIpv6Address(3), 0, *leaf);
  options.mode = TlsServerMode::kEcho;
  auto server = TlsTestServer::start(options);
  ASSERT_OK(server);
  ASSERT_NE(server->port(), 0);
  const std::string payload(100000, 'x');
  EXPECT_EQ(tlsRoundTrip(ca->certPath(), "[fd5a::3]:" + std::to_string(server->port()), "echo.test", payload),
            payload);
  EXPECT_EQ(server->sniSeen(), std::vector<std::string>{"echo.test"});
}

TEST_F(SupportTest, ServerStopsWhileAClientIsStillConnected) {
  auto ca = TestCa::create();
  ASSERT_OK(ca);
  auto leaf = ca->issueLeaf({"stuck.test"}, {"127.0.0.4"});
  ASSERT_OK(leaf);
  auto server = TlsTestServer::start("127.0.0.4", 0, leaf->certPath, leaf->keyPath);
  ASSERT_OK(server);
  // A client that connects and never says hello: the destructor must not wait for it.
  Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(client.valid());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server->port());
  ::inet_pton(AF_INET, "127.0.0.4", &address.sin_addr);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  for (int i = 0; i < 200 && server->connectionCount() == 0; ++i) ::usleep(5000);
  EXPECT_EQ(server->connectionCount(), 1u);
  const auto started = std::chrono::steady_clock::now();
  { TlsTestServer stopping = std::move(*server); }
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(2));
  char byte;
  EXPECT_EQ(::recv(client.get(), &byte, 1, 0), 0);  // the server side is closed, not leaked
}

TEST_F(SupportTest, GetentResolvesCnameThroughDnsmasq) {
  DnsmasqServer dns("127.0.0.53");
  dns.addHost("target.test", "127.0.0.7");
  dns.addHost("target.test", "fd5a::7");
  dns.addCname("alias.test", "target.test");
  ASSERT_OK(dns.start());
  ASSERT_OK(setHostsFile("127.0.0.1 localhost\n"));
  ASSERT_OK(setResolvConf(dns.resolvConf()));

  auto v4 = ChildProcess::spawn({"getent", "ahostsv4", "alias.test"});
  ASSERT_OK(v4);
  auto v4Exit = v4->wait(seconds(20));
  ASSERT_OK(v4Exit);
  ASSERT_EQ(*v4Exit, 0) << v4->describeOutput() << dns.logText();
  EXPECT_NE(v4->stdoutText().find("127.0.0.7"), std::string::npos) << v4->stdoutText();

  auto any = ChildProcess::spawn({"getent", "hosts", "alias.test"});
  ASSERT_OK(any);
  auto anyExit = any->wait(seconds(20));
  ASSERT_OK(anyExit);
  ASSERT_EQ(*anyExit, 0) << any->describeOutput() << dns.logText();
  const std::string answer = any->stdoutText();
  EXPECT_TRUE(answer.find("127.0.0.7") != std::string::npos || answer.find("fd5a::7") != std::string::npos)
      << answer;
  EXPECT_NE(dns.logText().find("alias.test is <CNAME>"), std::string::npos) << dns.logText();
}

TEST_F(SupportTest, CgroupHoldsItsChildrenAndIsRemovedWithThem) {
  auto root = findCgroup2Mount();
  ASSERT_OK(root);
  std::string outerPath, innerPath;
  auto survivor = ChildProcess::spawn({"sleep", "60"});
  ASSERT_OK(survivor);
  {
    auto cgroup = TestCgroup::create("support");
    ASSERT_OK(cgroup);
    outerPath = cgroup->path();
    EXPECT_EQ(cgroup->path(), *root + cgroup->relativePath());
    EXPECT_EQ(cgroup->relativePath().rfind("/shadowai-test-" + std::to_string(::getpid()) + "-support", 0), 0u);
    auto id = cgroupIdOfPath(cgroup->path());
    ASSERT_OK(id);
    EXPECT_EQ(cgroup->id(), *id);

    auto inner = cgroup->createChild("inner");
    ASSERT_OK(inner);
    innerPath = inner->path();
    EXPECT_EQ(inner->relativePath(), cgroup->relativePath() + "/inner");

    SpawnOptions inInner;
    inInner.cgroupDirectory = inner->path();
    auto sleeper = ChildProcess::spawn({"sleep", "60"}, inInner);
    ASSERT_OK(sleeper);
    auto where = cgroupPathOfProcess(sleeper->pid());
    ASSERT_OK(where);
    EXPECT_EQ(*where, inner->relativePath());

    // A process started elsewhere and moved in: the cgroup, not the ChildProcess, ends it.
    ASSERT_OK(cgroup->addProcess(survivor->pid()));
    auto moved = cgroupPathOfProcess(survivor->pid());
    ASSERT_OK(moved);
    EXPECT_EQ(*moved, cgroup->relativePath());
    auto procs = cgroup->processes();
    ASSERT_OK(procs);
    EXPECT_EQ(*procs, std::vector<pid_t>{survivor->pid()});
  }
  EXPECT_NE(::access(innerPath.c_str(), F_OK), 0);
  EXPECT_NE(::access(outerPath.c_str(), F_OK), 0);
  EXPECT_FALSE(survivor->running());
  auto exitCode = survivor->wait(seconds(1));
  ASSERT_OK(exitCode);
  EXPECT_EQ(*exitCode, 128 + SIGKILL);
}

TEST_F(SupportTest, ChildProcessReportsExitEnvironmentAndTimeout) {
  SpawnOptions withProbe;
  withProbe.environment = {{"SHADOWAI_PROBE", "hello"}};
  auto shell = ChildProcess::spawn({"sh", "-c", "printf %s \"$SHADOWAI_PROBE\"; echo oops >&2; exit 3"}, withProbe);
  ASSERT_OK(shell);
  auto exitCode = shell->wait(seconds(10));
  ASSERT_OK(exitCode);
  EXPECT_EQ(*exitCode, 3);
  EXPECT_EQ(shell->stdoutText(), "hello");
  EXPECT_EQ(shell->stderrText(), "oops\n");

  auto slow = ChildProcess::spawn({"sleep", "60"});
  ASSERT_OK(slow);
  EXPECT_TRUE(slow->running());
  EXPECT_FALSE(slow->wait(std::chrono::milliseconds(100)).ok());
  EXPECT_FALSE(slow->running());

  EXPECT_FALSE(ChildProcess::spawn({"/nonexistent/program"}).ok());
  SpawnOptions missingCgroup;
  missingCgroup.cgroupDirectory = "/nonexistent";
  EXPECT_FALSE(ChildProcess::spawn({"true"}, missingCgroup).ok());
}

}  // namespace
}  // namespace shadowai::test
