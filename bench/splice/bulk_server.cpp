#include "splice/bulk_server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "shared/server_socket.h"
#include "splice/scenario.h"
#include "splice/transfer.h"

namespace shadowai::bench::splice {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class AsioBulkServer final : public BulkServer {
 public:
  static Result<std::unique_ptr<BulkServer>> start(const test::LeafFiles& leaf) {
    std::unique_ptr<AsioBulkServer> server(new AsioBulkServer());
    if (auto configured = server->configure(leaf); !configured) return configured.error();
    asio::co_spawn(server->io_, server->acceptLoop(), asio::detached);
    server->thread_ = std::thread([raw = server.get()] { raw->io_.run(); });
    return std::unique_ptr<BulkServer>(std::move(server));
  }

  AsioBulkServer(const AsioBulkServer&) = delete;
  AsioBulkServer& operator=(const AsioBulkServer&) = delete;
  ~AsioBulkServer() override {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint64_t handshakes() const override { return handshakes_.load(std::memory_order_relaxed); }
  uint64_t handshakeFailures() const override { return handshakeFailures_.load(std::memory_order_relaxed); }

 private:
  static constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

  AsioBulkServer() : payload_(pseudoRandomBytes(kChunk)), sink_(kChunk) {}

  Status configure(const test::LeafFiles& leaf) {
    if (auto loaded = useServerCertificate(tls_, leaf); !loaded) return loaded;
    // Every handshake is a full one, and nothing follows it unasked: no tickets to send or to read.
    SSL_CTX_set_num_tickets(tls_.native_handle(), 0);
    SSL_CTX_set_session_cache_mode(tls_.native_handle(), SSL_SESS_CACHE_OFF);
    return listenOn(acceptor_, kServerAddress, kServerPort, kListenBacklog);
  }

  asio::awaitable<void> acceptLoop() {
    asio::steady_timer backoff(io_);
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(kAwaitTuple);
      if (error == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (error) {  // EMFILE and the like: the connection stays queued, so do not spin on it
        backoff.expires_after(10ms);
        co_await backoff.async_wait(kAwaitTuple);
        continue;
      }
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::ssl::stream<tcp::socket> stream(std::move(socket), tls_);
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
    if (handshakeError) {
      handshakeFailures_.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
    handshakes_.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
      std::array<uint8_t, kTransferHeaderSize> header{};
      auto [headerError, headerBytes] = co_await asio::async_read(stream, asio::buffer(header), kAwaitTuple);
      if (headerError) co_return;  // the client's close_notify, or it went away: either way, done
      uint64_t left = 0;
      std::memcpy(&left, header.data() + 8, sizeof(left));
      if (header[0] == kUpload) {
        while (left > 0) {
          // One sink for every connection: what is read is thrown away, so sharing it is harmless.
          auto [readError, got] = co_await stream.async_read_some(
              asio::buffer(sink_.data(), static_cast<size_t>(std::min<uint64_t>(left, sink_.size()))), kAwaitTuple);
          if (readError) co_return;
          left -= got;
        }
        static constexpr uint8_t kAcknowledgement = 1;
        auto [ackError, acked] = co_await asio::async_write(stream, asio::buffer(&kAcknowledgement, 1), kAwaitTuple);
        if (ackError) co_return;
      } else if (header[0] == kDownload) {
        while (left > 0) {
          const size_t size = static_cast<size_t>(std::min<uint64_t>(left, payload_.size()));
          auto [writeError, written] = co_await asio::async_write(stream, asio::buffer(payload_.data(), size), kAwaitTuple);
          if (writeError) co_return;
          left -= written;
        }
      } else {
        co_return;
      }
    }
  }

  // Declared before io_: the connections' coroutines, destroyed with io_, use them.
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  const std::vector<uint8_t> payload_;
  std::vector<uint8_t> sink_;
  std::atomic<uint64_t> handshakes_{0};
  std::atomic<uint64_t> handshakeFailures_{0};
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<BulkServer>> BulkServer::start(const test::LeafFiles& leaf) { return AsioBulkServer::start(leaf); }

}  // namespace shadowai::bench::splice
