#include "intercept/client_worker.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <memory>
#include <thread>

#include "shared/bench_run.h"
#include "shared/process_figures.h"
#include "shared/statistics.h"
#include "tls/openssl_error.h"

namespace shadowai::bench::intercept {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxReplyBytes = sizeof(WorkerReplyHeader) + 2 * kMaxSamplesPerRequest * sizeof(uint32_t);

uint32_t clampNs(uint64_t ns) { return static_cast<uint32_t>(std::min<uint64_t>(ns, UINT32_MAX)); }

// CPU time of the parties named in REQUEST, in ns (a pid that has gone reads as 0).
std::array<uint64_t, kPartyCount> partyCpu(const WorkerRequest& request) {
  std::array<uint64_t, kPartyCount> cpu{};
  for (size_t party = 0; party < kPartyCount; ++party) {
    for (int32_t pid : request.pids[party]) {
      if (pid <= 0) continue;
      auto ns = processCpuNs(pid);
      if (ns) cpu[party] += *ns;
    }
  }
  return cpu;
}

using ClientStream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

struct ClientConnection {
  ClientConnection(asio::io_context& io, asio::ssl::context& tls) : stream(io, tls) {}
  ClientStream stream;
  beast::flat_buffer buffer;
};

// The client side, in the worker process.
class ClientWorker {
 public:
  explicit ClientWorker(const Wire& wire) : wire_(wire) {}

  WorkerReply handle(WorkerRequest request) {
    request.address[sizeof(request.address) - 1] = '\0';
    request.caFile[sizeof(request.caFile) - 1] = '\0';
    request.pids[kClientParty][0] = static_cast<int32_t>(::getpid());
    WorkerReply reply;
    auto tls = contextFor(request.caFile);
    if (!tls) {
      copyText(reply.header.error, tls.error().describe());
      reply.header.failed = 1;
      return reply;
    }
    boost::system::error_code error;
    const auto address = asio::ip::make_address_v4(request.address, error);
    if (error) {
      copyText(reply.header.error, std::string("bad address ") + request.address);
      reply.header.failed = 1;
      return reply;
    }
    const tcp::endpoint endpoint(address, kHttpsPort);
    switch (request.command) {
      case WorkerCommand::kLatency:
      case WorkerCommand::kStream:
        sequential(request, **tls, endpoint, reply);
        break;
      case WorkerCommand::kThroughput:
        throughput(request, **tls, endpoint, reply);
        break;
      case WorkerCommand::kQuit:
        break;
    }
    reply.header.samples = static_cast<uint32_t>(reply.samples.size());
    reply.header.secondSamples = static_cast<uint32_t>(reply.secondSamples.size());
    return reply;
  }

 private:
  Result<asio::ssl::context*> contextFor(const std::string& caFile) {
    if (auto found = contexts_.find(caFile); found != contexts_.end()) return found->second.get();
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* native = context->native_handle();
    if (SSL_CTX_load_verify_locations(native, caFile.c_str(), nullptr) != 1) {
      return openSslError("cannot load the CA " + caFile);
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    static constexpr unsigned char kAlpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(native, kAlpn, sizeof kAlpn - 1);
    asio::ssl::context* raw = context.get();
    contexts_.emplace(caFile, std::move(context));
    return raw;
  }

  // Connects and completes the TLS handshake, verifying the certificate for the provider's name:
  // the real one (direct), nginx's (from the same CA), or shadowaid's leaf (from the daemon's CA).
  static asio::awaitable<std::string> open(ClientConnection& connection, const tcp::endpoint& endpoint) {
    auto& tcpStream = beast::get_lowest_layer(connection.stream);
    tcpStream.expires_after(kClientIoTimeout);
    auto [connectError] = co_await tcpStream.async_connect(endpoint, kAwaitTuple);
    if (connectError) co_return "connect to " + endpoint.address().to_string() + ":443: " + connectError.message();
    boost::system::error_code ignored;
    tcpStream.socket().set_option(tcp::no_delay(true), ignored);  // as HTTP clients do
    SSL* ssl = connection.stream.native_handle();
    if (SSL_set_tlsext_host_name(ssl, kProviderHost) != 1 || SSL_set1_host(ssl, kProviderHost) != 1) {
      co_return "cannot set up a TLS client";
    }
    auto [handshakeError] = co_await connection.stream.async_handshake(asio::ssl::stream_base::client, kAwaitTuple);
    if (handshakeError) {
      std::string message = "TLS handshake with " + endpoint.address().to_string() + ": " + handshakeError.message();
      if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
        message += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      }
      co_return message;
    }
    co_return "";
  }

