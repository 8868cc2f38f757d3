#include "intercept/upstream_server.h"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "intercept/scenario.h"
#include "shared/server_socket.h"

namespace shadowai::bench::intercept {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

int selectHttp11(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in, unsigned int inLength,
                 void*) {
  for (unsigned int at = 0; at < inLength;) {
    const unsigned int length = in[at];
    if (at + 1 + length > inLength) break;
    if (length == 8 && std::memcmp(in + at + 1, "http/1.1", 8) == 0) {
      *out = in + at + 1;
      *outLength = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    at += 1 + length;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

class BeastUpstreamServer final : public UpstreamServer {
 public:
  static Result<std::unique_ptr<UpstreamServer>> start(const test::LeafFiles& leaf, const Wire& wire, int threads,
                                                       std::chrono::microseconds eventGap) {
    std::unique_ptr<BeastUpstreamServer> server(new BeastUpstreamServer(wire, eventGap, threads));
    if (auto configured = server->configure(leaf); !configured) return configured.error();
    asio::co_spawn(server->io_, server->acceptLoop(), asio::detached);
    for (int i = 0; i < threads; ++i) server->threads_.emplace_back([raw = server.get()] { raw->io_.run(); });
    return std::unique_ptr<UpstreamServer>(std::move(server));
  }

  BeastUpstreamServer(const BeastUpstreamServer&) = delete;
  BeastUpstreamServer& operator=(const BeastUpstreamServer&) = delete;
  ~BeastUpstreamServer() override {
    io_.stop();
    for (auto& thread : threads_) thread.join();
  }

  ServerCounters counters() const override {
    auto read = [](const std::atomic<uint64_t>& cell) { return cell.load(std::memory_order_relaxed); };
    return {read(connections_), read(handshakes_), read(handshakeFailures_), read(requests_),
            read(streams_),     read(managedKey_), read(clientKey_),         read(otherKey_)};
  }

 private:
  static constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
  using Stream = asio::ssl::stream<tcp::socket>;

  BeastUpstreamServer(const Wire& wire, std::chrono::microseconds eventGap, int threads)
      : wire_(wire), eventGap_(eventGap), io_(threads) {}

  Status configure(const test::LeafFiles& leaf) {
    if (auto loaded = useServerCertificate(tls_, leaf); !loaded) return loaded;
    SSL_CTX_set_alpn_select_cb(tls_.native_handle(), selectHttp11, nullptr);
    // Session tickets as OpenSSL sends them by default (two per TLS 1.3 handshake), like real
    // providers: clients and proxies must read them before a connection is quiet.
    return listenOn(acceptor_, kUpstreamAddress, kHttpsPort, 1024);
  }

  asio::awaitable<void> acceptLoop() {
    asio::steady_timer backoff(io_);
    for (;;) {
      // Each connection on its own strand: the io_context runs on several threads.
      auto [error, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kAwaitTuple);
      if (error == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (error) {
        backoff.expires_after(10ms);
        co_await backoff.async_wait(kAwaitTuple);
        continue;
      }
      connections_.fetch_add(1, std::memory_order_relaxed);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
  }

  void countKey(const http::request<http::string_body>& request) {
    const auto authorization = request[http::field::authorization];
    if (authorization == std::string("Bearer ") + kManagedKey) {
      managedKey_.fetch_add(1, std::memory_order_relaxed);
    } else if (authorization == std::string("Bearer ") + kClientKey) {
      clientKey_.fetch_add(1, std::memory_order_relaxed);
    } else {
      otherKey_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    Stream stream(std::move(socket), tls_);
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
    if (handshakeError) {
      // The proxy's early upstream connect, reset once the connection turns out to be intercepted.
      handshakeFailures_.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
    handshakes_.fetch_add(1, std::memory_order_relaxed);
    beast::flat_buffer buffer;
    asio::steady_timer gap(stream.get_executor());
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      auto [readError, readBytes] = co_await http::async_read(stream, buffer, parser, kAwaitTuple);
      if (readError) co_return;  // the client closed, or went away
      const auto& request = parser.get();
      requests_.fetch_add(1, std::memory_order_relaxed);
      countKey(request);
      const bool keepAlive = request.keep_alive();
      if (request.body().find(R"("stream":true)") == std::string::npos) {
        auto [error, written] = co_await asio::async_write(stream, asio::buffer(wire_.response), kAwaitTuple);
        if (error) co_return;
      } else {
        streams_.fetch_add(1, std::memory_order_relaxed);
        auto [headerError, headerBytes] = co_await asio::async_write(stream, asio::buffer(wire_.streamHeader), kAwaitTuple);
        if (headerError) co_return;
        for (size_t i = 0; i < wire_.streamChunks.size(); ++i) {
          if (i > 0 && eventGap_.count() > 0) {
            gap.expires_after(eventGap_);
            co_await gap.async_wait(kAwaitTuple);
          }
          auto [error, written] = co_await asio::async_write(stream, asio::buffer(wire_.streamChunks[i]), kAwaitTuple);
          if (error) co_return;
        }
      }
      if (!keepAlive) co_return;
    }
  }

  const Wire& wire_;
  const std::chrono::microseconds eventGap_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  std::atomic<uint64_t> connections_{0}, handshakes_{0}, handshakeFailures_{0}, requests_{0}, streams_{0},
      managedKey_{0}, clientKey_{0}, otherKey_{0};
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::vector<std::thread> threads_;
};

}  // namespace

Result<std::unique_ptr<UpstreamServer>> UpstreamServer::start(const test::LeafFiles& leaf, const Wire& wire,
                                                              int threads, std::chrono::microseconds eventGap) {
  return BeastUpstreamServer::start(leaf, wire, threads, eventGap);
}

}  // namespace shadowai::bench::intercept
