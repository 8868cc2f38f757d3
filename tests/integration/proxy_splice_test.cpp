// The proxy's splice path against real sockets in the test's own network namespace: TLS servers
// from the test CA posing as the original destinations (IPv4 and IPv6), a plain TCP server for
// non-TLS and half-close, and a ProxyServer whose destination lookup stands in for the BPF map: the
// test records the destination under the client's source port before the client connects, and the
// lookup consumes it, as the real one does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/socket_io.h"
#include "common/fd.h"
#include "proxy/proxy_server.h"
#include "support/child_process.h"
#include "support/require_root.h"
#include "support/test_ca.h"
#include "support/test_namespace.h"
#include "support/tls_server.h"

namespace shadowai::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* kServerName = "splice.example.test";
constexpr const char* kRefusedName = "refused.example.test";
constexpr const char* kTlsServerV4 = "127.0.0.2";
constexpr int kTlsServerV6Index = 2;  // fd5a::2
constexpr const char* kPlainServerV4 = "127.0.0.3";
constexpr uint16_t kPlainPort = 80;
constexpr const char* kNobodyV4 = "127.0.0.4";  // nothing listens there
constexpr uint32_t kMark = 0x5a1;
constexpr size_t kBulkBytes = 8 << 20;
// Bounds on waits for things that happen at once when the proxy works; never reached otherwise.
constexpr auto kSafety = 30s;

#define ASSERT_OK(expression)                                              \
  do {                                                                     \
    auto&& assertOkResult = (expression);                                  \
    ASSERT_TRUE(assertOkResult.ok()) << assertOkResult.error().describe(); \
  } while (0)

OriginalDestination destinationOf(const std::string& address, uint16_t port) {
  OriginalDestination destination;
  destination.address = *IpAddress::parse(address);
  destination.port = port;
  destination.cgroupId = 4242;
  destination.pid = 77;
  return destination;
}

std::string randomBytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (auto& byte : data) byte = static_cast<char>(generator());
  return data;
}

// Polls CONDITION until it holds or kSafety passes.
template <typename Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kSafety;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// ---- blocking socket helpers for the test's clients and plain server ----

void setSafetyTimeouts(int fd) {
  timeval timeout{std::chrono::duration_cast<std::chrono::seconds>(kSafety).count(), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}


std::string describeError(int error) { return error == 0 ? "end of stream" : std::strerror(error); }

// ---- stand-ins for the daemon's parts ----

// The BPF map of original destinations, keyed here by the client's source port.
class DestinationTable {
 public:
  void record(uint16_t clientPort, const OriginalDestination& destination) {
    std::lock_guard lock(mutex_);
    entries_[clientPort] = destination;
  }

  std::optional<OriginalDestination> lookup(int acceptedFd) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (::getpeername(acceptedFd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return std::nullopt;
    uint16_t port = peer.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port)
                                              : ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
    std::lock_guard lock(mutex_);
    ++lookups_;
    auto found = entries_.find(port);
    if (found == entries_.end()) return std::nullopt;
    OriginalDestination destination = found->second;
    entries_.erase(found);  // used once, like the real record
    return destination;
  }

  size_t lookups() const {
    std::lock_guard lock(mutex_);
    return lookups_;
  }
  size_t remaining() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::map<uint16_t, OriginalDestination> entries_;
  size_t lookups_ = 0;
};

// A plain TCP server, one thread per connection; HANDLER serves one and says how it ended.
class PlainTcpServer {
 public:
  using Handler = std::function<std::string(int fd)>;

  static Result<std::unique_ptr<PlainTcpServer>> start(const std::string& address, uint16_t port, Handler handler) {
    std::unique_ptr<PlainTcpServer> server(new PlainTcpServer(std::move(handler)));
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_port = htons(port);
    ::inet_pton(AF_INET, address.c_str(), &bound.sin_addr);
    server->listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int on = 1;
    ::setsockopt(server->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(server->listener_.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0 ||
        ::listen(server->listener_.get(), 64) != 0) {
      return errnoError("plain server cannot listen on " + address);
    }
    server->acceptThread_ = std::thread([raw = server.get()] { raw->acceptLoop(); });
    return server;
  }

  ~PlainTcpServer() {
    ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
    acceptThread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      for (int fd : openFds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
  }

  size_t connectionCount() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  bool waitForOutcomes(size_t count) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kSafety, [&] { return outcomes_.size() >= count; });
  }
  std::vector<std::string> outcomes() const {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  explicit PlainTcpServer(Handler handler) : handler_(std::move(handler)) {}

  void acceptLoop() {
    for (;;) {
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
        return;  // shut down
      }
      setSafetyTimeouts(fd);
      std::lock_guard lock(mutex_);
      ++connections_;
      openFds_.push_back(fd);
      threads_.emplace_back([this, fd] {
        std::string outcome = handler_(fd);
        std::lock_guard innerLock(mutex_);
        std::erase(openFds_, fd);
        ::close(fd);
        outcomes_.push_back(std::move(outcome));
        changed_.notify_all();
      });
    }
  }

  Handler handler_;
  Fd listener_;
  std::thread acceptThread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::thread> threads_;
  std::vector<int> openFds_;
  std::vector<std::string> outcomes_;
  size_t connections_ = 0;
};

// Answers every chunk in upper case; at the client's end of stream says "BYE\n" and closes.
std::string upperCaseUntilEnd(int fd) {
  char buffer[65536];
  for (;;) {
    ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got == 0) return sendAll(fd, "BYE\n") ? "eof" : "eof, BYE not sent";
    if (got < 0) return errno == ECONNRESET ? "reset" : std::string("error: ") + std::strerror(errno);
    for (ssize_t i = 0; i < got; ++i) buffer[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buffer[i])));
    if (!sendAll(fd, std::string(buffer, static_cast<size_t>(got)))) return "send failed";
  }
}

