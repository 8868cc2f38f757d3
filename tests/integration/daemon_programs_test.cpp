// The daemon's BPF programs against the real kernel, without the rest of the daemon: a plain TCP
// listener stands in for the proxy and asks DaemonPrograms where each accepted connection was
// going. Clients are real processes in the test's own cgroups; what they print is what an
// application sees (getpeername, the reply, the connect error).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "bpf/daemon_programs.h"
#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "support/child_process.h"
#include "support/require_root.h"
#include "support/temp_dir.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace shadowai::test {
namespace {

using namespace std::chrono_literals;

constexpr uint16_t kProxyPort = 15443;

// Accepts TCP connections on one address and answers each with one line from `reply(fd)`.
class LineServer {
 public:
  LineServer(const std::string& address, uint16_t port, std::function<std::string(int)> reply)
      : reply_(std::move(reply)) {
    auto ip = IpAddress::parse(address);
    EXPECT_TRUE(ip);
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (ip->isV4()) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      std::memcpy(&v4->sin_addr, ip->bytes().data() + 12, 4);
      length = sizeof(*v4);
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      std::memcpy(&v6->sin6_addr, ip->bytes().data(), 16);
      length = sizeof(*v6);
    }
    listener_.reset(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (storage.ss_family == AF_INET6) ::setsockopt(listener_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&storage), length), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listener_.get(), 64), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~LineServer() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  int accepted() const { return accepted_.load(); }

 private:
  void serve() {
    while (!stopping_) {
      Fd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!client) continue;
      ++accepted_;
      std::string line = reply_(client.get()) + "\n";
      // Read the client's line first so it is not reset while sending.
      char c;
      while (::read(client.get(), &c, 1) == 1 && c != '\n') {
      }
      (void)!::write(client.get(), line.data(), line.size());
    }
  }
  Fd listener_;
  std::function<std::string(int)> reply_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
};

class DaemonProgramsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    auto dir = TempDir::create("shadowai-programs");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    pinDir_ = dir_->filePath("bpf");
    std::filesystem::create_directories(pinDir_);
    ASSERT_TRUE(mountPrivateFilesystem("bpf", pinDir_));
    auto attach = TestCgroup::create("enforce");
    ASSERT_TRUE(attach) << attach.error().describe();
    attach_ = std::make_unique<TestCgroup>(std::move(*attach));
    auto workload = attach_->createChild("workload");
    ASSERT_TRUE(workload);
    workload_ = std::make_unique<TestCgroup>(std::move(*workload));
    auto bystander = attach_->createChild("bystander");
    ASSERT_TRUE(bystander);
    bystander_ = std::make_unique<TestCgroup>(std::move(*bystander));

    realV4_ = std::make_unique<LineServer>("127.0.0.2", 443, [](int) { return std::string("real-server"); });
    realV6_ = std::make_unique<LineServer>(testIpv6Address(2), 443, [](int) { return std::string("real-server"); });
  }

  DaemonProgramsOptions options() const {
    DaemonProgramsOptions o;
    o.cgroupPath = attach_->path();
    o.pinDir = pinDir_;
    o.watchedPorts = {443, 53};
    o.redirectPorts = {443, 80};
    o.proxyIpv4 = IpAddress::parse("127.0.0.1");
    o.proxyIpv6 = IpAddress::parse("::1");
    o.proxyPort = kProxyPort;
    o.upstreamMark = 0x5ea1;
    return o;
  }

  void startPrograms(DaemonProgramsOptions o) {
    auto programs = DaemonPrograms::start(o, [this](const RawEvent& event) {
      if (event.header->kind == SHADOWAI_EV_QUIC_REFUSED) ++quicRefusals_;
    });
    ASSERT_TRUE(programs) << programs.error().describe();
    programs_ = std::move(*programs);
  }

  // The proxy stand-in: reports what DaemonPrograms recovered for each accepted socket.
  void startProxy() {
    auto reply = [this](int fd) {
      auto first = programs_->takeOriginalDestination(fd);
      auto second = programs_->takeOriginalDestination(fd);
      if (!first) return std::string("proxy-unknown");
      return "proxy orig=" + formatEndpoint(first->address, first->port) + " pid=" + std::to_string(first->pid) +
             (second ? " second=again" : " second=none");
    };
    proxyV4_ = std::make_unique<LineServer>("127.0.0.1", kProxyPort, reply);
    proxyV6_ = std::make_unique<LineServer>("::1", kProxyPort, reply);
  }

  struct ProbeResult {
    int exitCode = -1;
    int pid = 0;
    std::string output;
  };
  ProbeResult probe(const TestCgroup& cgroup, const std::string& host, const std::string& port) {
    SpawnOptions options;
    options.cgroupDirectory = cgroup.path();
    auto child = ChildProcess::spawn({SHADOWAI_CONNECT_PROBE_BINARY, host, port, "hello"}, options);
    EXPECT_TRUE(child) << child.error().describe();
    if (!child) return {};
    ProbeResult result;
    result.pid = child->pid();
    auto status = child->wait(20s);
    result.exitCode = status ? *status : -1;
    result.output = child->stdoutText() + child->stderrText();
    return result;
  }

  void setMode(const TestCgroup& cgroup, std::optional<shadowai_mode> mode) {
    ASSERT_TRUE(programs_->setMode(cgroup.id(), mode));
  }

  std::unique_ptr<TempDir> dir_;
  std::string pinDir_;
  std::unique_ptr<TestCgroup> attach_, workload_, bystander_;
  std::unique_ptr<LineServer> realV4_, realV6_, proxyV4_, proxyV6_;
  std::unique_ptr<DaemonPrograms> programs_;
  std::atomic<int> quicRefusals_{0};
};

