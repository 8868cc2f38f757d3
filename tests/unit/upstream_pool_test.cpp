// UpstreamPool and connectUpstream against a real TLS server on 127.0.0.1 whose certificate comes
// from a throw-away LocalCa: verification, SNI, reuse per (host, identity), noticing a server that
// closed an idle connection, idle expiry and limits, and one clear error per way of failing.
#include "intercept/upstream_pool.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "intercept/upstream_tls_context.h"
#include "support/local_ca_for_test.h"
#include "support/temp_dir.h"
#include "tls/leaf_cert.h"
#include "tls/local_ca.h"

namespace shadowai {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kServerName = "api.test.example";

// What the test server does once it has written a response (always marked keep-alive).
enum class AfterResponse { kWaitForNext, kCloseNotify, kFin };

// An HTTPS server on 127.0.0.1 that answers every request with "connection N: TARGET", so a test
// can tell which TCP connection served it. With answerTls false it accepts TCP and then says
// nothing, like a server that hangs.
class TestTlsServer {
 public:
  TestTlsServer(asio::io_context& io, const LeafCert& leaf, AfterResponse after = AfterResponse::kWaitForNext,
                bool answerTls = true)
      : acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), after_(after), answerTls_(answerTls) {
    SSL_CTX* native = context_.native_handle();
    EXPECT_EQ(SSL_CTX_use_certificate(native, leaf.certificate.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(native, leaf.key.get()), 1);
    asio::co_spawn(io, acceptLoop(), asio::detached);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connectionsAccepted() const { return accepted_; }
  const std::vector<std::string>& serverNames() const { return serverNames_; }

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(kAwaitTuple);
      if (error) co_return;
      const int number = ++accepted_;
      if (!answerTls_) {
        silent_.push_back(std::move(socket));
        continue;
      }
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket), number), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket, int number) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), context_);
    stream.next_layer().expires_after(10s);
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
    if (handshakeError) co_return;
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    serverNames_.push_back(sni != nullptr ? sni : "");
    beast::flat_buffer buffer;
    for (;;) {
      stream.next_layer().expires_never();
      http::request<http::string_body> request;
      auto [readError, readBytes] = co_await http::async_read(stream, buffer, request, kAwaitTuple);
      if (readError) co_return;
      http::response<http::string_body> response(http::status::ok, 11);
      response.body() = "connection " + std::to_string(number) + ": " + std::string(request.target());
      response.keep_alive(true);
      response.prepare_payload();
      auto [writeError, written] = co_await http::async_write(stream, response, kAwaitTuple);
      if (writeError) co_return;
      if (after_ == AfterResponse::kCloseNotify) {
        // Sends close_notify at once, then waits briefly for the client's, which never comes.
        stream.next_layer().expires_after(2s);
        co_await stream.async_shutdown(kAwaitTuple);
        co_return;
      }
      if (after_ == AfterResponse::kFin) co_return;  // the stream goes, the socket closes
    }
  }

  asio::ssl::context context_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_;
  AfterResponse after_;
  bool answerTls_;
  int accepted_ = 0;
  std::vector<std::string> serverNames_;
  std::vector<tcp::socket> silent_;
};

// One request on CONNECTION; the response body, or "error: ..." so a failure shows in the diff.
asio::awaitable<std::string> exchange(UpstreamConnection& connection, const std::string& target) {
  beast::get_lowest_layer(connection.stream).expires_after(10s);
  http::request<http::string_body> request(http::verb::get, target, 11);
  request.set(http::field::host, connection.key.serverName);
  auto [writeError, written] = co_await http::async_write(connection.stream, request, kAwaitTuple);
  if (writeError) co_return "error: " + writeError.message();
  http::response<http::string_body> response;
  auto [readError, read] = co_await http::async_read(connection.stream, connection.buffer, response, kAwaitTuple);
  if (readError) co_return "error: " + readError.message();
  co_return response.body();
}

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

std::unique_ptr<UpstreamConnection> takeConnection(UpstreamConnectResult result) {
  if (auto* error = std::get_if<UpstreamError>(&result)) {
    ADD_FAILURE() << "acquire failed: " << error->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<UpstreamConnection>>(result));
}

UpstreamError takeError(const UpstreamConnectResult& result) {
  if (const auto* error = std::get_if<UpstreamError>(&result)) return *error;
  ADD_FAILURE() << "acquire succeeded where it should have failed";
  return {UpstreamFailure::kConnect, ""};
}

class UpstreamPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = test::LocalCaForTest::create();
    ASSERT_TRUE(ca) << ca.error().describe();
    ca_ = std::make_unique<test::LocalCaForTest>(std::move(ca).value());
    leaf_ = mintLeaf(kServerName);
  }

  std::unique_ptr<LeafCert> mintLeaf(const std::string& name) {
    auto leaf = ca_->mintLeaf(name);
    EXPECT_TRUE(leaf) << leaf.error().describe();
    return std::make_unique<LeafCert>(std::move(leaf).value());
  }

  std::shared_ptr<asio::ssl::context> clientContext(const std::string& caBundle) {
    auto context = makeUpstreamTlsContext(caBundle);
    EXPECT_TRUE(context) << context.error().describe();
    return context ? *context : nullptr;
  }

  UpstreamPool& makePool(UpstreamPoolOptions options = {}) {
    pool_ = std::make_unique<UpstreamPool>(io_.get_executor(),
                                           clientContext(ca_->certificatePath()), options);
    return *pool_;
  }

  static UpstreamKey keyFor(uint16_t port, std::string identity = "key-a", std::string serverName = kServerName) {
    return UpstreamKey{*IpAddress::parse("127.0.0.1"), port, std::move(serverName), std::move(identity), nullptr};
  }

  // Runs WORK on the test's io_context (which also runs the servers) until it finishes.
  template <typename T>
  T run(asio::awaitable<T> work) {
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(io_, std::move(work), [&](std::exception_ptr error, T value) {
      failure = error;
      result = std::move(value);
      io_.stop();
    });
    io_.restart();
    io_.run();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
  }

  std::unique_ptr<UpstreamConnection> acquire(const UpstreamKey& key) {
    return takeConnection(run(pool_->acquire(key)));
  }
  UpstreamError acquireError(const UpstreamKey& key) { return takeError(run(pool_->acquire(key))); }
  std::string exchangeOn(UpstreamConnection& connection, const std::string& target) {
    return run(exchange(connection, target));
  }
  void sleepFor(std::chrono::milliseconds duration) {
    run([duration]() -> asio::awaitable<int> {
      co_await pause(duration);
      co_return 0;
    }());
  }

  // Declared first, destroyed last: the servers' and pool's sockets go before their io_context.
  asio::io_context io_{1};
  std::unique_ptr<test::LocalCaForTest> ca_;
  std::unique_ptr<LeafCert> leaf_;
  std::unique_ptr<UpstreamPool> pool_;
};

TEST_F(UpstreamPoolTest, RequestAndResponseWorkWithTheConfiguredCaBundle) {
  TestTlsServer server(io_, *leaf_);
  makePool();
  auto connection = acquire(keyFor(server.port()));
  ASSERT_TRUE(connection);
  EXPECT_FALSE(connection->reused);
  EXPECT_EQ(exchangeOn(*connection, "/v1/models"), "connection 1: /v1/models");
  const unsigned char* alpn = nullptr;
  unsigned int alpnLength = 0;
  SSL_get0_alpn_selected(connection->stream.native_handle(), &alpn, &alpnLength);
  EXPECT_EQ(alpnLength, 0u) << "the test server does not do ALPN";
}

TEST_F(UpstreamPoolTest, SendsTheServerNameAsSni) {
  TestTlsServer server(io_, *leaf_);
  makePool();
  auto connection = acquire(keyFor(server.port()));
  ASSERT_TRUE(connection);
  EXPECT_EQ(exchangeOn(*connection, "/"), "connection 1: /");
  EXPECT_EQ(server.serverNames(), std::vector<std::string>{kServerName});
}

TEST_F(UpstreamPoolTest, WithoutServerNameSendsNoSniAndVerifiesTheIpAddress) {
  auto ipLeaf = mintLeaf("127.0.0.1");
  TestTlsServer server(io_, *ipLeaf);
  makePool();
  auto connection = acquire(keyFor(server.port(), "key-a", ""));
  ASSERT_TRUE(connection);
  EXPECT_EQ(exchangeOn(*connection, "/"), "connection 1: /");
  EXPECT_EQ(server.serverNames(), std::vector<std::string>{""});
}

TEST_F(UpstreamPoolTest, ReleasedConnectionIsReusedForTheSameKey) {
  TestTlsServer server(io_, *leaf_);
  auto& pool = makePool();
  auto first = acquire(keyFor(server.port()));
  ASSERT_TRUE(first);
  EXPECT_EQ(exchangeOn(*first, "/one"), "connection 1: /one");
  const UpstreamConnection* address = first.get();
  pool.release(std::move(first));
  EXPECT_EQ(pool.idleCount(), 1u);

  auto second = acquire(keyFor(server.port()));
  ASSERT_TRUE(second);
  EXPECT_EQ(second.get(), address);
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(pool.idleCount(), 0u);
  EXPECT_EQ(exchangeOn(*second, "/two"), "connection 1: /two");
  EXPECT_EQ(server.connectionsAccepted(), 1);
}