// Reads until the end and says how many bytes came and how the stream ended.
std::string countUntilEnd(int fd) {
  char buffer[65536];
  size_t total = 0;
  for (;;) {
    ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got == 0) return std::to_string(total) + " bytes, end of stream";
    if (got < 0) return std::to_string(total) + " bytes, " + (errno == ECONNRESET ? "reset" : std::strerror(errno));
    total += static_cast<size_t>(got);
  }
}

// Reads one line, answers "DONE\n" and ends its own direction at once, then counts what the
// client still sends until its end.
std::string halfCloseFirst(int fd) {
  std::string line;
  char byte = 0;
  while (line.empty() || line.back() != '\n') {
    if (::recv(fd, &byte, 1, 0) != 1) return "no line";
    line += byte;
  }
  if (!sendAll(fd, "DONE\n")) return "send failed";
  ::shutdown(fd, SHUT_WR);
  ReadResult rest = readUntilEnd(fd);
  return "received " + std::to_string(rest.data.size()) + " bytes after DONE, then " + describeError(rest.error);
}

// ---- a TLS client, as a workload would be ----

struct TlsOutcome {
  std::string error;  // empty when everything below happened
  bool peerCertificateIsTheServers = false;
  std::string echoed;
  bool closeNotifyAnswered = false;
};

X509Ptr loadCertificate(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!file) return nullptr;
  return X509Ptr(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
}

