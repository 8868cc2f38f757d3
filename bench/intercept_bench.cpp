// intercept_bench: what TLS interception costs an LLM call. A ~2 KiB OpenAI chat-completions request
// on a keep-alive connection, made directly to the provider, through nginx (a TLS-terminating,
// TLS-re-originating reverse proxy: the reference), and through shadowaid's interception (the
// workload's cgroup in enforce mode), side by side in one run: added latency (p50, p99), time to
// the first event of a streamed answer, and requests per second with concurrent connections. Root
// only; it builds its own network namespace, mount namespace (a private tmpfs for its files, a
// private bpffs for the daemon's pins, a private journald for the daemon's alerts) and cgroups, runs
// the real shadowaid, shadowai and nginx in them, and takes everything down again (also on Ctrl-C).
//
//   build/bench/intercept_bench [--rounds N] [--requests N] [--streams N] [--throughput-rounds N]
//                               [--seconds S] [--connections N] [--json] ...   (--help for all)
//
// Method (docs/benchmarks.md has the figures and what they mean):
//  * The provider: an HTTPS server for api.openai.com (a catalog host) on 127.0.0.2:443 in this
//    process (Boost.Beast + OpenSSL, certificate from a CA made for the run), answering POST
//    /v1/chat/completions with a ~1 KiB chat.completion, or, for "stream": true, a chunked
//    text/event-stream of chat.completion.chunk events a fixed gap apart, then a usage event and
//    [DONE]. It counts the requests it gets by credential.
//  * Variants: "direct" (the client, in a cgroup left in detect mode, to 127.0.0.2:443); "nginx"
//    (the same client to nginx on 127.0.0.3:443, which proxies to 127.0.0.2:443 over verified TLS
//    with pooled keep-alive connections, and sets the managed key); "shadowai" (a client in the
//    enforced cgroup to 127.0.0.2:443, redirected into shadowaid's proxy, which intercepts it:
//    the daemon's CA, HTTP/1.1 parsing, credential swap, pooled verified upstream, one journald
//    entry per call); and "shadowai, no journald" (the same, with the private journald stopped, so
//    each alert fails at once): the difference is what delivering the alerts costs.
//  * Clients are worker processes, forked before any thread starts and moved into their cgroup.
//    Each measurement opens its connection(s) (TLS handshake untimed), sends warm-up requests, then
//    the timed ones. Latency: one connection, requests one after another, each timed from its
//    first byte written to the last byte of the answer read. Streams: the same with "stream":
//    true, timed to the first whole event and to the end. Throughput: N connections (two client
//    threads) sending back to back for a fixed time; requests per second. Every answer is checked
//    (status, size, event count), and the server checks which credential each request carried.
//  * Variants run interleaved in rounds, in rotating order, so drift and other load hit all alike.
//    CPU time of every party (client, server, shadowaid, nginx, journald) is read over each timed
//    part: it says where the cost lands and is less sensitive than wall time to other load.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_daemon.h"
#include "bench_journald.h"
#include "bench_process.h"
#include "bench_tls.h"
#include "common/fd.h"
#include "common/file_util.h"

namespace shadowai::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kProviderHost = "api.openai.com";  // in the shipped catalog: intercepted
constexpr const char* kUpstreamAddress = "127.0.0.2";     // the provider
constexpr const char* kNginxAddress = "127.0.0.3";        // nginx, posing as the provider
constexpr uint16_t kHttpsPort = 443;                       // a redirected port
constexpr uint16_t kProxyPort = 15443;
constexpr const char* kPath = "/v1/chat/completions";
// What the workload sends, and what the proxies put in its place (shadowaid from its credentials
// file, nginx with proxy_set_header): the server's count by key proves which way a request went.
constexpr const char* kClientKey = "sk-bench-client-key-0123456789abcdef0123456789abcdef";
constexpr const char* kManagedKey = "sk-bench-managed-key-0123456789abcdef0123456789abcdef";
constexpr size_t kRequestBodyBytes = 2048;
constexpr size_t kResponseBodyBytes = 1024;

constexpr double kAddedP50GoalUs = 300;
constexpr double kThroughputShareGoal = 0.5;
constexpr double kAddedFirstEventGoalUs = 1000;

constexpr const char* kWorkDirPrefix = "/tmp/shadowai-intercept-bench-";
constexpr const char* kCgroupPrefix = "shadowai-bench-intercept-";
constexpr const char* kEnforcedCgroup = "enforced";
constexpr const char* kDirectCgroup = "direct";

constexpr auto kClientIoTimeout = 10s;
constexpr auto kWorkerRequestTimeout = 180s;
constexpr uint32_t kMaxSamplesPerRequest = 10'000;

uint64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

void progress(const std::string& line) { benchMessage(line); }

// ---------------------------------------------------------------------------------------------
// Variants and the parties whose CPU time is read

enum Party : size_t { kClientParty = 0, kServerParty, kDaemonParty, kNginxParty, kJournaldParty, kPartyCount };
constexpr std::array<const char*, kPartyCount> kPartyNames = {"client", "server", "shadowaid", "nginx", "journald"};

enum VariantIndex : size_t { kDirect = 0, kNginx, kShadowai, kShadowaiNoJournal, kVariantCount };

enum class WorkerRole { kDirect, kEnforced };

struct Variant {
  const char* key;   // JSON
  const char* name;  // humans
  WorkerRole worker;
  const char* address;
  bool journald;     // the private journald runs while this variant is measured
};

constexpr std::array<Variant, kVariantCount> kVariants = {{
    {"direct", "direct", WorkerRole::kDirect, kUpstreamAddress, true},
    {"nginx", "nginx", WorkerRole::kDirect, kNginxAddress, true},
    {"shadowai", "shadowai", WorkerRole::kEnforced, kUpstreamAddress, true},
    {"shadowai_no_journald", "shadowai, no journald", WorkerRole::kEnforced, kUpstreamAddress, false},
}};

struct Options {
  std::string daemonBinary;
  std::string cliBinary;
  std::string nginxBinary = "/usr/sbin/nginx";
  int rounds = 5;              // latency and stream rounds
  int requests = 1000;         // timed sequential requests per variant and round
  int warmup = 100;            // untimed requests first, per connection
  int streams = 100;           // timed streams per variant and round
  int streamEvents = 8;        // content events per stream (plus a usage event and [DONE])
  int eventGapUs = 500;        // between two events of a stream
  int throughputRounds = 3;
  double seconds = 3;          // per throughput run
  int connections = 16;
  int clientThreads = 2;
  int serverThreads = 2;
  unsigned proxyThreads = 0;   // shadowaid's default: one per CPU
  unsigned nginxWorkers = 0;   // 0: auto (one per CPU)
  bool journald = true;
  bool nginxAccessLog = true;
  std::vector<std::string> phases = {"latency", "streams", "throughput"};
  bool json = false;
  // The daemon's policy directory: the shipped default (masks every secret and PII detector in
  // prompts and answers) unless given; an empty policy measures interception without masking.
  std::string policyDir = SHADOWAI_SOURCE_RULES_DIR "/policy.d";
};

// ---------------------------------------------------------------------------------------------
// What goes over the wire: an OpenAI chat-completions call and its answers

// Words for prompt and answer text, picked deterministically so every run sends the same bytes.
std::string filler(size_t bytes, uint32_t seed) {
  static const char* const kWords[] = {"the", "invoice", "total", "for", "march", "was", "reviewed", "by",
                                       "finance", "and", "approved", "after", "a", "second", "check", "of",
                                       "vendor", "terms", "please", "summarize", "key", "risks", "in", "plain",
                                       "language", "with", "three", "bullet", "points", "each", "short"};
  std::string text;
  uint32_t state = seed;
  while (text.size() < bytes) {
    state = state * 1664525u + 1013904223u;
    if (!text.empty()) text += ' ';
    text += kWords[(state >> 16) % (sizeof(kWords) / sizeof(kWords[0]))];
  }
  text.resize(bytes);
  if (!text.empty() && text.back() == ' ') text.back() = '.';
  return text;
}

// A JSON document built from TEMPLATE with "@" replaced by filler text so that it is exactly SIZE
// bytes long.
std::string sizedJson(const std::string& templ, size_t size, uint32_t seed) {
  const size_t at = templ.find('@');
  const size_t fixed = templ.size() - 1;
  return templ.substr(0, at) + filler(size > fixed ? size - fixed : 0, seed) + templ.substr(at + 1);
}