  // One request and its whole answer, checked.
  asio::awaitable<std::string> exchange(ClientConnection& connection) {
    auto& tcpStream = beast::get_lowest_layer(connection.stream);
    tcpStream.expires_after(kClientIoTimeout);
    auto [writeError, written] = co_await asio::async_write(connection.stream, asio::buffer(wire_.request), kAwaitTuple);
    if (writeError) co_return "write: " + writeError.message();
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    auto [readError, read] = co_await http::async_read(connection.stream, connection.buffer, parser, kAwaitTuple);
    if (readError) co_return "read: " + readError.message();
    const auto& response = parser.get();
    if (response.result_int() != 200) {
      co_return "HTTP " + std::to_string(response.result_int()) + ": " + response.body().substr(0, 200);
    }
    if (response.body().size() != wire_.responseBodyBytes) {
      co_return "answer of " + std::to_string(response.body().size()) + " bytes, expected " +
          std::to_string(wire_.responseBodyBytes);
    }
    if (!response.keep_alive()) co_return "the answer closes the connection";
    co_return "";
  }

  // A streamed request: the time to the first whole event and to the end of the answer.
  asio::awaitable<std::string> stream(ClientConnection& connection, uint64_t& firstEventNs, uint64_t& totalNs) {
    const uint64_t started = nowNs();
    auto& tcpStream = beast::get_lowest_layer(connection.stream);
    tcpStream.expires_after(kClientIoTimeout);
    auto [writeError, written] =
        co_await asio::async_write(connection.stream, asio::buffer(wire_.streamRequest), kAwaitTuple);
    if (writeError) co_return "write: " + writeError.message();
    http::response_parser<http::buffer_body> parser;
    auto [headerError, headerBytes] = co_await http::async_read_header(connection.stream, connection.buffer, parser, kAwaitTuple);
    if (headerError) co_return "read: " + headerError.message();
    if (parser.get().result_int() != 200) co_return "HTTP " + std::to_string(parser.get().result_int());
    std::array<char, 16384> piece;
    std::string body;
    firstEventNs = 0;
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      auto [error, bytes] = co_await http::async_read_some(connection.stream, connection.buffer, parser, kAwaitTuple);
      if (error == http::error::need_buffer) error = {};
      if (error) co_return "read: " + error.message();
      body.append(piece.data(), piece.size() - parser.get().body().size);
      if (firstEventNs == 0 && body.find("\n\n") != std::string::npos) firstEventNs = nowNs() - started;
    }
    totalNs = nowNs() - started;
    uint32_t events = 0;
    for (size_t at = body.find("\n\n"); at != std::string::npos; at = body.find("\n\n", at + 2)) ++events;
    // With masking on, a delta that ends mid-word is held back and its tail comes in one more event
    // of the same shape just before the end of the choice (docs/intercept.md).
    if (events != wire_.eventsPerStream && events != wire_.eventsPerStream + 1) {
      co_return "a stream of " + std::to_string(events) + " events, expected " + std::to_string(wire_.eventsPerStream);
    }
    if (body.find("data: [DONE]") == std::string::npos) co_return "a stream without [DONE]";
    co_return "";
  }

  static void noteSession(WorkerReply& reply, ClientConnection& connection) {
    SSL* ssl = connection.stream.native_handle();
    copyText(reply.header.protocol, SSL_get_version(ssl));
    copyText(reply.header.cipher, SSL_get_cipher_name(ssl));
  }