// Over the connected socket FD: a verified TLS handshake for NAME (test CA only, host name checked,
// ALPN h2 + http/1.1), PAYLOAD sent while the echo is read back, then close_notify both ways.
TlsOutcome tlsEchoThrough(Fd fd, int family, const std::string& caPath, const std::string& leafPath,
                          const std::string& name, const std::string& payload) {
  TlsOutcome outcome;
  asio::io_context io{1};
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(caPath);
  tls.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> stream(io, tls);
  stream.next_layer().assign(family == AF_INET ? tcp::v4() : tcp::v6(), fd.release());
  SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());
  stream.set_verify_callback(asio::ssl::host_name_verification(name));
  static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(stream.native_handle(), kAlpn, sizeof kAlpn - 1);

  boost::system::error_code writeError;  // out here: its handler may run after the coroutine ends
  auto exchange = [&]() -> asio::awaitable<void> {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::client, tuple);
    if (handshakeError) {
      outcome.error = "handshake: " + handshakeError.message();
      co_return;
    }
    X509Ptr peer(SSL_get1_peer_certificate(stream.native_handle()));
    X509Ptr leaf = loadCertificate(leafPath);
    outcome.peerCertificateIsTheServers = peer && leaf && X509_cmp(peer.get(), leaf.get()) == 0;

    // Writing and reading at once: the echo comes back while the payload is still going out.
    outcome.echoed.resize(payload.size());
    asio::async_write(stream, asio::buffer(payload), [&](boost::system::error_code error, size_t) {
      writeError = error;
    });
    auto [readError, read] = co_await asio::async_read(stream, asio::buffer(outcome.echoed), tuple);
    if (readError || writeError) {
      outcome.error = "transfer: " + readError.message() + " / " + writeError.message();
      co_return;
    }
    auto [shutdownError] = co_await stream.async_shutdown(tuple);
    outcome.closeNotifyAnswered = !shutdownError;
  };
  bool finished = false;
  asio::co_spawn(io, exchange(), [&](const std::exception_ptr&) { finished = true; });
  io.run_for(kSafety);
  if (!finished) outcome.error = "no end within the safety bound";
  return outcome;
}

// ---- the fixture ----

class ProxySpliceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    ASSERT_TRUE(insideTestNamespaces());
    auto ca = TestCa::create();
    ASSERT_OK(ca);
    ca_ = std::make_unique<TestCa>(std::move(*ca));
    auto leaf = ca_->issueLeaf({kServerName, kRefusedName});
    ASSERT_OK(leaf);
    leaf_ = *leaf;
    for (const std::string& address : {std::string(kTlsServerV4), testIpv6Address(kTlsServerV6Index)}) {
      TlsServerOptions options;
      options.address = address;
      options.port = 443;
      options.certPath = leaf_.certPath;
      options.keyPath = leaf_.keyPath;
      options.mode = TlsServerMode::kEcho;
      auto server = TlsTestServer::start(options);
      ASSERT_OK(server);
      tlsServers_.push_back(std::move(*server));
    }
  }

  void TearDown() override {
    if (proxy_) proxy_->stop();
  }

  ProxyOptions defaultOptions() const {
    ProxyOptions options;
    options.listenIpv4 = "127.0.0.1";
    options.listenIpv6 = "::1";
    options.port = 0;
    options.threads = 2;
    options.peekTimeout = 5s;
    options.connectTimeout = 5s;
    options.idleTimeout = 60s;
    options.maxConnections = 100;
    options.upstreamMark = kMark;
    return options;
  }

  void startProxy(ProxyOptions options) {
    ProxyCallbacks callbacks;
    callbacks.lookup = [this](int fd) { return table_.lookup(fd); };
    callbacks.decide = [this](const ConnectionFacts& facts) {
      std::lock_guard lock(mutex_);
      facts_.push_back(facts);
      return verdict_(facts);
    };
    if (connectEarly_) callbacks.connectEarly = [](const OriginalDestination&) { return true; };
    callbacks.onEvent = [this](const ProxyEvent& event) {
      std::lock_guard lock(mutex_);
      events_.push_back(event);
    };
    auto proxy = ProxyServer::start(std::move(options), std::move(callbacks));
    ASSERT_OK(proxy);
    proxy_ = std::move(*proxy);
    ASSERT_NE(proxy_->port(), 0);
  }

  void startPlainServer(PlainTcpServer::Handler handler) {
    auto server = PlainTcpServer::start(kPlainServerV4, kPlainPort, std::move(handler));
    ASSERT_OK(server);
    plainServer_ = std::move(*server);
  }

  // A client socket bound to its own source port, with DESTINATION recorded for that port (unless
  // RECORD is false), connected to the proxy's IPv4 or IPv6 listener.
  Fd connectThroughProxy(const OriginalDestination& destination, int family = AF_INET, bool record = true) {
    Fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.valid());
    sockaddr_storage local{};
    socklen_t length = 0;
    if (family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&local);
      v4->sin_family = AF_INET;
      v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof *v4;
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&local);
      v6->sin6_family = AF_INET6;
      v6->sin6_addr = in6addr_loopback;
      length = sizeof *v6;
    }
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), length), 0) << std::strerror(errno);
    EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &length), 0);
    uint16_t clientPort = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port)
                                            : ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    if (record) table_.record(clientPort, destination);
    lastClientPort_ = clientPort;

    sockaddr_storage proxy = local;
    if (family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&proxy)->sin_port = htons(proxy_->port());
    } else {
      reinterpret_cast<sockaddr_in6*>(&proxy)->sin6_port = htons(proxy_->port());
    }
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&proxy), length), 0) << std::strerror(errno);
    setSafetyTimeouts(fd.get());
    return fd;
  }

  // One spliced round trip with the upper-case server, proving the pair is established.
  void pingThrough(int fd) {
    ASSERT_TRUE(sendAll(fd, "ping"));
    EXPECT_EQ(readExactly(fd, 4), "PING");
  }

  void checkTlsSplice(int family) {
    SCOPED_TRACE(connectEarly_ ? "upstream connect started at accept" : "upstream connect after the verdict");
    startProxy(defaultOptions());
    const std::string serverAddress = family == AF_INET ? kTlsServerV4 : testIpv6Address(kTlsServerV6Index);
    const OriginalDestination destination = destinationOf(serverAddress, 443);
    const std::string payload = randomBytes(kBulkBytes, 7);

    TlsOutcome outcome = tlsEchoThrough(connectThroughProxy(destination, family), family, ca_->certPath(),
                                        leaf_.certPath, kServerName, payload);
    ASSERT_EQ(outcome.error, "");
    EXPECT_TRUE(outcome.peerCertificateIsTheServers);
    EXPECT_TRUE(outcome.echoed == payload) << "the echo differs from what was sent";
    EXPECT_TRUE(outcome.closeNotifyAnswered);

    const TlsTestServer& server = tlsServers_[family == AF_INET ? 0 : 1];
    EXPECT_EQ(server.sniSeen(), std::vector<std::string>{kServerName});
    std::vector<ConnectionFacts> facts = decisions();
    ASSERT_EQ(facts.size(), 1u);
    EXPECT_EQ(facts[0].destination, destination);
    EXPECT_EQ(facts[0].clientAddress, *IpAddress::parse(family == AF_INET ? "127.0.0.1" : "::1"));
    EXPECT_EQ(facts[0].clientPort, lastClientPort_);
    EXPECT_TRUE(facts[0].isTls);
    EXPECT_EQ(facts[0].helloStatus, ClientHelloStatus::kOk);
    EXPECT_EQ(facts[0].sni, std::optional<std::string>(kServerName));
    EXPECT_EQ(facts[0].alpn, (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_EQ(table_.remaining(), 0u);

    ASSERT_TRUE(eventually([&] { return proxy_->counters().active == 0; }));
    ProxyCounters counters = proxy_->counters();
    EXPECT_EQ(counters.accepted, 1u);
    EXPECT_EQ(counters.spliced, 1u);
    EXPECT_EQ(counters.earlyConnects, connectEarly_ ? 1u : 0u);
    EXPECT_EQ(counters.tlsConnections, 1u);
    EXPECT_GT(counters.bytesUp, kBulkBytes);  // the payload inside TLS records, and the handshake
    EXPECT_GT(counters.bytesDown, kBulkBytes);
    EXPECT_EQ(counters.relayErrors, 0u);
    EXPECT_TRUE(events().empty());
  }

  std::vector<ConnectionFacts> decisions() const {
    std::lock_guard lock(mutex_);
    return facts_;
  }
  std::vector<ProxyEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  void setVerdict(std::function<ConnectionVerdict(const ConnectionFacts&)> verdict) {
    std::lock_guard lock(mutex_);
    verdict_ = std::move(verdict);
  }

  std::unique_ptr<TestCa> ca_;
  LeafFiles leaf_;
  std::vector<TlsTestServer> tlsServers_;
  std::unique_ptr<PlainTcpServer> plainServer_;
  DestinationTable table_;
  uint16_t lastClientPort_ = 0;
  bool connectEarly_ = false;  // the EarlyConnectPolicy startProxy() installs: always, or none

  mutable std::mutex mutex_;
  std::function<ConnectionVerdict(const ConnectionFacts&)> verdict_ = [](const ConnectionFacts&) {
    return ConnectionVerdict::kSplice;
  };
  std::vector<ConnectionFacts> facts_;
  std::vector<ProxyEvent> events_;

  std::unique_ptr<ProxyServer> proxy_;  // last: stopped before what its callbacks use goes away
};

TEST_F(ProxySpliceTest, TlsClientSeesTheRealServerAndBulkBytesAreIdenticalOverIpv4) { checkTlsSplice(AF_INET); }

TEST_F(ProxySpliceTest, TlsClientSeesTheRealServerAndBulkBytesAreIdenticalOverIpv6) { checkTlsSplice(AF_INET6); }

TEST_F(ProxySpliceTest, EarlyUpstreamConnectSplicesTheSameOverIpv4) {
  connectEarly_ = true;
  checkTlsSplice(AF_INET);
}

TEST_F(ProxySpliceTest, EarlyUpstreamConnectSplicesTheSameOverIpv6) {
  connectEarly_ = true;
  checkTlsSplice(AF_INET6);
}

TEST_F(ProxySpliceTest, NonTlsIsSplicedAndTheClientsHalfCloseLetsTheAnswerThrough) {
  startPlainServer(upperCaseUntilEnd);
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  pingThrough(client.get());
  ::shutdown(client.get(), SHUT_WR);
  ReadResult rest = readUntilEnd(client.get());
  EXPECT_EQ(rest.error, 0) << describeError(rest.error);
  EXPECT_EQ(rest.data, "BYE\n");
  ASSERT_TRUE(plainServer_->waitForOutcomes(1));
  EXPECT_EQ(plainServer_->outcomes(), std::vector<std::string>{"eof"});

  std::vector<ConnectionFacts> facts = decisions();
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_FALSE(facts[0].isTls);
  EXPECT_EQ(facts[0].helloStatus, ClientHelloStatus::kNotTls);
  EXPECT_EQ(facts[0].sni, std::nullopt);
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.nonTlsConnections, 1u);
  EXPECT_EQ(counters.spliced, 1u);
}