std::string requestBody(bool stream) {
  const std::string system = filler(400, 7);
  const std::string templ =
      R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":")" + system +
      R"("},{"role":"user","content":"@"}],"temperature":0.2,"max_tokens":256)" +
      (stream ? R"(,"stream":true,"stream_options":{"include_usage":true})" : "") + "}";
  return sizedJson(templ, kRequestBodyBytes, 11);
}

// The whole request as the client writes it: what the OpenAI Python SDK sends, give or take.
std::string requestText(bool stream) {
  const std::string body = requestBody(stream);
  return std::string("POST ") + kPath + " HTTP/1.1\r\n" + "Host: " + kProviderHost + "\r\n" +
         "Accept: application/json\r\n"
         "Content-Type: application/json\r\n"
         "User-Agent: OpenAI/Python 1.51.0\r\n"
         "X-Stainless-Lang: python\r\n"
         "X-Stainless-Package-Version: 1.51.0\r\n"
         "Authorization: Bearer " +
         kClientKey + "\r\n" + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const char* const kResponseHeaderFields =
    "Date: Tue, 01 Apr 2025 12:00:00 GMT\r\n"
    "access-control-expose-headers: X-Request-ID\r\n"
    "openai-organization: bench-org\r\n"
    "openai-processing-ms: 412\r\n"
    "openai-version: 2020-10-01\r\n"
    "x-ratelimit-limit-requests: 10000\r\n"
    "x-ratelimit-remaining-requests: 9999\r\n"
    "x-request-id: req_0123456789abcdef0123456789abcdef\r\n";

std::string responseBody() {
  const std::string templ =
      R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1743508800,)"
      R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"@",)"
      R"("refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":512,"completion_tokens":160,)"
      R"("total_tokens":672,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},)"
      R"("service_tier":"default","system_fingerprint":"fp_0123456789"})";
  return sizedJson(templ, kResponseBodyBytes, 23);
}

std::string responseText() {
  const std::string body = responseBody();
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ") +
         std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n" + kResponseHeaderFields + "\r\n" + body;
}