  static void fail(WorkerReply& reply, const std::string& error) {
    ++reply.header.failed;
    if (reply.header.error[0] == '\0') copyText(reply.header.error, error);
  }

  static void close(ClientConnection& connection) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(connection.stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(connection.stream).socket().close(ignored);
  }

  // Latency or streams on one keep-alive connection, requests one after another.
  void sequential(const WorkerRequest& request, asio::ssl::context& tls, const tcp::endpoint& endpoint,
                  WorkerReply& reply) {
    asio::io_context io(1);
    const bool streams = request.command == WorkerCommand::kStream;
    const uint32_t count = std::min(request.count, kMaxSamplesPerRequest);
    reply.samples.reserve(count);
    if (streams) reply.secondSamples.reserve(count);
    auto body = [&]() -> asio::awaitable<void> {
      ClientConnection connection(io, tls);
      if (auto error = co_await open(connection, endpoint); !error.empty()) {
        fail(reply, error);
        co_return;
      }
      ++reply.header.connections;
      noteSession(reply, connection);
      uint64_t first = 0;
      uint64_t total = 0;
      for (uint32_t i = 0; i < request.warmup; ++i) {
        std::string error;
        if (streams) {
          error = co_await stream(connection, first, total);
        } else {
          error = co_await exchange(connection);
        }
        ++reply.header.requestsSent;
        if (!error.empty()) {
          fail(reply, "warm-up: " + error);
          co_return;
        }
      }
      const auto cpuBefore = partyCpu(request);
      const uint64_t windowStart = nowNs();
      for (uint32_t i = 0; i < count; ++i) {
        const uint64_t started = nowNs();
        std::string error;
        if (streams) {
          error = co_await stream(connection, first, total);
        } else {
          error = co_await exchange(connection);
        }
        const uint64_t elapsed = nowNs() - started;
        ++reply.header.requestsSent;
        if (!error.empty()) {
          fail(reply, error);
          co_return;
        }
        if (streams) {
          reply.samples.push_back(clampNs(first));
          reply.secondSamples.push_back(clampNs(total));
        } else {
          reply.samples.push_back(clampNs(elapsed));
        }
        ++reply.header.succeeded;
      }
      reply.header.windowNs = nowNs() - windowStart;
      const auto cpuAfter = partyCpu(request);
      for (size_t party = 0; party < kPartyCount; ++party) reply.header.cpuNs[party] = cpuAfter[party] - cpuBefore[party];
      close(connection);
    };
    asio::co_spawn(io, body(), asio::detached);
    io.run();
  }

  struct LoadThread {
    asio::io_context io{1};
    std::vector<std::unique_ptr<ClientConnection>> connections;
    std::vector<uint32_t> latencies;
    uint64_t completed = 0;
    uint32_t opened = 0;
    uint32_t sent = 0;
    uint32_t failed = 0;
    std::string error;
    std::string protocol, cipher;
  };