TEST_F(ProxySpliceTest, ServerHalfCloseLetsTheClientKeepSending) {
  startPlainServer(halfCloseFirst);
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  ASSERT_TRUE(sendAll(client.get(), "hello\n"));
  ReadResult answer = readUntilEnd(client.get());  // ends with the server's half-close
  EXPECT_EQ(answer.error, 0) << describeError(answer.error);
  EXPECT_EQ(answer.data, "DONE\n");
  ASSERT_TRUE(sendAll(client.get(), randomBytes(1 << 20, 3)));
  ::shutdown(client.get(), SHUT_WR);
  ASSERT_TRUE(plainServer_->waitForOutcomes(1));
  EXPECT_EQ(plainServer_->outcomes(), std::vector<std::string>{"received 1048576 bytes after DONE, then end of stream"});
  EXPECT_EQ(readUntilEnd(client.get()).error, 0);
}

TEST_F(ProxySpliceTest, ConnectionWithoutARecordedDestinationIsResetAtOnce) {
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kTlsServerV4, 443), AF_INET, /*record=*/false);
  ReadResult result = readUntilEnd(client.get());
  EXPECT_EQ(result.error, ECONNRESET) << describeError(result.error);
  EXPECT_EQ(table_.lookups(), 1u);
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.accepted, 1u);
  EXPECT_EQ(counters.refusedNoDestination, 1u);
  EXPECT_EQ(counters.spliced, 0u);
  EXPECT_TRUE(decisions().empty());
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kRefusedNoDestination);
  EXPECT_EQ(seen[0].clientPort, lastClientPort_);
  EXPECT_EQ(seen[0].destination, std::nullopt);
  EXPECT_EQ(tlsServers_[0].connectionCount(), 0u);
}