TEST_F(UpstreamPoolTest, DifferentIdentityGetsItsOwnConnection) {
  TestTlsServer server(io_, *leaf_);
  auto& pool = makePool();
  auto forA = acquire(keyFor(server.port(), "key-a"));
  ASSERT_TRUE(forA);
  EXPECT_EQ(exchangeOn(*forA, "/a"), "connection 1: /a");
  pool.release(std::move(forA));

  auto forB = acquire(keyFor(server.port(), "key-b"));
  ASSERT_TRUE(forB);
  EXPECT_FALSE(forB->reused);
  EXPECT_EQ(exchangeOn(*forB, "/b"), "connection 2: /b");
  EXPECT_EQ(server.connectionsAccepted(), 2);
  EXPECT_EQ(pool.idleCount(), 1u) << "key-a's connection stays idle for key-a";
}

TEST_F(UpstreamPoolTest, ConnectionTheServerClosedWithCloseNotifyIsReplaced) {
  TestTlsServer server(io_, *leaf_, AfterResponse::kCloseNotify);
  auto& pool = makePool();
  auto first = acquire(keyFor(server.port()));
  ASSERT_TRUE(first);
  EXPECT_EQ(exchangeOn(*first, "/one"), "connection 1: /one");
  pool.release(std::move(first));
  sleepFor(100ms);  // the close_notify arrives

  auto second = acquire(keyFor(server.port()));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->reused);
  EXPECT_EQ(exchangeOn(*second, "/two"), "connection 2: /two");
  EXPECT_EQ(server.connectionsAccepted(), 2);
}

TEST_F(UpstreamPoolTest, ConnectionTheServerClosedWithoutCloseNotifyIsReplaced) {
  TestTlsServer server(io_, *leaf_, AfterResponse::kFin);
  auto& pool = makePool();
  auto first = acquire(keyFor(server.port()));
  ASSERT_TRUE(first);
  EXPECT_EQ(exchangeOn(*first, "/one"), "connection 1: /one");
  pool.release(std::move(first));
  sleepFor(100ms);  // the FIN arrives

  auto second = acquire(keyFor(server.port()));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->reused);
  EXPECT_EQ(exchangeOn(*second, "/two"), "connection 2: /two");
  EXPECT_EQ(pool.idleCount(), 0u);
}

TEST_F(UpstreamPoolTest, IdleConnectionExpires) {
  TestTlsServer server(io_, *leaf_);
  UpstreamPoolOptions options;
  options.idleTimeout = 100ms;
  auto& pool = makePool(options);
  auto first = acquire(keyFor(server.port()));
  ASSERT_TRUE(first);
  EXPECT_EQ(exchangeOn(*first, "/one"), "connection 1: /one");
  pool.release(std::move(first));
  sleepFor(200ms);

  auto second = acquire(keyFor(server.port()));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->reused);
  EXPECT_EQ(exchangeOn(*second, "/two"), "connection 2: /two");
  EXPECT_EQ(pool.idleCount(), 0u);
}

TEST_F(UpstreamPoolTest, KeepsAtMostMaxIdlePerKeyAndMaxIdleTotal) {
  TestTlsServer server(io_, *leaf_);
  UpstreamPoolOptions options;
  options.maxIdlePerKey = 2;
  options.maxIdleTotal = 3;
  auto& pool = makePool(options);
  std::vector<std::unique_ptr<UpstreamConnection>> held;
  for (const char* identity : {"a", "a", "a", "b", "b"}) {
    held.push_back(acquire(keyFor(server.port(), identity)));
    ASSERT_TRUE(held.back());
    EXPECT_THAT(exchangeOn(*held.back(), "/"), HasSubstr("connection"));
  }
  for (int i = 0; i < 3; ++i) pool.release(std::move(held[i]));
  EXPECT_EQ(pool.idleCount(), 2u) << "per key";
  for (int i = 3; i < 5; ++i) pool.release(std::move(held[i]));
  EXPECT_EQ(pool.idleCount(), 3u) << "in total";

  // The oldest of "a" went first; what remains for "a" is the newest.
  auto forA = acquire(keyFor(server.port(), "a"));
  ASSERT_TRUE(forA);
  EXPECT_TRUE(forA->reused);
  EXPECT_EQ(exchangeOn(*forA, "/again"), "connection 3: /again");
  EXPECT_EQ(server.connectionsAccepted(), 5);
}