  // N keep-alive connections over a few threads (each its own io_context), each sending its next
  // request as soon as the answer to the last one is in, for a fixed time.
  void throughput(const WorkerRequest& request, asio::ssl::context& tls, const tcp::endpoint& endpoint,
                  WorkerReply& reply) {
    const uint32_t threadCount = std::max<uint32_t>(1, std::min(request.threads, request.connections));
    std::vector<std::unique_ptr<LoadThread>> threads;
    for (uint32_t t = 0; t < threadCount; ++t) threads.push_back(std::make_unique<LoadThread>());
    for (uint32_t c = 0; c < request.connections; ++c) {
      LoadThread& thread = *threads[c % threadCount];
      thread.connections.push_back(std::make_unique<ClientConnection>(thread.io, tls));
    }
    auto failIn = [](LoadThread& thread, const std::string& error) {
      ++thread.failed;
      if (thread.error.empty()) thread.error = error;
    };
    auto setup = [&](LoadThread& thread, ClientConnection& connection) -> asio::awaitable<void> {
      if (auto error = co_await open(connection, endpoint); !error.empty()) {
        failIn(thread, error);
        co_return;
      }
      ++thread.opened;
      if (thread.protocol.empty()) {
        thread.protocol = SSL_get_version(connection.stream.native_handle());
        thread.cipher = SSL_get_cipher_name(connection.stream.native_handle());
      }
      for (uint32_t i = 0; i < request.warmup; ++i) {
        auto error = co_await exchange(connection);
        ++thread.sent;
        if (!error.empty()) {
          failIn(thread, "warm-up: " + error);
          co_return;
        }
      }
    };
    auto runAll = [&](auto&& makeTask) {
      std::vector<std::thread> running;
      for (auto& thread : threads) {
        thread->io.restart();
        for (auto& connection : thread->connections) asio::co_spawn(thread->io, makeTask(*thread, *connection), asio::detached);
        running.emplace_back([&io = thread->io] { io.run(); });
      }
      for (auto& thread : running) thread.join();
    };
    runAll(setup);
    bool ready = true;
    for (auto& thread : threads) ready = ready && thread->failed == 0;
    if (ready) {
      const auto cpuBefore = partyCpu(request);
      const uint64_t windowStart = nowNs();
      const uint64_t deadline = windowStart + static_cast<uint64_t>(request.durationMs) * 1'000'000u;
      auto load = [&](LoadThread& thread, ClientConnection& connection) -> asio::awaitable<void> {
        while (nowNs() < deadline) {
          const uint64_t started = nowNs();
          auto error = co_await exchange(connection);
          const uint64_t done = nowNs();
          ++thread.sent;
          if (!error.empty()) {
            failIn(thread, error);
            co_return;
          }
          if (done <= deadline) {
            ++thread.completed;
            thread.latencies.push_back(clampNs(done - started));
          }
        }
      };
      runAll(load);
      reply.header.windowNs = deadline - windowStart;
      const auto cpuAfter = partyCpu(request);
      for (size_t party = 0; party < kPartyCount; ++party) reply.header.cpuNs[party] = cpuAfter[party] - cpuBefore[party];
    }
    std::vector<uint32_t> latencies;
    for (auto& thread : threads) {
      reply.header.succeeded += static_cast<uint32_t>(thread->completed);
      reply.header.connections += thread->opened;
      reply.header.requestsSent += thread->sent;
      if (thread->failed > 0) fail(reply, thread->error);
      reply.header.failed += thread->failed > 0 ? thread->failed - 1 : 0;
      if (reply.header.protocol[0] == '\0' && !thread->protocol.empty()) {
        copyText(reply.header.protocol, thread->protocol);
        copyText(reply.header.cipher, thread->cipher);
      }
      latencies.insert(latencies.end(), thread->latencies.begin(), thread->latencies.end());
      for (auto& connection : thread->connections) close(*connection);
    }
    reply.header.loadP50Ns = static_cast<uint64_t>(percentile(latencies, 0.5));
    reply.header.loadP90Ns = static_cast<uint64_t>(percentile(latencies, 0.9));
    reply.header.loadP99Ns = static_cast<uint64_t>(percentile(latencies, 0.99));
  }

  const Wire& wire_;
  std::map<std::string, std::unique_ptr<asio::ssl::context>> contexts_;
};

}  // namespace

std::vector<uint8_t> WorkerReply::encode() const { return encodeReply(header, {&samples, &secondSamples}); }

Result<WorkerReply> WorkerReply::decode(const std::vector<uint8_t>& message) {
  auto header = decodeReplyHeader<WorkerReplyHeader>(message);
  if (!header) return header.error();
  WorkerReply reply;
  reply.header = *header;
  decodeReplySamples(message, sizeof(WorkerReplyHeader),
                     {{reply.header.samples, &reply.samples}, {reply.header.secondSamples, &reply.secondSamples}});
  return reply;
}

Result<Worker> startWorker(const Wire& wire) {
  // The client's TLS contexts are made in the worker, on its first request.
  return Worker::start(kMaxReplyBytes, kWorkerRequestTimeout, [&wire] { return std::make_shared<ClientWorker>(wire); });
}

}  // namespace shadowai::bench::intercept