TEST_F(ProxySpliceTest, RefusedByTheDecisionIsResetAndNeverReachesTheServer) {
  setVerdict([](const ConnectionFacts& facts) {
    return facts.sni == kRefusedName ? ConnectionVerdict::kRefuse : ConnectionVerdict::kSplice;
  });
  startProxy(defaultOptions());
  TlsOutcome outcome = tlsEchoThrough(connectThroughProxy(destinationOf(kTlsServerV4, 443)), AF_INET,
                                      ca_->certPath(), leaf_.certPath, kRefusedName, "x");
  EXPECT_NE(outcome.error.find("handshake"), std::string::npos) << outcome.error;
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.refusedByDecision, 1u);
  EXPECT_EQ(counters.spliced, 0u);
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kRefusedByDecision);
  EXPECT_EQ(seen[0].sni, std::optional<std::string>(kRefusedName));
  EXPECT_EQ(tlsServers_[0].connectionCount(), 0u);
}

TEST_F(ProxySpliceTest, RefusedAfterAnEarlyConnectSendsTheServerNoByteAndResetsIt) {
  connectEarly_ = true;
  setVerdict([](const ConnectionFacts&) { return ConnectionVerdict::kRefuse; });
  startPlainServer(countUntilEnd);
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  ASSERT_TRUE(sendAll(client.get(), "secret prompt"));
  ReadResult result = readUntilEnd(client.get());
  EXPECT_EQ(result.error, ECONNRESET) << describeError(result.error);
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.earlyConnects, 1u);
  EXPECT_EQ(counters.refusedByDecision, 1u);
  EXPECT_EQ(counters.spliced, 0u);
  // The server may have accepted the early connection (that is the documented cost), but it got
  // not one byte of the client's, and a reset rather than a clean end.
  ASSERT_TRUE(eventually([&] { return plainServer_->outcomes().size() == plainServer_->connectionCount(); }));
  for (const std::string& outcome : plainServer_->outcomes()) EXPECT_EQ(outcome, "0 bytes, reset");
}

TEST_F(ProxySpliceTest, InterceptVerdictIsSplicedForNowAndReported) {
  setVerdict([](const ConnectionFacts&) { return ConnectionVerdict::kIntercept; });
  startProxy(defaultOptions());
  TlsOutcome outcome = tlsEchoThrough(connectThroughProxy(destinationOf(kTlsServerV4, 443)), AF_INET,
                                      ca_->certPath(), leaf_.certPath, kServerName, "through anyway");
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(outcome.echoed, "through anyway");
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.interceptUnavailable, 1u);
  EXPECT_EQ(counters.spliced, 1u);
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kInterceptUnavailable);
  EXPECT_EQ(seen[0].sni, std::optional<std::string>(kServerName));
}

TEST_F(ProxySpliceTest, SilentClientIsResetAtThePeekTimeoutNotSpliced) {
  ProxyOptions options = defaultOptions();
  options.peekTimeout = 300ms;
  startProxy(options);
  Fd client = connectThroughProxy(destinationOf(kTlsServerV4, 443));
  ReadResult result = readUntilEnd(client.get());  // sends nothing, waits
  EXPECT_EQ(result.error, ECONNRESET) << describeError(result.error);
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.peekTimeouts, 1u);
  EXPECT_EQ(counters.spliced, 0u);
  EXPECT_TRUE(decisions().empty());
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kPeekTimeout);
  EXPECT_EQ(seen[0].detail, "the client sent nothing");
  EXPECT_EQ(tlsServers_[0].connectionCount(), 0u);
}