TEST_F(DaemonProgramsTest, EnforcedConnectReachesProxyWhichRecoversOriginalDestinationOnce) {
  startPrograms(options());
  startProxy();
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  auto result = probe(*workload_, "127.0.0.2", "443");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("peer=127.0.0.2:443"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("reply=proxy orig=127.0.0.2:443 pid=" + std::to_string(result.pid) + " second=none"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(realV4_->accepted(), 0);
}

TEST_F(DaemonProgramsTest, Ipv6AndPortsNotGovernedAndOtherCgroupsAreUntouched) {
  startPrograms(options());
  startProxy();
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  auto v6 = probe(*workload_, testIpv6Address(2), "443");
  EXPECT_NE(v6.output.find("peer=[" + testIpv6Address(2) + "]:443"), std::string::npos) << v6.output;
  EXPECT_NE(v6.output.find("reply=proxy orig=[" + testIpv6Address(2) + "]:443"), std::string::npos) << v6.output;

  auto bystander = probe(*bystander_, "127.0.0.2", "443");
  EXPECT_NE(bystander.output.find("reply=real-server"), std::string::npos) << bystander.output;
  EXPECT_EQ(realV4_->accepted(), 1);

  LineServer other("127.0.0.2", 8080, [](int) { return std::string("other-port"); });
  auto otherPort = probe(*workload_, "127.0.0.2", "8080");
  EXPECT_NE(otherPort.output.find("reply=other-port"), std::string::npos) << otherPort.output;
}

TEST_F(DaemonProgramsTest, V4MappedAddressOnAnIpv6SocketIsRedirectedToTheIpv4Listener) {
  startPrograms(options());
  startProxy();
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  auto mapped = probe(*workload_, "::ffff:127.0.0.2", "443");  // getaddrinfo gives an AF_INET6 socket
  EXPECT_EQ(mapped.exitCode, 0) << mapped.output;
  EXPECT_NE(mapped.output.find("peer=[::ffff:127.0.0.2]:443"), std::string::npos) << mapped.output;
  EXPECT_NE(mapped.output.find("reply=proxy orig=127.0.0.2:443"), std::string::npos) << mapped.output;
  EXPECT_EQ(realV4_->accepted(), 0);
}

TEST_F(DaemonProgramsTest, ModesInheritFromNearestAncestor) {
  startPrograms(options());
  startProxy();
  setMode(*attach_, SHADOWAI_MODE_ENFORCE);  // the whole subtree
  EXPECT_NE(probe(*bystander_, "127.0.0.2", "443").output.find("reply=proxy"), std::string::npos);
  setMode(*bystander_, SHADOWAI_MODE_OFF);  // its own entry wins
  EXPECT_NE(probe(*bystander_, "127.0.0.2", "443").output.find("reply=real-server"), std::string::npos);
  setMode(*bystander_, std::nullopt);  // inherits again
  EXPECT_NE(probe(*bystander_, "127.0.0.2", "443").output.find("reply=proxy"), std::string::npos);
}

TEST_F(DaemonProgramsTest, ClosedModeFailsFastWhenNoProxyListens) {
  startPrograms(options());
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  auto result = probe(*workload_, "127.0.0.2", "443");
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.output.find("connect-error=ECONNREFUSED"), std::string::npos) << result.output;
  EXPECT_EQ(realV4_->accepted(), 0) << "an enforced connection bypassed the proxy";
}

TEST_F(DaemonProgramsTest, PinsKeepEnforcementWhenTheOwnerDiesAndARestartTakesOver) {
  startPrograms(options());
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  programs_.reset();  // as after kill -9: our fds are gone, the pins are not
  auto whileDown = probe(*workload_, "127.0.0.2", "443");
  EXPECT_NE(whileDown.output.find("connect-error=ECONNREFUSED"), std::string::npos) << whileDown.output;
  EXPECT_EQ(realV4_->accepted(), 0);

  startPrograms(options());
  EXPECT_TRUE(programs_->linksWerePinned());
  EXPECT_EQ(programs_->modes().at(workload_->id()), SHADOWAI_MODE_ENFORCE) << "the mode map was not kept";
  startProxy();
  auto afterRestart = probe(*workload_, "127.0.0.2", "443");
  EXPECT_NE(afterRestart.output.find("reply=proxy orig=127.0.0.2:443"), std::string::npos) << afterRestart.output;

  auto removed = DaemonPrograms::removePins(pinDir_);
  ASSERT_TRUE(removed) << removed.error().describe();
  programs_.reset();
  auto detached = probe(*workload_, "127.0.0.2", "443");
  EXPECT_NE(detached.output.find("reply=real-server"), std::string::npos) << "removing the pins must detach";
}

// As `systemctl restart` does: the unit's cgroup is removed and made again, with a new id. The
// kernel gives the new cgroup its path's mode inside mkdir(2), before anything can enter it.
TEST_F(DaemonProgramsTest, ACgroupMadeAgainAtAPathWithAModeHasItBeforeAnyProcessCanEnter) {
  startPrograms(options());
  startProxy();
  const std::string path = workload_->relativePath();
  ASSERT_TRUE(programs_->setPathMode(path, SHADOWAI_MODE_ENFORCE));
  EXPECT_EQ(programs_->pathModes(), (std::map<std::string, shadowai_mode>{{path, SHADOWAI_MODE_ENFORCE}}));
  for (int round = 0; round < 20; ++round) {
    workload_.reset();
    auto again = attach_->createChild("workload");
    ASSERT_TRUE(again);
    workload_ = std::make_unique<TestCgroup>(std::move(*again));
    const auto modes = programs_->modes();
    ASSERT_TRUE(modes.count(workload_->id())) << "round " << round << ": the new cgroup has no mode";
    EXPECT_EQ(modes.at(workload_->id()), SHADOWAI_MODE_ENFORCE);
  }
  EXPECT_NE(probe(*workload_, "127.0.0.2", "443").output.find("reply=proxy"), std::string::npos);
  EXPECT_EQ(realV4_->accepted(), 0);
  EXPECT_FALSE(programs_->modes().count(bystander_->id())) << "a cgroup at another path got a mode";

  // Without the path's entry a new cgroup there inherits again.
  ASSERT_TRUE(programs_->setPathMode(path, std::nullopt));
  workload_.reset();
  auto plain = attach_->createChild("workload");
  ASSERT_TRUE(plain);
  workload_ = std::make_unique<TestCgroup>(std::move(*plain));
  EXPECT_FALSE(programs_->modes().count(workload_->id()));
  EXPECT_NE(probe(*workload_, "127.0.0.2", "443").output.find("reply=real-server"), std::string::npos);
}

TEST_F(DaemonProgramsTest, QuicToLlmAddressesIsRefusedAndReported) {
  startPrograms(options());
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  ASSERT_TRUE(programs_->syncLlmAddresses({*IpAddress::parse("127.0.0.6")}));
  auto run = [&](const TestCgroup& cgroup, const std::string& host) {
    SpawnOptions options;
    options.cgroupDirectory = cgroup.path();
    auto child = ChildProcess::spawn({SHADOWAI_UDP_SEND_BINARY, host, "443"}, options);
    EXPECT_TRUE(child);
    auto status = child->wait(20s);
    return status ? *status : -1;
  };
  EXPECT_EQ(run(*workload_, "127.0.0.6"), 1) << "QUIC to an LLM address went out";
  EXPECT_EQ(run(*workload_, "127.0.0.7"), 0) << "QUIC to another address was refused";
  EXPECT_EQ(run(*bystander_, "127.0.0.6"), 0) << "a detect-mode cgroup was refused";
  for (int i = 0; i < 20 && quicRefusals_ == 0; ++i) (void)programs_->events().poll(100);
  EXPECT_EQ(quicRefusals_.load(), 1);
}

TEST_F(DaemonProgramsTest, OpenModeStopsRedirectingWhenTheHeartbeatExpires) {
  auto o = options();
  o.failureOpen = true;
  o.heartbeatTimeout = 1s;
  startPrograms(o);
  startProxy();
  setMode(*workload_, SHADOWAI_MODE_ENFORCE);
  ASSERT_TRUE(programs_->beat());
  EXPECT_NE(probe(*workload_, "127.0.0.2", "443").output.find("reply=proxy"), std::string::npos);
  std::this_thread::sleep_for(1500ms);  // the heartbeat timeout is the behaviour under test
  EXPECT_NE(probe(*workload_, "127.0.0.2", "443").output.find("reply=real-server"), std::string::npos);
  ASSERT_TRUE(programs_->beat());
  EXPECT_NE(probe(*workload_, "127.0.0.2", "443").output.find("reply=proxy"), std::string::npos);
}

}  // namespace
}  // namespace shadowai::test