TEST_F(UpstreamPoolTest, UntrustedCertificateIsATlsErrorThatSaysCertificate) {
  TestTlsServer server(io_, *leaf_);
  test::TempDir otherDir;
  auto otherCa = LocalCa::loadOrCreate(otherDir.path());
  ASSERT_TRUE(otherCa);
  UpstreamPool pool(io_.get_executor(), clientContext(LocalCa::certificatePath(otherDir.path())), {});
  auto error = takeError(run(pool.acquire(keyFor(server.port()))));
  EXPECT_EQ(error.kind, UpstreamFailure::kTls);
  EXPECT_THAT(error.message, HasSubstr("upstream api.test.example (127.0.0.1:" + std::to_string(server.port()) +
                                       "): certificate verify failed: unable to get local issuer certificate"));
  EXPECT_EQ(pool.idleCount(), 0u);
}

TEST_F(UpstreamPoolTest, NameMismatchIsATlsErrorThatSaysCertificate) {
  TestTlsServer server(io_, *leaf_);
  makePool();
  auto error = acquireError(keyFor(server.port(), "key-a", "other.test.example"));
  EXPECT_EQ(error.kind, UpstreamFailure::kTls);
  EXPECT_THAT(error.message, HasSubstr("certificate verify failed: hostname mismatch"));
  EXPECT_THAT(error.message, HasSubstr("not for other.test.example"));
}

TEST_F(UpstreamPoolTest, RefusedConnectionIsAConnectError) {
  uint16_t closedPort = 0;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closedPort = probe.local_endpoint().port();
  }
  makePool();
  auto error = acquireError(keyFor(closedPort));
  EXPECT_EQ(error.kind, UpstreamFailure::kConnect);
  EXPECT_EQ(error.message, "upstream api.test.example (127.0.0.1:" + std::to_string(closedPort) +
                               ") failed to accept the connection: Connection refused");
}

TEST_F(UpstreamPoolTest, ServerThatNeverAnswersTlsIsATimeout) {
  TestTlsServer server(io_, *leaf_, AfterResponse::kWaitForNext, /*answerTls=*/false);
  UpstreamPoolOptions options;
  options.connect.handshakeTimeout = 200ms;
  makePool(options);
  auto error = acquireError(keyFor(server.port()));
  EXPECT_EQ(error.kind, UpstreamFailure::kTimeout);
  EXPECT_EQ(error.message, "upstream api.test.example (127.0.0.1:" + std::to_string(server.port()) +
                               ") did not complete the TLS handshake within 200 ms");
}

TEST_F(UpstreamPoolTest, ServerThatNeverAcceptsIsAConnectTimeout) {
  // A listener with a full accept queue drops further SYNs, so the connect hangs until our deadline.
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener.get(), 0), 0);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  Fd filler(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(filler.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

  UpstreamPoolOptions options;
  options.connect.connectTimeout = 300ms;
  makePool(options);
  const uint16_t port = ntohs(address.sin_port);
  auto error = acquireError(keyFor(port));
  EXPECT_EQ(error.kind, UpstreamFailure::kTimeout);
  EXPECT_EQ(error.message, "upstream api.test.example (127.0.0.1:" + std::to_string(port) +
                               ") did not accept the connection within 300 ms");
}

TEST(UpstreamTlsContext, MissingCaBundleIsAClearError) {
  auto context = makeUpstreamTlsContext("/nonexistent/ca.pem");
  ASSERT_FALSE(context);
  EXPECT_THAT(context.error().describe(), HasSubstr("cannot load the upstream CA bundle /nonexistent/ca.pem"));
}

TEST(UpstreamTlsContext, SystemTrustStoreLoads) { EXPECT_TRUE(makeUpstreamTlsContext("")); }

TEST(UpstreamError, TimeoutsAreFormattedInSecondsWhenWhole) {
  EXPECT_EQ(formatTimeout(10s), "10 s");
  EXPECT_EQ(formatTimeout(1500ms), "1500 ms");
  UpstreamKey key{*IpAddress::parse("2001:db8::1"), 443, "", "x", nullptr};
  auto error = classifyUpstreamError(key, beast::error::timeout, "answer", 120s);
  EXPECT_EQ(error.kind, UpstreamFailure::kTimeout);
  EXPECT_EQ(error.message, "upstream [2001:db8::1]:443 did not answer within 120 s");
  auto reset = classifyUpstreamError(key, asio::error::connection_reset, "answer", 120s);
  EXPECT_EQ(reset.kind, UpstreamFailure::kConnect);
  EXPECT_EQ(reset.message, "upstream [2001:db8::1]:443 failed to answer: Connection reset by peer");
}

}  // namespace
}  // namespace shadowai