TEST_F(ProxySpliceTest, UpstreamSocketCarriesTheMark) {
  startPlainServer(upperCaseUntilEnd);
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  pingThrough(client.get());
  // The kernel's own view of the proxy's upstream socket (the only one whose peer is the server).
  auto ss = ChildProcess::spawn({"ss", "-tneH", "dst", std::string(kPlainServerV4) + ":" + std::to_string(kPlainPort)});
  ASSERT_OK(ss);
  auto status = ss->wait(kSafety);
  ASSERT_OK(status);
  ASSERT_EQ(*status, 0) << ss->describeOutput();
  const std::string lines = ss->stdoutText();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1) << lines;
  EXPECT_NE(lines.find("fwmark:0x5a1"), std::string::npos) << lines;
}

TEST_F(ProxySpliceTest, UpstreamConnectFailureResetsTheClientAndIsReported) {
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kNobodyV4, 443));
  ASSERT_TRUE(sendAll(client.get(), "GET / HTTP/1.1\r\n\r\n"));
  ReadResult result = readUntilEnd(client.get());
  EXPECT_EQ(result.error, ECONNRESET) << describeError(result.error);
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.upstreamConnectFailures, 1u);
  EXPECT_EQ(counters.spliced, 0u);
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kUpstreamConnectFailed);
  EXPECT_NE(seen[0].detail.find("127.0.0.4:443"), std::string::npos) << seen[0].detail;
  EXPECT_NE(seen[0].detail.find("refused"), std::string::npos) << seen[0].detail;
}

TEST_F(ProxySpliceTest, EarlyUpstreamConnectFailureResetsTheClientOnceItHasSpoken) {
  connectEarly_ = true;
  startProxy(defaultOptions());
  Fd client = connectThroughProxy(destinationOf(kNobodyV4, 443));
  ASSERT_TRUE(sendAll(client.get(), "GET / HTTP/1.1\r\n\r\n"));
  ReadResult result = readUntilEnd(client.get());
  EXPECT_EQ(result.error, ECONNRESET) << describeError(result.error);
  ProxyCounters counters = proxy_->counters();
  EXPECT_EQ(counters.earlyConnects, 1u);
  EXPECT_EQ(counters.upstreamConnectFailures, 1u);
  EXPECT_EQ(counters.nonTlsConnections, 1u);  // the verdict came first: the failure waited for it
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kUpstreamConnectFailed);
  EXPECT_NE(seen[0].detail.find("refused"), std::string::npos) << seen[0].detail;
}

TEST_F(ProxySpliceTest, IdlePairIsClosedOnBothSides) {
  startPlainServer(upperCaseUntilEnd);
  ProxyOptions options = defaultOptions();
  options.idleTimeout = 1s;
  startProxy(options);
  Fd client = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  pingThrough(client.get());
  ReadResult result = readUntilEnd(client.get());  // then quiet
  EXPECT_EQ(result.error, 0) << describeError(result.error);
  EXPECT_EQ(result.data, "");
  ASSERT_TRUE(plainServer_->waitForOutcomes(1));
  EXPECT_EQ(plainServer_->outcomes()[0].substr(0, 3), "eof");
  EXPECT_EQ(proxy_->counters().idleTimeouts, 1u);
  EXPECT_TRUE(eventually([&] { return proxy_->counters().active == 0; }));
}

TEST_F(ProxySpliceTest, ConnectionsBeyondTheLimitAreResetAtOnceAndTheirRecordIsConsumed) {
  startPlainServer(upperCaseUntilEnd);
  ProxyOptions options = defaultOptions();
  options.maxConnections = 1;
  startProxy(options);
  Fd first = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  pingThrough(first.get());

  Fd second = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  ReadResult refused = readUntilEnd(second.get());
  EXPECT_EQ(refused.error, ECONNRESET) << describeError(refused.error);
  EXPECT_EQ(table_.remaining(), 0u);
  EXPECT_EQ(proxy_->counters().refusedOverLimit, 1u);
  std::vector<ProxyEvent> seen = events();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, ProxyEventKind::kRefusedOverLimit);

  // The place is given back when the first connection ends.
  first.reset();
  ASSERT_TRUE(eventually([&] { return proxy_->counters().active == 0; }));
  Fd third = connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort));
  pingThrough(third.get());
}