std::string streamHeaderText() {
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n") +
         "Connection: keep-alive\r\n" + kResponseHeaderFields + "\r\n";
}

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// The events of a streamed answer, each a whole HTTP chunk: COUNT content deltas, the usage event,
// and [DONE] with the last chunk.
std::vector<std::string> streamEventChunks(int count) {
  std::vector<std::string> chunks;
  const std::string prefix =
      R"(data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1743508800,)"
      R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789","choices":[{"index":0,"delta":{)";
  for (int i = 0; i < count; ++i) {
    const std::string delta = i == 0 ? R"("role":"assistant","content":"")"
                                     : R"("content":")" + filler(24, 100 + static_cast<uint32_t>(i)) + R"(")";
    chunks.push_back(chunk(prefix + delta + R"(},"logprobs":null,"finish_reason":null}]})" + "\n\n"));
  }
  chunks.push_back(chunk(
      R"(data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1743508800,)"
      R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789","choices":[],)"
      R"("usage":{"prompt_tokens":512,"completion_tokens":160,"total_tokens":672}})"
      "\n\n"));
  chunks.push_back(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
  return chunks;
}

// Built once, before the workers are forked: the same bytes in every process.
struct Wire {
  std::string request;
  std::string streamRequest;
  std::string response;
  std::string streamHeader;
  std::vector<std::string> streamChunks;
  size_t responseBodyBytes = 0;
  uint32_t eventsPerStream = 0;
};

Wire makeWire(int streamEvents) {
  Wire wire;
  wire.request = requestText(false);
  wire.streamRequest = requestText(true);
  wire.response = responseText();
  wire.streamHeader = streamHeaderText();
  wire.streamChunks = streamEventChunks(streamEvents);
  wire.responseBodyBytes = responseBody().size();
  wire.eventsPerStream = static_cast<uint32_t>(streamEvents + 2);
  return wire;
}

// ---------------------------------------------------------------------------------------------
// The provider: an HTTPS keep-alive server in this process (outside the daemon's cgroup)

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

struct ServerCounters {
  uint64_t connections = 0;
  uint64_t handshakes = 0;
  uint64_t handshakeFailures = 0;
  uint64_t requests = 0;
  uint64_t streams = 0;
  uint64_t managedKey = 0;
  uint64_t clientKey = 0;
  uint64_t otherKey = 0;

  ServerCounters operator-(const ServerCounters& o) const {
    return {connections - o.connections, handshakes - o.handshakes, handshakeFailures - o.handshakeFailures,
            requests - o.requests,       streams - o.streams,       managedKey - o.managedKey,
            clientKey - o.clientKey,     otherKey - o.otherKey};
  }
  ServerCounters& operator+=(const ServerCounters& o) {
    connections += o.connections;
    handshakes += o.handshakes;
    handshakeFailures += o.handshakeFailures;
    requests += o.requests;
    streams += o.streams;
    managedKey += o.managedKey;
    clientKey += o.clientKey;
    otherKey += o.otherKey;
    return *this;
  }
};

class UpstreamServer {
 public:
  static Result<std::unique_ptr<UpstreamServer>> start(const TlsFiles& files, const Wire& wire, int threads,
                                                       std::chrono::microseconds eventGap) {
    std::unique_ptr<UpstreamServer> server(new UpstreamServer(wire, eventGap, threads));
    if (auto configured = server->configure(files); !configured) return configured.error();
    asio::co_spawn(server->io_, server->acceptLoop(), asio::detached);
    for (int i = 0; i < threads; ++i) server->threads_.emplace_back([raw = server.get()] { raw->io_.run(); });
    return server;
  }

  UpstreamServer(const UpstreamServer&) = delete;
  UpstreamServer& operator=(const UpstreamServer&) = delete;
  ~UpstreamServer() {
    io_.stop();
    for (auto& thread : threads_) thread.join();
  }

  ServerCounters counters() const {
    auto read = [](const std::atomic<uint64_t>& cell) { return cell.load(std::memory_order_relaxed); };
    return {read(connections_), read(handshakes_), read(handshakeFailures_), read(requests_),
            read(streams_),     read(managedKey_), read(clientKey_),         read(otherKey_)};
  }

 private:
  static constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
  using Stream = asio::ssl::stream<tcp::socket>;

  UpstreamServer(const Wire& wire, std::chrono::microseconds eventGap, int threads)
      : wire_(wire), eventGap_(eventGap), io_(threads) {}

  Status configure(const TlsFiles& files) {
    boost::system::error_code error;
    tls_.use_certificate_chain_file(files.leafCert, error);
    if (!error) tls_.use_private_key_file(files.leafKey, asio::ssl::context::pem, error);
    if (error) return makeError("server certificate: " + error.message());
    SSL_CTX* native = tls_.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_alpn_select_cb(native, selectHttp11, nullptr);
    // Session tickets as OpenSSL sends them by default (two per TLS 1.3 handshake), like real
    // providers: clients and proxies must read them before a connection is quiet.
    const tcp::endpoint endpoint(asio::ip::make_address_v4(kUpstreamAddress), kHttpsPort);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(1024, error);
    if (error) return makeError(std::string("cannot listen on ") + kUpstreamAddress + ":443: " + error.message());
    return {};
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

// ---------------------------------------------------------------------------------------------
// nginx: the reference reverse proxy, with its own prefix and configuration in the work directory

class NginxInstance {
 public:
  NginxInstance(const Options& options, const WorkDir& dir, const TlsFiles& files)
      : options_(options), prefix_(dir.file("nginx")), files_(files) {}
  NginxInstance(const NginxInstance&) = delete;
  NginxInstance& operator=(const NginxInstance&) = delete;
  ~NginxInstance() { stop(); }

  std::string configuration() const {
    const std::string workers = options_.nginxWorkers == 0 ? "auto" : std::to_string(options_.nginxWorkers);
    const std::string accessLog = options_.nginxAccessLog ? "access_log " + prefix_ + "/access.log;" : "access_log off;";
    // What a TLS-terminating, TLS-re-originating reverse proxy in front of an LLM API looks like:
    // verified upstream TLS with SNI, pooled keep-alive upstream connections, no buffering of
    // the answer (streams go through event by event), the managed key set in place of the client's.
    return "# intercept_bench: nginx as the reference TLS-terminating, TLS-re-originating reverse proxy\n"
           "daemon off;\n"
           "master_process on;\n"
           "worker_processes " + workers + ";\n"
           "user root root;\n"
           "pid " + prefix_ + "/nginx.pid;\n"
           "lock_file " + prefix_ + "/nginx.lock;\n"
           "error_log " + prefix_ + "/error.log warn;\n"
           "events {\n"
           "  worker_connections 4096;\n"
           "}\n"
           "http {\n"
           "  " + accessLog + "\n"
           "  client_body_temp_path " + prefix_ + "/tmp/body;\n"
           "  proxy_temp_path " + prefix_ + "/tmp/proxy;\n"
           "  fastcgi_temp_path " + prefix_ + "/tmp/fastcgi;\n"
           "  uwsgi_temp_path " + prefix_ + "/tmp/uwsgi;\n"
           "  scgi_temp_path " + prefix_ + "/tmp/scgi;\n"
           "  client_max_body_size 32m;\n"
           "  keepalive_timeout 120s;\n"
           "  keepalive_requests 100000000;\n"
           "  upstream provider {\n"
           "    server " + std::string(kUpstreamAddress) + ":443;\n"
           "    keepalive 64;\n"
           "    keepalive_requests 100000000;\n"
           "    keepalive_timeout 60s;\n"
           "  }\n"
           "  server {\n"
           "    listen " + std::string(kNginxAddress) + ":443 ssl;\n"
           "    server_name " + std::string(kProviderHost) + ";\n"
           "    ssl_certificate " + files_.leafCert + ";\n"
           "    ssl_certificate_key " + files_.leafKey + ";\n"
           "    ssl_protocols TLSv1.2 TLSv1.3;\n"
           "    location / {\n"
           "      proxy_pass https://provider;\n"
           "      proxy_http_version 1.1;\n"
           "      proxy_set_header Connection \"\";\n"
           "      proxy_set_header Host $host;\n"
           "      proxy_set_header Authorization \"Bearer " + std::string(kManagedKey) + "\";\n"
           "      proxy_ssl_server_name on;\n"
           "      proxy_ssl_name " + std::string(kProviderHost) + ";\n"
           "      proxy_ssl_verify on;\n"
           "      proxy_ssl_verify_depth 2;\n"
           "      proxy_ssl_trusted_certificate " + files_.caCert + ";\n"
           "      proxy_ssl_protocols TLSv1.2 TLSv1.3;\n"
           "      proxy_buffering off;\n"
           "      proxy_read_timeout 300s;\n"
           "    }\n"
           "  }\n"
           "}\n";
  }

  Status start() {
    for (const char* sub : {"", "/tmp"}) {
      if (::mkdir((prefix_ + sub).c_str(), 0700) != 0) return errnoError("cannot create " + prefix_ + sub);
    }
    const std::string config = prefix_ + "/nginx.conf";
    if (auto written = writeFileAtomic(config, configuration()); !written) return written;
    const std::vector<std::string> base = {options_.nginxBinary, "-p", prefix_ + "/", "-c", config, "-e",
                                           prefix_ + "/error.log"};
    std::vector<std::string> test = base;
    test.push_back("-t");
    auto tested = runCommand(test, 20s);
    if (!tested) return tested.error();
    if (tested->exitCode != 0) return makeError("nginx -t: " + tested->err);

    Fd log(::open((prefix_ + "/stderr.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return errnoError("cannot create " + prefix_ + "/stderr.log");
    ExecSettings exec;
    exec.stdoutFd = log.get();
    exec.stderrFd = log.get();
    exec.deathSignal = SIGTERM;  // nginx's fast shutdown: the master stops its workers, then exits
    auto process = spawnProgram(base, exec);
    if (!process) return process.error();
    process_ = std::move(*process);

    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && !stopRequested.load()) {
      if (!process_.running()) return makeError("nginx exited at start: " + errorLogTail());
      workers_ = workerPids();
      const size_t wanted = options_.nginxWorkers == 0 ? std::thread::hardware_concurrency() : options_.nginxWorkers;
      if (workers_.size() >= wanted && accepts()) return {};
      std::this_thread::sleep_for(20ms);
    }
    return makeError("nginx did not come up in time: " + errorLogTail());
  }

  void stop() {
    if (!process_.running()) return;
    (void)process_.signal(SIGTERM);
    if (process_.waitFor(10s)) return;
    // Workers first, while they are still the master's children (their pids cannot be reused).
    for (pid_t worker : workerPids()) ::kill(worker, SIGKILL);
    process_.killAndReap();
  }

  pid_t masterPid() const { return process_.pid(); }
  const std::vector<pid_t>& workers() const { return workers_; }
  std::string errorLogTail() const {
    auto text = readFile(prefix_ + "/error.log");
    if (!text) return "(no error log)";
    return text->size() <= 1500 ? *text : text->substr(text->size() - 1500);
  }

 private:
  std::vector<pid_t> workerPids() const {
    std::vector<pid_t> pids;
    const pid_t master = process_.pid();
    auto children = readFile("/proc/" + std::to_string(master) + "/task/" + std::to_string(master) + "/children");
    if (!children) return pids;
    std::istringstream list(*children);
    pid_t pid;
    while (list >> pid) pids.push_back(pid);
    return pids;
  }

  static bool accepts() {
    Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(kHttpsPort);
    ::inet_pton(AF_INET, kNginxAddress, &address.sin_addr);
    return socket && ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }

  const Options& options_;
  const std::string prefix_;
  const TlsFiles files_;
  ChildProcess process_;
  std::vector<pid_t> workers_;
};

// ---------------------------------------------------------------------------------------------
// Client workers: one process per cgroup, driven over a SOCK_SEQPACKET pair

enum class WorkerCommand : uint32_t { kLatency = 1, kStream, kThroughput, kQuit };

constexpr size_t kPidsPerParty = 4;

struct WorkerRequest {
  WorkerCommand command = WorkerCommand::kQuit;
  uint32_t count = 0;        // timed requests or streams (one connection)
  uint32_t warmup = 0;       // untimed requests first, per connection
  uint32_t connections = 0;  // throughput
  uint32_t threads = 0;      // throughput
  uint32_t durationMs = 0;   // throughput
  char address[32] = {};
  char caFile[512] = {};
  // Whose CPU time to read over the timed part (0: none); the client party is the worker itself.
  int32_t pids[kPartyCount][kPidsPerParty] = {};
};

struct WorkerReplyHeader {
  uint32_t succeeded = 0;  // timed requests completed
  uint32_t failed = 0;
  uint32_t samples = 0;        // latency or time to first event, ns, follow the header
  uint32_t secondSamples = 0;  // stream: time to the end, ns, follow those
  uint32_t connections = 0;    // opened by this request
  uint32_t requestsSent = 0;   // warm-up included
  uint64_t windowNs = 0;       // the timed part
  uint64_t cpuNs[kPartyCount] = {};
  uint64_t loadP50Ns = 0;  // throughput: latency under load
  uint64_t loadP90Ns = 0;
  uint64_t loadP99Ns = 0;
  char protocol[16] = {};
  char cipher[64] = {};
  char error[256] = {};
};

struct WorkerReply {
  WorkerReplyHeader header;
  std::vector<uint32_t> samples;
  std::vector<uint32_t> secondSamples;
};

template <size_t N>
void copyText(char (&into)[N], const std::string& text) {
  std::snprintf(into, N, "%s", text.c_str());
}

uint64_t percentileNs(std::vector<uint32_t> values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(index), values.end());
  return values[index];
}

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
      return opensslError("cannot load the CA " + caFile);
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
    reply.header.loadP50Ns = percentileNs(latencies, 0.5);
    reply.header.loadP90Ns = percentileNs(latencies, 0.9);
    reply.header.loadP99Ns = percentileNs(latencies, 0.99);
  }

  const Wire& wire_;
  std::map<std::string, std::unique_ptr<asio::ssl::context>> contexts_;
};

std::vector<uint8_t> encodeReply(const WorkerReply& reply) {
  const size_t samples = reply.samples.size() + reply.secondSamples.size();
  std::vector<uint8_t> message(sizeof(WorkerReplyHeader) + samples * sizeof(uint32_t));
  std::memcpy(message.data(), &reply.header, sizeof(WorkerReplyHeader));
  uint8_t* at = message.data() + sizeof(WorkerReplyHeader);
  if (!reply.samples.empty()) std::memcpy(at, reply.samples.data(), reply.samples.size() * sizeof(uint32_t));
  at += reply.samples.size() * sizeof(uint32_t);
  if (!reply.secondSamples.empty()) {
    std::memcpy(at, reply.secondSamples.data(), reply.secondSamples.size() * sizeof(uint32_t));
  }
  return message;
}

int workerMain(int channel, const Wire& wire) {
  signal(SIGPIPE, SIG_IGN);
  ClientWorker worker(wire);
  for (;;) {
    WorkerRequest request;
    const ssize_t got = ::recv(channel, &request, sizeof(request), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got != static_cast<ssize_t>(sizeof(request))) return 0;  // the benchmark went away
    if (request.command == WorkerCommand::kQuit) return 0;
    const std::vector<uint8_t> message = encodeReply(worker.handle(request));
    if (::send(channel, message.data(), message.size(), MSG_NOSIGNAL) < 0) return 1;
  }
}

constexpr size_t kMaxReplyBytes = sizeof(WorkerReplyHeader) + 2 * kMaxSamplesPerRequest * sizeof(uint32_t);

// The benchmark's handle on one worker process.
class Worker {
 public:
  // Call while the process is single-threaded (see forkWorker).
  static Result<Worker> start(const Wire& wire) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return errnoError("socketpair");
    Fd ours(pair[0]);
    Fd theirs(pair[1]);
    // A reply with all its samples is one message.
    const int size = static_cast<int>(kMaxReplyBytes + 4096);
    ::setsockopt(theirs.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    ::setsockopt(ours.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    auto child = forkWorker([&] {
      ours.reset();
      return workerMain(theirs.get(), wire);
    });
    if (!child) return child.error();
    return Worker(std::move(*child), std::move(ours));
  }

  pid_t pid() const { return process_.pid(); }

  Result<WorkerReply> call(const WorkerRequest& request) {
    if (::send(channel_.get(), &request, sizeof(request), MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof(request))) {
      return errnoError("cannot reach a client worker");
    }
    const auto deadline = std::chrono::steady_clock::now() + kWorkerRequestTimeout;
    for (;;) {
      if (stopRequested.load()) return makeError("interrupted");
      if (std::chrono::steady_clock::now() > deadline) return makeError("a client worker did not answer in time");
      pollfd ready{channel_.get(), POLLIN, 0};
      if (::poll(&ready, 1, 200) > 0) break;
    }
    std::vector<uint8_t> message(kMaxReplyBytes);
    const ssize_t got = ::recv(channel_.get(), message.data(), message.size(), 0);
    if (got < static_cast<ssize_t>(sizeof(WorkerReplyHeader))) return makeError("a client worker died");
    WorkerReply reply;
    std::memcpy(&reply.header, message.data(), sizeof(WorkerReplyHeader));
    reply.header.error[sizeof(reply.header.error) - 1] = '\0';
    const size_t available = (static_cast<size_t>(got) - sizeof(WorkerReplyHeader)) / sizeof(uint32_t);
    const size_t first = std::min<size_t>(reply.header.samples, available);
    const size_t second = std::min<size_t>(reply.header.secondSamples, available - first);
    const uint8_t* at = message.data() + sizeof(WorkerReplyHeader);
    reply.samples.resize(first);
    if (first > 0) std::memcpy(reply.samples.data(), at, first * sizeof(uint32_t));
    reply.secondSamples.resize(second);
    if (second > 0) std::memcpy(reply.secondSamples.data(), at + first * sizeof(uint32_t), second * sizeof(uint32_t));
    return reply;
  }

 private:
  Worker(ChildProcess process, Fd channel) : process_(std::move(process)), channel_(std::move(channel)) {}

  ChildProcess process_;  // killed and reaped by its destructor, after the channel is closed
  Fd channel_;
};

// ---------------------------------------------------------------------------------------------
// Phases

struct CpuTotals {
  std::array<uint64_t, kPartyCount> ns{};
  uint64_t requests = 0;  // timed requests these were read over

  void add(const WorkerReplyHeader& header) {
    for (size_t party = 0; party < kPartyCount; ++party) ns[party] += header.cpuNs[party];
    requests += header.succeeded;
  }
  double usPerRequest(size_t party) const {
    return requests == 0 ? 0 : static_cast<double>(ns[party]) / 1000 / static_cast<double>(requests);
  }
  double totalUsPerRequest() const {
    double total = 0;
    for (size_t party = 0; party < kPartyCount; ++party) total += usPerRequest(party);
    return total;
  }
};

struct VariantFigures {
  std::vector<uint32_t> latency;     // ns, all rounds
  std::vector<double> latencyRoundP50Us;
  CpuTotals latencyCpu;
  std::vector<uint32_t> firstEvent;  // ns
  std::vector<uint32_t> streamTotal;
  CpuTotals streamCpu;
  std::vector<double> rps;           // one per throughput round
  std::vector<double> loadP50Us, loadP99Us;
  CpuTotals throughputCpu;
  uint64_t throughputHandshakes = 0;  // TLS handshakes the provider completed during throughput runs
  ServerCounters server;             // what the provider saw while this variant ran
  uint64_t requestsSent = 0;         // by the client, warm-up included
  uint64_t connections = 0;          // opened by the client
};

struct Session {
  std::string protocol;
  std::string cipher;
};

struct RunContext {
  const Options& options;
  Worker& directWorker;
  Worker& enforcedWorker;
  UpstreamServer& server;
  DaemonInstance& daemon;
  NginxInstance* nginx;                // null with --no-nginx
  std::optional<PrivateJournald>& journald;
  std::string benchCa;
  std::string daemonCa;
  std::array<VariantFigures, kVariantCount> figures;
  std::array<Session, kVariantCount> sessions;
  uint64_t journaldRestarts = 0;
  uint64_t interceptedCallsWithJournald = 0;  // shadowai calls made while journald ran

  bool measured(size_t variant) const {
    if (variant == kNginx) return nginx != nullptr;
    if (variant == kShadowaiNoJournal) return journald.has_value();
    return true;
  }
};

Status setJournald(RunContext& run, bool wanted) {
  if (!run.journald) return {};
  if (!wanted) {
    if (!run.journald->running()) return {};
    // The last calls' entries may still be on their way (each is sent once its answer is out).
    std::this_thread::sleep_for(200ms);
    run.journald->stop();
    return {};
  }
  if (run.journald->running()) return {};
  ++run.journaldRestarts;
  return run.journald->start();
}

Result<WorkerReply> callVariant(RunContext& run, size_t variant, WorkerRequest request) {
  const Variant& info = kVariants[variant];
  if (auto set = setJournald(run, info.journald); !set) return set.error();
  copyText(request.address, info.address);
  copyText(request.caFile, info.worker == WorkerRole::kEnforced ? run.daemonCa : run.benchCa);
  request.pids[kServerParty][0] = static_cast<int32_t>(::getpid());
  request.pids[kDaemonParty][0] = static_cast<int32_t>(run.daemon.pid());
  if (run.nginx != nullptr) {
    request.pids[kNginxParty][0] = static_cast<int32_t>(run.nginx->masterPid());
    for (size_t i = 0; i < run.nginx->workers().size() && i + 1 < kPidsPerParty; ++i) {
      request.pids[kNginxParty][i + 1] = static_cast<int32_t>(run.nginx->workers()[i]);
    }
  }
  if (run.journald) request.pids[kJournaldParty][0] = static_cast<int32_t>(run.journald->pid());

  Worker& worker = info.worker == WorkerRole::kEnforced ? run.enforcedWorker : run.directWorker;
  const ServerCounters before = run.server.counters();
  auto reply = worker.call(request);
  if (!reply) return reply.error();
  VariantFigures& figures = run.figures[variant];
  figures.server += run.server.counters() - before;
  figures.requestsSent += reply->header.requestsSent;
  figures.connections += reply->header.connections;
  if (variant == kShadowai) run.interceptedCallsWithJournald += reply->header.requestsSent;
  if (run.sessions[variant].protocol.empty()) run.sessions[variant] = {reply->header.protocol, reply->header.cipher};
  if (reply->header.failed > 0) return makeError(std::string(info.name) + ": " + reply->header.error);
  return reply;
}

// The variants of round ROUND, in rotating order.
std::vector<size_t> roundOrder(const RunContext& run, int round) {
  std::vector<size_t> order;
  for (size_t k = 0; k < kVariantCount; ++k) {
    const size_t variant = (static_cast<size_t>(round) + k) % kVariantCount;
    if (run.measured(variant)) order.push_back(variant);
  }
  return order;
}

Status measureLatency(RunContext& run) {
  for (int round = 0; round < run.options.rounds && !stopRequested.load(); ++round) {
    for (size_t variant : roundOrder(run, round)) {
      WorkerRequest request;
      request.command = WorkerCommand::kLatency;
      request.count = static_cast<uint32_t>(run.options.requests);
      request.warmup = static_cast<uint32_t>(run.options.warmup);
      auto reply = callVariant(run, variant, request);
      if (!reply) return reply.error();
      VariantFigures& figures = run.figures[variant];
      figures.latency.insert(figures.latency.end(), reply->samples.begin(), reply->samples.end());
      figures.latencyRoundP50Us.push_back(static_cast<double>(percentileNs(reply->samples, 0.5)) / 1000);
      figures.latencyCpu.add(reply->header);
    }
  }
  return {};
}

Status measureStreams(RunContext& run) {
  for (int round = 0; round < run.options.rounds && !stopRequested.load(); ++round) {
    for (size_t variant : roundOrder(run, round)) {
      WorkerRequest request;
      request.command = WorkerCommand::kStream;
      request.count = static_cast<uint32_t>(run.options.streams);
      request.warmup = static_cast<uint32_t>(std::max(1, run.options.streams / 10));
      auto reply = callVariant(run, variant, request);
      if (!reply) return reply.error();
      VariantFigures& figures = run.figures[variant];
      figures.firstEvent.insert(figures.firstEvent.end(), reply->samples.begin(), reply->samples.end());
      figures.streamTotal.insert(figures.streamTotal.end(), reply->secondSamples.begin(), reply->secondSamples.end());
      figures.streamCpu.add(reply->header);
    }
  }
  return {};
}

Status measureThroughput(RunContext& run) {
  for (int round = 0; round < run.options.throughputRounds && !stopRequested.load(); ++round) {
    for (size_t variant : roundOrder(run, round)) {
      WorkerRequest request;
      request.command = WorkerCommand::kThroughput;
      request.connections = static_cast<uint32_t>(run.options.connections);
      request.threads = static_cast<uint32_t>(run.options.clientThreads);
      request.warmup = 20;
      request.durationMs = static_cast<uint32_t>(run.options.seconds * 1000);
      const uint64_t handshakesBefore = run.figures[variant].server.handshakes;
      auto reply = callVariant(run, variant, request);
      if (!reply) return reply.error();
      VariantFigures& figures = run.figures[variant];
      figures.throughputHandshakes += figures.server.handshakes - handshakesBefore;
      const double seconds = static_cast<double>(reply->header.windowNs) / 1e9;
      figures.rps.push_back(seconds > 0 ? static_cast<double>(reply->header.succeeded) / seconds : 0);
      figures.loadP50Us.push_back(static_cast<double>(reply->header.loadP50Ns) / 1000);
      figures.loadP99Us.push_back(static_cast<double>(reply->header.loadP99Ns) / 1000);
      figures.throughputCpu.add(reply->header);
      progress("  " + std::string(kVariants[variant].name) + ": " + std::to_string(static_cast<long>(figures.rps.back())) +
               " requests/s");
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Reporting

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double us(const std::vector<uint32_t>& samples, double fraction) {
  return static_cast<double>(percentileNs(samples, fraction)) / 1000;
}

struct Summary {
  std::string kernel;
  unsigned cpus = 0;
  std::string loadBefore, loadAfter;
  std::string nginxVersion;
  json proxyBefore, proxyAfter;
  std::optional<uint64_t> journalEntries;  // llm-call-intercepted entries journald stored
  uint64_t journaldRestarts = 0;
  uint64_t interceptedCallsWithJournald = 0;
  std::array<VariantFigures, kVariantCount> figures;
  std::array<Session, kVariantCount> sessions;
  std::array<bool, kVariantCount> measured{};
};

std::string kernelRelease() {
  utsname name{};
  return ::uname(&name) == 0 ? name.release : "unknown";
}

std::string loadAverage() {
  auto text = readFile("/proc/loadavg");
  if (!text) return "?";
  return text->substr(0, text->find(' '));
}

struct Derived {
  double p50[kVariantCount]{}, p99[kVariantCount]{};
  double firstEventP50[kVariantCount]{}, firstEventP99[kVariantCount]{};
  double rps[kVariantCount]{};
  double addedP50 = 0, addedP99 = 0, addedFirstEvent = 0, addedFirstEventP99 = 0;
  double share = 0;  // shadowai / nginx requests per second
};

Derived derive(const Summary& summary) {
  Derived d;
  for (size_t v = 0; v < kVariantCount; ++v) {
    const VariantFigures& f = summary.figures[v];
    d.p50[v] = us(f.latency, 0.5);
    d.p99[v] = us(f.latency, 0.99);
    d.firstEventP50[v] = us(f.firstEvent, 0.5);
    d.firstEventP99[v] = us(f.firstEvent, 0.99);
    d.rps[v] = median(f.rps);
  }
  d.addedP50 = d.p50[kShadowai] - d.p50[kDirect];
  d.addedP99 = d.p99[kShadowai] - d.p99[kDirect];
  d.addedFirstEvent = d.firstEventP50[kShadowai] - d.firstEventP50[kDirect];
  d.addedFirstEventP99 = d.firstEventP99[kShadowai] - d.firstEventP99[kDirect];
  d.share = d.rps[kNginx] > 0 ? d.rps[kShadowai] / d.rps[kNginx] : 0;
  return d;
}

// The provider saw the credential each variant must send: the client's directly, the managed key
// through a proxy, and no request of the other kind.
bool credentialsAgree(const Summary& summary, size_t variant) {
  const ServerCounters& s = summary.figures[variant].server;
  const uint64_t sent = summary.figures[variant].requestsSent;
  if (variant == kDirect) return s.clientKey == sent && s.managedKey == 0 && s.otherKey == 0;
  return s.managedKey == sent && s.clientKey == 0 && s.otherKey == 0;
}

json cpuJson(const CpuTotals& cpu) {
  json out;
  for (size_t party = 0; party < kPartyCount; ++party) out[kPartyNames[party]] = cpu.usPerRequest(party);
  out["total"] = cpu.totalUsPerRequest();
  return out;
}

const char* verdict(bool met) { return met ? "met" : "MISSED"; }

json toJson(const Options& options, const Summary& summary) {
  const Derived d = derive(summary);
  json out;
  out["kernel"] = summary.kernel;
  out["cpus"] = summary.cpus;
  out["load_average"] = {{"before", summary.loadBefore}, {"after", summary.loadAfter}};
  out["nginx_version"] = summary.nginxVersion;
  out["settings"] = {{"rounds", options.rounds},
                     {"requests_per_round", options.requests},
                     {"warmup", options.warmup},
                     {"streams_per_round", options.streams},
                     {"stream_events", options.streamEvents + 2},
                     {"event_gap_us", options.eventGapUs},
                     {"throughput_rounds", options.throughputRounds},
                     {"seconds", options.seconds},
                     {"connections", options.connections},
                     {"client_threads", options.clientThreads},
                     {"server_threads", options.serverThreads},
                     {"request_body_bytes", kRequestBodyBytes},
                     {"response_body_bytes", kResponseBodyBytes},
                     {"nginx_access_log", options.nginxAccessLog}};
  for (size_t v = 0; v < kVariantCount; ++v) {
    if (!summary.measured[v]) continue;
    const VariantFigures& f = summary.figures[v];
    out["variants"][kVariants[v].key] = {
        {"name", kVariants[v].name},
        {"tls", {{"protocol", summary.sessions[v].protocol}, {"cipher", summary.sessions[v].cipher}}},
        {"latency",
         {{"requests", f.latency.size()},
          {"p50_us", d.p50[v]},
          {"p90_us", us(f.latency, 0.9)},
          {"p99_us", d.p99[v]},
          {"round_p50_us", f.latencyRoundP50Us},
          {"cpu_us_per_request", cpuJson(f.latencyCpu)}}},
        {"stream",
         {{"streams", f.firstEvent.size()},
          {"first_event_p50_us", d.firstEventP50[v]},
          {"first_event_p99_us", d.firstEventP99[v]},
          {"end_p50_us", us(f.streamTotal, 0.5)},
          {"cpu_us_per_stream", cpuJson(f.streamCpu)}}},
        {"throughput",
         {{"requests_per_s", d.rps[v]},
          {"rounds", f.rps},
          {"load_p50_us", median(f.loadP50Us)},
          {"load_p99_us", median(f.loadP99Us)},
          {"provider_tls_handshakes", f.throughputHandshakes},
          {"cpu_us_per_request", cpuJson(f.throughputCpu)}}},
        {"provider_saw",
         {{"requests", f.server.requests},
          {"managed_key", f.server.managedKey},
          {"client_key", f.server.clientKey},
          {"other_key", f.server.otherKey},
          {"tls_handshakes", f.server.handshakes},
          {"failed_handshakes", f.server.handshakeFailures}}},
        {"client_requests", f.requestsSent},
        {"client_connections", f.connections},
        {"credentials_agree", credentialsAgree(summary, v)},
    };
  }
  out["goals"] = {
      {"added_p50_us", d.addedP50},
      {"added_p99_us", d.addedP99},
      {"added_p50_goal_us", kAddedP50GoalUs},
      {"added_p50_met", d.addedP50 <= kAddedP50GoalUs},
      {"throughput_share_of_nginx", d.share},
      {"throughput_share_goal", kThroughputShareGoal},
      {"throughput_share_met", summary.measured[kNginx] ? json(d.share >= kThroughputShareGoal) : json(nullptr)},
      {"added_first_event_p50_us", d.addedFirstEvent},
      {"added_first_event_p99_us", d.addedFirstEventP99},
      {"added_first_event_goal_us", kAddedFirstEventGoalUs},
      {"added_first_event_met", d.addedFirstEvent <= kAddedFirstEventGoalUs},
  };
  if (summary.measured[kNginx]) {
    out["nginx_added"] = {{"p50_us", d.p50[kNginx] - d.p50[kDirect]},
                          {"p99_us", d.p99[kNginx] - d.p99[kDirect]},
                          {"first_event_p50_us", d.firstEventP50[kNginx] - d.firstEventP50[kDirect]}};
  }
  if (summary.measured[kShadowaiNoJournal]) {
    out["alerts"] = {
        {"added_p50_us", d.p50[kShadowai] - d.p50[kShadowaiNoJournal]},
        {"throughput_share", d.rps[kShadowaiNoJournal] > 0 ? d.rps[kShadowai] / d.rps[kShadowaiNoJournal] : 0},
        {"journald_cpu_us_per_call", summary.figures[kShadowai].throughputCpu.usPerRequest(kJournaldParty)},
        {"journald_restarts", summary.journaldRestarts},
        {"calls_with_journald", summary.interceptedCallsWithJournald},
        {"entries_stored", summary.journalEntries ? json(*summary.journalEntries) : json(nullptr)},
    };
  }
  out["proxy_counters"] = summary.proxyAfter.contains("proxy") ? summary.proxyAfter["proxy"] : json();
  return out;
}

void printCpuHeader() {
  std::printf("  %-22s", "");
  for (const char* party : kPartyNames) std::printf(" %9s", party);
  std::printf(" %9s\n", "total");
}

void printCpuRow(const char* name, const CpuTotals& cpu) {
  std::printf("  %-22s", name);
  for (size_t party = 0; party < kPartyCount; ++party) std::printf(" %9.1f", cpu.usPerRequest(party));
  std::printf(" %9.1f\n", cpu.totalUsPerRequest());
}

void printHuman(const Options& options, const Summary& summary) {
  const Derived d = derive(summary);
  std::printf("intercept_bench: kernel %s, %u CPUs, load %s -> %s; own netns, mount ns, cgroups%s\n",
              summary.kernel.c_str(), summary.cpus, summary.loadBefore.c_str(), summary.loadAfter.c_str(),
              options.journald ? " and journald" : "");
  std::printf("  provider %s at %s:443 (%d threads); nginx %s at %s:443 (%s workers, access log %s); shadowaid "
              "proxy threads %s\n",
              kProviderHost, kUpstreamAddress, options.serverThreads,
              summary.measured[kNginx] ? summary.nginxVersion.c_str() : "(not run)", kNginxAddress,
              options.nginxWorkers == 0 ? "auto" : std::to_string(options.nginxWorkers).c_str(),
              options.nginxAccessLog ? "on" : "off",
              options.proxyThreads == 0 ? "default" : std::to_string(options.proxyThreads).c_str());
  std::printf("  request: POST %s, %zu-byte JSON body, keep-alive; answer: %zu-byte JSON, or %d SSE events %d us apart\n",
              kPath, kRequestBodyBytes, kResponseBodyBytes, options.streamEvents + 2, options.eventGapUs);
  std::printf("  shadowaid policy: %s\n", options.policyDir.c_str());
  for (size_t v = 0; v < kVariantCount; ++v) {
    if (summary.measured[v]) {
      std::printf("  TLS as the client sees it, %s: %s %s\n", kVariants[v].name, summary.sessions[v].protocol.c_str(),
                  summary.sessions[v].cipher.c_str());
      break;
    }
  }

  if (!summary.figures[kDirect].latency.empty()) {
    std::printf("\nLatency, one keep-alive connection, requests one after another: %d rounds x %d per variant, "
                "interleaved, after %d warm-up\n",
                options.rounds, options.requests, options.warmup);
    std::printf("  %-22s %9s %9s %9s %11s %11s\n", "variant", "p50 us", "p90 us", "p99 us", "added p50", "added p99");
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (!summary.measured[v]) continue;
      const VariantFigures& f = summary.figures[v];
      std::printf("  %-22s %9.1f %9.1f %9.1f %11.1f %11.1f\n", kVariants[v].name, d.p50[v], us(f.latency, 0.9), d.p99[v],
                  d.p50[v] - d.p50[kDirect], d.p99[v] - d.p99[kDirect]);
    }
    std::printf("  CPU us per request:\n");
    printCpuHeader();
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (summary.measured[v]) printCpuRow(kVariants[v].name, summary.figures[v].latencyCpu);
    }
    std::printf("  goal: added p50 <= %.0f us: %.1f us, %s (added p99 %.1f us)\n", kAddedP50GoalUs, d.addedP50,
                verdict(d.addedP50 <= kAddedP50GoalUs), d.addedP99);
  }

  if (!summary.figures[kDirect].firstEvent.empty()) {
    std::printf("\nStreams (\"stream\": true): %d rounds x %d per variant; time to the first whole event, and to the end\n",
                options.rounds, options.streams);
    std::printf("  %-22s %13s %13s %13s %11s\n", "variant", "first p50 us", "first p99 us", "end p50 us", "added p50");
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (!summary.measured[v]) continue;
      const VariantFigures& f = summary.figures[v];
      std::printf("  %-22s %13.1f %13.1f %13.1f %11.1f\n", kVariants[v].name, d.firstEventP50[v], d.firstEventP99[v],
                  us(f.streamTotal, 0.5), d.firstEventP50[v] - d.firstEventP50[kDirect]);
    }
    std::printf("  goal: time to first event added <= %.0f us: %.1f us, %s (p99 %.1f us)\n", kAddedFirstEventGoalUs,
                d.addedFirstEvent, verdict(d.addedFirstEvent <= kAddedFirstEventGoalUs), d.addedFirstEventP99);
  }

  if (!summary.figures[kDirect].rps.empty()) {
    std::printf("\nThroughput: %d keep-alive connections (%d client threads), %.1f s per run, %d rounds, interleaved; "
                "median of rounds\n",
                options.connections, options.clientThreads, options.seconds, options.throughputRounds);
    std::printf("  %-22s %10s %9s %9s %12s %12s %12s  %s\n", "variant", "req/s", "of direct", "of nginx", "load p50 us",
                "load p99 us", "upstream TLS", "rounds");
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (!summary.measured[v]) continue;
      const VariantFigures& f = summary.figures[v];
      std::string rounds;
      for (double r : f.rps) rounds += (rounds.empty() ? "" : " ") + std::to_string(static_cast<long>(r));
      std::printf("  %-22s %10.0f %9.3f %9.3f %12.1f %12.1f %12llu  %s\n", kVariants[v].name, d.rps[v],
                  d.rps[kDirect] > 0 ? d.rps[v] / d.rps[kDirect] : 0, d.rps[kNginx] > 0 ? d.rps[v] / d.rps[kNginx] : 0,
                  median(f.loadP50Us), median(f.loadP99Us), static_cast<unsigned long long>(f.throughputHandshakes),
                  rounds.c_str());
    }
    std::printf("  (upstream TLS: full TLS handshakes the provider completed during these runs: the client's own for "
                "direct, the proxy's for nginx and shadowai; at most %d per run when connections are kept)\n",
                options.connections);
    std::printf("  CPU us per request:\n");
    printCpuHeader();
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (summary.measured[v]) printCpuRow(kVariants[v].name, summary.figures[v].throughputCpu);
    }
    if (summary.measured[kNginx]) {
      std::printf("  goal: shadowai >= %.0f%% of nginx's requests/s: %.1f%%, %s\n", kThroughputShareGoal * 100,
                  d.share * 100, verdict(d.share >= kThroughputShareGoal));
    }
  }

  if (summary.measured[kShadowaiNoJournal]) {
    std::printf("\nAlerts (one journald entry per call): shadowai with journald against shadowai with journald stopped\n");
    std::printf("  added p50 %.1f us, throughput %.1f%% of the no-journald run, journald %.1f us CPU per call\n",
                d.p50[kShadowai] - d.p50[kShadowaiNoJournal],
                d.rps[kShadowaiNoJournal] > 0 ? 100 * d.rps[kShadowai] / d.rps[kShadowaiNoJournal] : 0,
                summary.figures[kShadowai].throughputCpu.usPerRequest(kJournaldParty));
    if (summary.journalEntries) {
      std::printf("  journald stored %llu llm-call-intercepted entries for %llu calls made while it ran\n",
                  static_cast<unsigned long long>(*summary.journalEntries),
                  static_cast<unsigned long long>(summary.interceptedCallsWithJournald));
    }
  }

  std::printf("\nChecks:\n");
  for (size_t v = 0; v < kVariantCount; ++v) {
    if (!summary.measured[v]) continue;
    const VariantFigures& f = summary.figures[v];
    std::printf("  %-22s %llu requests on %llu connections; the provider saw %llu with the managed key, %llu with the "
                "client's, %llu other: %s; %llu upstream TLS handshakes\n",
                kVariants[v].name, static_cast<unsigned long long>(f.requestsSent),
                static_cast<unsigned long long>(f.connections), static_cast<unsigned long long>(f.server.managedKey),
                static_cast<unsigned long long>(f.server.clientKey), static_cast<unsigned long long>(f.server.otherKey),
                credentialsAgree(summary, v) ? "as expected" : "UNEXPECTED",
                static_cast<unsigned long long>(f.server.handshakes));
  }
  const uint64_t intercepted =
      proxyCounter(summary.proxyAfter, "intercepted_connections") -
      proxyCounter(summary.proxyBefore, "intercepted_connections");
  const uint64_t enforcedConnections =
      summary.figures[kShadowai].connections + summary.figures[kShadowaiNoJournal].connections;
  const uint64_t early =
      proxyCounter(summary.proxyAfter, "early_connects") - proxyCounter(summary.proxyBefore, "early_connects");
  const uint64_t resets =
      summary.figures[kShadowai].server.handshakeFailures + summary.figures[kShadowaiNoJournal].server.handshakeFailures;
  std::printf("  proxy: %llu connections intercepted for %llu opened by the enforced client: %s; %llu early upstream "
              "connects (the provider saw %llu connections closed before a TLS handshake)\n",
              static_cast<unsigned long long>(intercepted), static_cast<unsigned long long>(enforcedConnections),
              intercepted == enforcedConnections ? "agree" : "DISAGREE", static_cast<unsigned long long>(early),
              static_cast<unsigned long long>(resets));
}

// ---------------------------------------------------------------------------------------------

Result<uint64_t> countJournalEntries() {
  (void)runCommand({"/usr/bin/journalctl", "--sync"}, 20s);
  auto output = runCommand({"/usr/bin/journalctl", "--directory", PrivateJournald::kJournalDirectory, "--quiet",
                            "--output", "cat", "SHADOWAI_ALERT=llm-call-intercepted"},
                           120s);
  if (!output) return output.error();
  if (output->exitCode != 0) return makeError("journalctl: " + output->err);
  return static_cast<uint64_t>(std::count(output->out.begin(), output->out.end(), '\n'));
}

std::string nginxVersion(const std::string& binary) {
  auto output = runCommand({binary, "-v"}, 10s);
  if (!output) return "?";
  std::string text = output->err.empty() ? output->out : output->err;
  if (auto at = text.find("nginx/"); at != std::string::npos) text = text.substr(at + 6);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

int run(const Options& options) {
  auto fail = [](const Error& error) {
    benchMessage(error.describe());
    return stopRequested.load() ? 130 : 1;
  };
  if (::geteuid() != 0) {
    benchMessage("needs root (namespaces, cgroups, and shadowaid loads BPF programs)");
    return 1;
  }
  for (const auto& binary : {options.daemonBinary, options.cliBinary}) {
    if (::access(binary.c_str(), X_OK) != 0) return fail(errnoError("cannot run " + binary + " (see --daemon, --cli)"));
  }
  const bool withNginx = !options.nginxBinary.empty();
  if (withNginx && ::access(options.nginxBinary.c_str(), X_OK) != 0) {
    return fail(errnoError("cannot run " + options.nginxBinary +
                           " (scripts/install-bench-deps.sh installs it; --nginx '' leaves nginx out)"));
  }
  if (options.journald) {
    if (auto available = PrivateJournald::available(); !available) {
      return fail(makeError(available.error().describe() + " (--no-journald runs without one)"));
    }
  }
  installStopHandlers();
  if (auto raised = raiseOpenFileLimit(4096); !raised) return fail(raised.error());
  // Single-threaded until the workers are forked below.
  if (auto entered = enterOwnNamespaces(); !entered) return fail(entered.error());

  Summary summary;
  summary.kernel = kernelRelease();
  summary.cpus = std::thread::hardware_concurrency();
  summary.loadBefore = loadAverage();
  if (withNginx) summary.nginxVersion = nginxVersion(options.nginxBinary);

  auto dir = WorkDir::create(kWorkDirPrefix);
  if (!dir) return fail(dir.error());
  for (const char* sub : {"bpf", "state", "run", "pki"}) {
    if (auto made = dir->makeSubdirectory(sub); !made) return fail(made.error());
  }
  if (auto mounted = dir->mountFresh("bpf", dir->file("bpf"), "mode=0700"); !mounted) return fail(mounted.error());
  // The daemon's alerts go to a journald of this run, or nowhere: never to the host's journal.
  std::optional<PrivateJournald> journald;
  if (options.journald) {
    // Every entry stored (no per-service rate limit, which a benchmark's call rate would hit), in
    // the volatile journal of this namespace only.
    auto prepared = PrivateJournald::prepare(*dir,
                                             "Storage=volatile\nRateLimitBurst=0\nReadKMsg=no\nForwardToSyslog=no\n"
                                             "ForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n");
    if (!prepared) return fail(prepared.error());
    journald.emplace(std::move(*prepared));
  } else if (std::filesystem::exists("/run/systemd/journal")) {
    if (auto mounted = dir->mountFresh("tmpfs", "/run/systemd/journal", "mode=0755"); !mounted) return fail(mounted.error());
  }
  auto cgroups = BenchCgroups::create(kCgroupPrefix, {kDirectCgroup, kEnforcedCgroup});
  if (!cgroups) return fail(cgroups.error());
  auto pki = makeThrowawayPki(dir->file("pki"), kProviderHost);
  if (!pki) return fail(pki.error());
  // A managed key for the provider: the proxy swaps it in for the client's, as deployed.
  const std::string credentials = dir->file("credentials.json");
  const json credentialsFile = {{"schema", 1},
                                {"mode", "pass-through"},
                                {"keys", json::array({{{"provider", "openai"}, {"key", kManagedKey}, {"label", "bench"}}})}};
  if (auto written = writeFileAtomic(credentials, credentialsFile.dump(2)); !written) return fail(written.error());
  if (::chmod(credentials.c_str(), 0600) != 0) return fail(errnoError("chmod " + credentials));

  const Wire wire = makeWire(options.streamEvents);
  auto directWorker = Worker::start(wire);
  if (!directWorker) return fail(directWorker.error());
  if (auto moved = cgroups->addProcess(kDirectCgroup, directWorker->pid()); !moved) return fail(moved.error());
  auto enforcedWorker = Worker::start(wire);
  if (!enforcedWorker) return fail(enforcedWorker.error());
  if (auto moved = cgroups->addProcess(kEnforcedCgroup, enforcedWorker->pid()); !moved) return fail(moved.error());

  // Threads from here on.
  auto server = UpstreamServer::start(*pki, wire, options.serverThreads, std::chrono::microseconds(options.eventGapUs));
  if (!server) return fail(server.error());
  if (journald) {
    progress("starting a private systemd-journald");
    if (auto started = journald->start(); !started) return fail(started.error());
  }
  std::unique_ptr<NginxInstance> nginx;
  if (withNginx) {
    progress("starting nginx " + summary.nginxVersion + " on " + kNginxAddress + ":443");
    nginx = std::make_unique<NginxInstance>(options, *dir, *pki);
    if (auto started = nginx->start(); !started) return fail(started.error());
  }

  // The daemon's stderr is its log file here; JOURNAL_STREAM naming that file makes it behave as
  // under systemd, where stderr is the journal and alerts are not copied to it a second time.
  DaemonSettings daemonSettings;
  daemonSettings.daemonBinary = options.daemonBinary;
  daemonSettings.cliBinary = options.cliBinary;
  daemonSettings.proxyThreads = options.proxyThreads;
  daemonSettings.proxyPort = kProxyPort;
  daemonSettings.extraConfig = {{"intercept", {{"upstream_ca_bundle", pki->caCert}}},
                                {"credentials_file", credentials},
                                {"policy_dir", std::filesystem::absolute(options.policyDir).string()}};
  {
    const std::string log = dir->file("shadowaid.log");
    Fd created(::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    struct stat status {};
    if (!created || ::fstat(created.get(), &status) != 0) return fail(errnoError("cannot create " + log));
    daemonSettings.environment = {"JOURNAL_STREAM=" + std::to_string(static_cast<unsigned long long>(status.st_dev)) +
                                  ":" + std::to_string(static_cast<unsigned long long>(status.st_ino))};
  }
  progress("starting shadowaid on cgroup " + cgroups->relativePath());
  DaemonInstance daemon(daemonSettings, *dir, cgroups->relativePath());
  if (auto started = daemon.start(); !started) return fail(started.error());
  if (auto enforced = daemon.enforce(cgroups->relativePath(kEnforcedCgroup)); !enforced) return fail(enforced.error());
  if (auto before = daemon.status(); before) summary.proxyBefore = *before;

  RunContext context{options, *directWorker, *enforcedWorker, **server, daemon, nginx.get(), journald,
                     pki->caCert, dir->file("state/ca/ca.pem"), {}, {}, 0, 0};
  for (size_t v = 0; v < kVariantCount; ++v) summary.measured[v] = context.measured(v);

  auto wanted = [&](const char* phase) {
    return std::find(options.phases.begin(), options.phases.end(), phase) != options.phases.end();
  };
  if (wanted("latency")) {
    progress("latency: " + std::to_string(options.rounds) + " rounds");
    if (auto done = measureLatency(context); !done) return fail(done.error());
  }
  if (wanted("streams")) {
    progress("streams: " + std::to_string(options.rounds) + " rounds");
    if (auto done = measureStreams(context); !done) return fail(done.error());
  }
  if (wanted("throughput")) {
    progress("throughput: " + std::to_string(options.throughputRounds) + " rounds");
    if (auto done = measureThroughput(context); !done) return fail(done.error());
  }
  if (stopRequested.load()) return fail(makeError("interrupted"));

  if (journald) {
    if (auto set = setJournald(context, true); !set) return fail(set.error());
    auto entries = countJournalEntries();
    if (entries) {
      summary.journalEntries = *entries;
    } else {
      progress("cannot count the journal's entries: " + entries.error().describe());
    }
  }
  auto after = daemon.status();
  if (!after) return fail(after.error());
  summary.proxyAfter = std::move(*after);
  summary.figures = context.figures;
  summary.sessions = context.sessions;
  summary.journaldRestarts = context.journaldRestarts;
  summary.interceptedCallsWithJournald = context.interceptedCallsWithJournald;
  summary.loadAfter = loadAverage();
  if (options.json) {
    std::printf("%s\n", toJson(options, summary).dump(2).c_str());
  } else {
    printHuman(options, summary);
  }
  return 0;
}

// The binaries of the same build tree: build/bench/intercept_bench -> build/userspace/shadowaid.
std::string besideThisBinary(const std::string& relative) {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return relative;
  return (self.parent_path() / relative).lexically_normal().string();
}

}  // namespace
}  // namespace shadowai::bench

int main(int argc, char** argv) {
  using namespace shadowai::bench;
  benchName() = "intercept_bench";
  Options options;
  options.daemonBinary = besideThisBinary("../userspace/shadowaid");
  options.cliBinary = besideThisBinary("../userspace/shadowai");
  CLI::App app{"Cost of TLS interception for an LLM call, against a direct call and nginx as a reverse proxy (root only)"};
  app.add_option("--rounds", options.rounds, "interleaved latency and stream rounds")->check(CLI::Range(1, 50));
  app.add_option("--requests", options.requests, "timed sequential requests per variant and round")
      ->check(CLI::Range(10, static_cast<int>(kMaxSamplesPerRequest)));
  app.add_option("--warmup", options.warmup, "untimed requests first, per connection")->check(CLI::Range(1, 10'000));
  app.add_option("--streams", options.streams, "timed streams per variant and round")
      ->check(CLI::Range(10, static_cast<int>(kMaxSamplesPerRequest)));
  app.add_option("--stream-events", options.streamEvents, "content events per stream")->check(CLI::Range(1, 200));
  app.add_option("--event-gap-us", options.eventGapUs, "microseconds between two events of a stream")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--throughput-rounds", options.throughputRounds, "interleaved throughput rounds")->check(CLI::Range(1, 20));
  app.add_option("--seconds", options.seconds, "duration of one throughput run")->check(CLI::Range(0.5, 60.0));
  app.add_option("--connections", options.connections, "concurrent keep-alive connections for throughput")
      ->check(CLI::Range(1, 1024));
  app.add_option("--client-threads", options.clientThreads, "client threads for throughput")->check(CLI::Range(1, 16));
  app.add_option("--server-threads", options.serverThreads, "threads of the provider server")->check(CLI::Range(1, 16));
  app.add_option("--proxy-threads", options.proxyThreads, "shadowaid's proxy threads (0: its default, one per CPU)")
      ->check(CLI::Range(0u, 64u));
  app.add_option("--nginx-workers", options.nginxWorkers, "nginx worker processes (0: auto, one per CPU)")
      ->check(CLI::Range(0u, 3u));
  app.add_flag("!--no-journald", options.journald, "no private journald: the daemon's alerts fail at once");
  app.add_flag("!--no-nginx-access-log", options.nginxAccessLog, "nginx without its access log");
  app.add_option("--daemon", options.daemonBinary, "shadowaid binary")->capture_default_str();
  app.add_option("--cli", options.cliBinary, "shadowai binary")->capture_default_str();
  app.add_option("--nginx", options.nginxBinary, "nginx binary ('': leave nginx out)")->capture_default_str();
  app.add_option("--phases", options.phases, "which measurements to make (default: all three)")
      ->check(CLI::IsMember({"latency", "streams", "throughput"}))
      ->delimiter(',');
  app.add_option("--policy-dir", options.policyDir,
                 "shadowaid's policy (a directory or one file; a policy without rules measures no masking)")
      ->capture_default_str();
  app.add_flag("--json", options.json, "print the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  return run(options);
}