// Restores the descriptor limit (and frees the descriptors that used it up) even if a check fails.
class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    Fd source(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    rlimit lowered = saved_;
    lowered.rlim_cur = 512;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (;;) {
      int fd = ::fcntl(source.get(), F_DUPFD_CLOEXEC, 0);
      if (fd < 0) break;
      fillers_.emplace_back(fd);
    }
    fillers_.push_back(std::move(source));  // closing it would free a place
  }
  ~DescriptorExhaustion() { end(); }
  void end() {
    fillers_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<Fd> fillers_;
};

TEST_F(ProxySpliceTest, AcceptBacksOffWhileOutOfDescriptorsThenResumes) {
  startPlainServer(upperCaseUntilEnd);
  ProxyOptions options = defaultOptions();
  options.threads = 1;
  startProxy(options);
  // The client socket exists before the descriptors run out; the kernel completes its handshake
  // with no accept(), and the proxy's accept() then fails with EMFILE.
  Fd pending(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof local;
  ASSERT_EQ(::bind(pending.get(), reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  ASSERT_EQ(::getsockname(pending.get(), reinterpret_cast<sockaddr*>(&local), &length), 0);
  table_.record(ntohs(local.sin_port), destinationOf(kPlainServerV4, kPlainPort));
  sockaddr_in proxy = local;
  proxy.sin_port = htons(proxy_->port());
  setSafetyTimeouts(pending.get());
  {
    DescriptorExhaustion exhausted;
    ASSERT_FALSE(Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)).valid()) << "descriptors left";
    ASSERT_EQ(::connect(pending.get(), reinterpret_cast<sockaddr*>(&proxy), sizeof proxy), 0) << std::strerror(errno);
    ASSERT_TRUE(eventually([&] { return proxy_->counters().acceptErrors >= 3; }));
    // Retrying at once would have failed thousands of times by now; backing off, a handful.
    EXPECT_LT(proxy_->counters().acceptErrors, 20u);
  }
  pingThrough(pending.get());
  EXPECT_EQ(proxy_->counters().spliced, 1u);
}

TEST_F(ProxySpliceTest, StopWithOpenConnectionsResetsThemAndReturns) {
  startPlainServer(upperCaseUntilEnd);
  startProxy(defaultOptions());
  std::vector<Fd> spliced;
  for (int i = 0; i < 4; ++i) {
    spliced.push_back(connectThroughProxy(destinationOf(kPlainServerV4, kPlainPort)));
    pingThrough(spliced.back().get());
  }
  Fd peeking = connectThroughProxy(destinationOf(kTlsServerV4, 443));  // silent: still in its peek
  ASSERT_TRUE(eventually([&] { return proxy_->counters().active == 5; }));

  auto stopped = std::async(std::launch::async, [&] { proxy_->stop(); });
  ASSERT_EQ(stopped.wait_for(kSafety), std::future_status::ready);

  for (auto& fd : spliced) EXPECT_EQ(readUntilEnd(fd.get()).error, ECONNRESET);
  EXPECT_EQ(readUntilEnd(peeking.get()).error, ECONNRESET);
  ASSERT_TRUE(plainServer_->waitForOutcomes(4));
  EXPECT_EQ(plainServer_->outcomes(), std::vector<std::string>(4, "reset"));
  EXPECT_EQ(proxy_->counters().active, 0u);
  // Nothing listens any more.
  Fd late(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in proxy{};
  proxy.sin_family = AF_INET;
  proxy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  proxy.sin_port = htons(proxy_->port());
  EXPECT_NE(::connect(late.get(), reinterpret_cast<sockaddr*>(&proxy), sizeof proxy), 0);
  EXPECT_EQ(errno, ECONNREFUSED);
}

}  // namespace
}  // namespace shadowai::test
