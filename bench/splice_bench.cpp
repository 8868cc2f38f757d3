// splice_bench: what enforce mode costs a TLS connection that the proxy does not intercept (a host
// outside the catalog, spliced untouched), measured against the same connection made directly, in
// one run: TLS handshake time, bulk throughput both ways, and the daemon's memory per idle spliced
// connection. Root only; it builds its own network namespace, mount namespace (a private tmpfs for
// its files and a private bpffs for the daemon's pins) and cgroups, runs the real shadowaid in them,
// and takes everything down again (also on Ctrl-C).
//
//   build/bench/splice_bench [--handshakes N] [--rounds N] [--bulk-mib N] [--bulk-rounds N] [--idle N]
//                            [--proxy-threads N] [--daemon-nofile N] [--daemon PATH] [--cli PATH] [--json]
//
// Method (docs/benchmarks.md has the figures and what they mean):
//  * The world: a TLS server for www.bench.test (not in the catalog, so the proxy splices) on
//    127.0.0.2:443 in this process, with a certificate from a CA made for the run. shadowaid is
//    attached to the benchmark's cgroup (shadowai-bench-splice-PID, directly under the cgroup v2
//    root) with two children: "enforced" (`shadowai enforce --cgroup ...`) and "direct" (left in the
//    daemon's default, detect mode: what a workload has before it is enforced). The benchmark, its
//    server and the daemon stay outside that cgroup.
//  * Clients are worker processes, one per variant, forked before any thread starts and moved into
//    their cgroup (a socket belongs to the cgroup of the task that creates it). A third worker stays
//    outside the daemon's cgroup: no programs at all, for reference. Clients verify the server's
//    certificate and name, so a connection that was not spliced untouched would fail.
//  * Handshakes: socket + connect + full TLS handshake (no resumption, no tickets), timed on the
//    client, then close_notify and close. Variants run interleaved in rounds, in rotating order, so
//    drift and other load on the machine hit all of them alike; the figure is the median over all
//    handshakes of a variant.
//  * Throughput: per round and variant one connection that uploads, then downloads, a fixed amount
//    (timed from the first byte sent to the server's acknowledgement, or to the last byte received).
//  * Memory: the enforced worker opens idle TLS connections (handshake done, then silence) in two
//    halves; the daemon's VmRSS and Pss are read before, after each half and after closing them.
//  * Every connection of the enforced worker must show in the proxy's counters (accepted and
//    spliced), and none of the others: the run says whether they agree.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
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
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_process.h"
#include "bench_tls.h"
#include "bench_world.h"
#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "common/file_util.h"
#include "daemon/daemon_config.h"

namespace shadowai::bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kServerName = "www.bench.test";  // not in the catalog: the proxy splices it
constexpr const char* kServerAddress = "127.0.0.2";
constexpr uint16_t kServerPort = 443;  // a redirected port
constexpr uint16_t kProxyPort = 15443;
constexpr int kListenBacklog = 4096;
constexpr size_t kChunk = 64 * 1024;  // bulk reads and writes, both ends
// A client waits this long for any one step; a stuck proxy or server then fails the step instead
// of holding the benchmark.
constexpr int kClientIoTimeoutSeconds = 5;
// A request to a worker fails after this many failed connections rather than waiting out one
// timeout per connection.
constexpr uint32_t kMaxFailuresPerRequest = 3;
constexpr uint32_t kMaxSamplesPerRequest = 10'000;
constexpr auto kWorkerRequestTimeout = 120s;
constexpr auto kDaemonStartTimeout = 20s;
constexpr auto kDaemonStopTimeout = 10s;
constexpr auto kCliTimeout = 20s;
// A daemon out of file descriptors cannot accept on its control socket either, and the CLI then
// waits for an answer that never comes: the idle phase polls with this shorter bound.
constexpr auto kStatusPollTimeout = 3s;
constexpr auto kSettleTimeout = 5s;

constexpr double kHandshakeRatioGoal = 1.2;
constexpr double kThroughputShareGoal = 0.8;
constexpr double kIdleKiBGoal = 32;

constexpr const char* kWorkDirPrefix = "/tmp/shadowai-splice-bench-";
constexpr const char* kCgroupPrefix = "shadowai-bench-splice-";
constexpr const char* kEnforcedCgroup = "enforced";
constexpr const char* kDirectCgroup = "direct";

std::atomic<bool> stopRequested{false};

void onStopSignal(int) { stopRequested.store(true); }

void installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  for (int number : {SIGINT, SIGTERM, SIGHUP}) sigaction(number, &action, nullptr);
  // Peers of this process's sockets and pipes go away on purpose; a write to one must be an error.
  signal(SIGPIPE, SIG_IGN);
}

uint64_t nowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

void progress(const std::string& line) { std::fprintf(stderr, "splice_bench: %s\n", line.c_str()); }

struct Variant {
  const char* key;     // JSON
  const char* name;    // humans
  const char* cgroup;  // child of the daemon's cgroup; nullptr: outside it
};

enum VariantIndex : size_t { kOutside = 0, kDirect = 1, kSpliced = 2, kVariantCount = 3 };

constexpr std::array<Variant, kVariantCount> kVariants = {{
    {"outside", "outside the daemon's cgroup", nullptr},
    {"direct", "detect mode (direct)", kDirectCgroup},
    {"spliced", "enforce mode (spliced)", kEnforcedCgroup},
}};

struct Options {
  std::string daemonBinary;
  std::string cliBinary;
  int handshakes = 2000;  // per variant, all rounds
  int rounds = 5;
  int warmup = 200;       // per variant, before the first round
  int bulkMib = 512;      // per variant and direction, all rounds
  int bulkRounds = 4;
  int idle = 2000;
  unsigned proxyThreads = 0;  // the daemon's default: one per CPU
  rlim_t daemonOpenFiles = 0;  // 0: the benchmark's own (its hard limit)
  bool json = false;
};

// ---------------------------------------------------------------------------------------------
// The world: namespaces, a private work directory, the cgroups

// Before any thread: the kernel refuses CLONE_NEWNS to a multi-threaded caller, and unshare()
// moves only the calling thread anyway.
Status enterOwnNamespaces() {
  if (::unshare(CLONE_NEWNS) != 0) return errnoError("cannot create a mount namespace");
  // First of all: nothing mounted from here on may propagate back to the host.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errnoError("cannot make / recursively private in the benchmark's mount namespace");
  }
  return enterOwnNetworkNamespace();
}

bool processGone(const std::string& name, const std::string& prefix) {
  const pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + prefix.size()));
  return owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH;
}

// The run's files (certificates, the daemon's configuration, state, runtime directory and pins) live
// on a tmpfs mounted in the benchmark's mount namespace over an empty directory of the host's /tmp,
// so they vanish with the namespace whatever happens; a SIGKILL leaves only the empty directory,
// which the next run removes.
class WorkDir {
 public:
  static Result<WorkDir> create() {
    const std::string tmp = "/tmp";
    const std::string prefix = std::filesystem::path(kWorkDirPrefix).filename().string();
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(tmp, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && processGone(name, prefix)) ::rmdir(entry.path().c_str());
    }
    WorkDir dir;
    const std::string path = kWorkDirPrefix + std::to_string(::getpid());
    if (::mkdir(path.c_str(), 0700) != 0) return errnoError("cannot create " + path);
    dir.path_ = path;
    if (auto mounted = dir.mountFresh("tmpfs", path, "mode=0700"); !mounted) return mounted.error();
    return dir;
  }

  WorkDir(WorkDir&& other) noexcept
      : path_(std::exchange(other.path_, {})), mounts_(std::exchange(other.mounts_, {})) {}
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    if (!path_.empty() && ::rmdir(path_.c_str()) != 0) {
      std::fprintf(stderr, "splice_bench: cannot remove %s: %s\n", path_.c_str(), std::strerror(errno));
    }
  }

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // A fresh FSTYPE over DIRECTORY in this (private) mount namespace, unmounted by the destructor.
  Status mountFresh(const std::string& fstype, const std::string& directory, const std::string& data) {
    if (::mount(fstype.c_str(), directory.c_str(), fstype.c_str(), MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
      return errnoError("cannot mount " + fstype + " on " + directory);
    }
    mounts_.push_back(directory);
    return {};
  }

  Status makeSubdirectory(const std::string& name) const {
    if (::mkdir(file(name).c_str(), 0700) != 0) return errnoError("cannot create " + file(name));
    return {};
  }

 private:
  WorkDir() = default;
  std::string path_;
  std::vector<std::string> mounts_;  // in mount order
};

// The daemon's cgroup, directly under the cgroup v2 root, and the clients' cgroups in it. The
// destructor removes them, children first; a run killed with SIGKILL leaves empty directories, which
// the next run removes.
class BenchCgroups {
 public:
  static Result<BenchCgroups> create(const std::vector<std::string>& children) {
    auto root = findCgroup2Mount();
    if (!root) return root.error();
    removeStale(*root);
    BenchCgroups cgroups;
    cgroups.root_ = *root;
    const std::string name = kCgroupPrefix + std::to_string(::getpid());
    if (::mkdir((*root + "/" + name).c_str(), 0755) != 0) return errnoError("cannot create cgroup " + name);
    cgroups.name_ = name;
    for (const auto& child : children) {
      if (::mkdir(cgroups.path(child).c_str(), 0755) != 0) return errnoError("cannot create cgroup " + child);
      cgroups.children_.push_back(child);
    }
    return cgroups;
  }

  BenchCgroups(BenchCgroups&& other) noexcept
      : root_(std::move(other.root_)),
        name_(std::exchange(other.name_, {})),
        children_(std::exchange(other.children_, {})) {}
  BenchCgroups& operator=(BenchCgroups&&) = delete;
  BenchCgroups(const BenchCgroups&) = delete;
  BenchCgroups& operator=(const BenchCgroups&) = delete;
  ~BenchCgroups() {
    if (name_.empty()) return;
    for (const auto& child : children_) removeDirectory(path(child));
    removeDirectory(root_ + "/" + name_);
  }

  // From the cgroup v2 root, as the daemon's configuration and `shadowai enforce` take it.
  std::string relativePath() const { return "/" + name_; }
  std::string relativePath(const std::string& child) const { return relativePath() + "/" + child; }
  std::string path(const std::string& child) const { return root_ + relativePath(child); }

  Status addProcess(const std::string& child, pid_t pid) const {
    const std::string procs = path(child) + "/cgroup.procs";
    Fd file(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    const std::string text = std::to_string(pid);
    if (!file || ::write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return errnoError("cannot move process " + text + " into " + procs);
    }
    return {};
  }

 private:
  BenchCgroups() = default;

  static void removeDirectory(const std::string& path) {
    // The kernel empties a cgroup asynchronously after its last task has left.
    for (int attempt = 0; attempt < 400; ++attempt) {
      if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(5ms);
    }
    std::fprintf(stderr, "splice_bench: cannot remove cgroup %s: %s\n", path.c_str(), std::strerror(errno));
  }

  static void removeStale(const std::string& root) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(kCgroupPrefix, 0) != 0 || !processGone(name, kCgroupPrefix)) continue;
      std::error_code childError;
      for (const auto& child : std::filesystem::directory_iterator(entry.path(), childError)) {
        if (child.is_directory()) ::rmdir(child.path().c_str());  // fails, harmlessly, while populated
      }
      ::rmdir(entry.path().c_str());
    }
  }

  std::string root_;
  std::string name_;
  std::vector<std::string> children_;
};

// Raises this process's soft RLIMIT_NOFILE to its hard limit (raising the hard one takes
// CAP_SYS_RESOURCE, which a container may not grant): the idle phase holds thousands of sockets in the
// server, in a worker and in the daemon, which inherit it. Returns the limit.
Result<rlim_t> raiseOpenFileLimit(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return errnoError("getrlimit");
  if (limit.rlim_max < needed) {
    return makeError("RLIMIT_NOFILE (hard) " + std::to_string(limit.rlim_max) + " is below the " +
                     std::to_string(needed) + " open files this run needs (lower --idle)");
  }
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return errnoError("cannot raise RLIMIT_NOFILE");
  return limit.rlim_max;
}

// ---------------------------------------------------------------------------------------------
// The TLS server (in this process, outside the daemon's cgroup, as a remote server would be)

// A transfer request, sent by the client right after the handshake: kind, then the byte count.
constexpr size_t kTransferHeaderSize = 16;
constexpr uint8_t kUpload = 'U';    // the client sends COUNT bytes, the server acknowledges with one byte
constexpr uint8_t kDownload = 'D';  // the server sends COUNT bytes

std::array<uint8_t, kTransferHeaderSize> transferHeader(uint8_t kind, uint64_t bytes) {
  std::array<uint8_t, kTransferHeaderSize> header{};
  header[0] = kind;
  std::memcpy(header.data() + 8, &bytes, sizeof(bytes));  // both ends run on this host
  return header;
}

std::vector<uint8_t> pseudoRandomBytes(size_t size) {
  std::vector<uint8_t> bytes(size);
  uint32_t state = 12345;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  return bytes;
}

class BenchTlsServer {
 public:
  static Result<std::unique_ptr<BenchTlsServer>> start(const TlsFiles& files) {
    std::unique_ptr<BenchTlsServer> server(new BenchTlsServer());
    if (auto configured = server->configure(files); !configured) return configured.error();
    asio::co_spawn(server->io_, server->acceptLoop(), asio::detached);
    server->thread_ = std::thread([raw = server.get()] { raw->io_.run(); });
    return server;
  }

  BenchTlsServer(const BenchTlsServer&) = delete;
  BenchTlsServer& operator=(const BenchTlsServer&) = delete;
  ~BenchTlsServer() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint64_t handshakes() const { return handshakes_.load(std::memory_order_relaxed); }
  uint64_t handshakeFailures() const { return handshakeFailures_.load(std::memory_order_relaxed); }

 private:
  static constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

  BenchTlsServer() : payload_(pseudoRandomBytes(kChunk)), sink_(kChunk) {}

  Status configure(const TlsFiles& files) {
    boost::system::error_code error;
    tls_.use_certificate_chain_file(files.leafCert, error);
    if (!error) tls_.use_private_key_file(files.leafKey, asio::ssl::context::pem, error);
    if (error) return makeError("server certificate: " + error.message());
    SSL_CTX* native = tls_.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // Every handshake is a full one, and nothing follows it unasked: no tickets to send or to read.
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);

    const tcp::endpoint endpoint(asio::ip::make_address_v4(kServerAddress), kServerPort);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(kListenBacklog, error);
    if (error) return makeError(std::string("cannot listen on ") + kServerAddress + ":443: " + error.message());
    return {};
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

// ---------------------------------------------------------------------------------------------
// Client workers: one process per variant, driven over a SOCK_SEQPACKET pair

enum class WorkerCommand : uint32_t { kHandshakes = 1, kBulk, kOpenIdle, kCloseIdle, kQuit };

struct WorkerRequest {
  WorkerCommand command = WorkerCommand::kQuit;
  uint32_t count = 0;  // handshakes, idle connections to add
  uint64_t bytes = 0;  // bulk: each way
};

// A reply is this header followed by `samples` uint32_t handshake times in nanoseconds.
struct WorkerReplyHeader {
  uint32_t succeeded = 0;
  uint32_t failed = 0;
  uint64_t upNs = 0;
  uint64_t downNs = 0;
  uint32_t samples = 0;
  uint32_t held = 0;  // idle connections held after the request
  char protocol[16] = {};
  char cipher[64] = {};
  char group[32] = {};
  char error[256] = {};
};

struct WorkerReply {
  WorkerReplyHeader header;
  std::vector<uint32_t> samples;
};

struct ClientConnection {
  Fd socket;
  SslPtr ssl;
};

// The client side, in the worker process. Blocking sockets with timeouts: one connection at a time
// is all a handshake or transfer needs, and it is how most clients call an API.
class ClientWorker {
 public:
  explicit ClientWorker(const std::string& caFile) : payload_(pseudoRandomBytes(kChunk)), buffer_(kChunk) {
    server_.sin_family = AF_INET;
    server_.sin_port = htons(kServerPort);
    ::inet_pton(AF_INET, kServerAddress, &server_.sin_addr);
    context_.reset(SSL_CTX_new(TLS_client_method()));
    if (!context_ || SSL_CTX_load_verify_locations(context_.get(), caFile.c_str(), nullptr) != 1) {
      setupError_ = opensslError("client TLS context").describe();
      return;
    }
    // The real server's certificate, for the real name: anything in between that did not splice
    // untouched fails the handshake.
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_min_proto_version(context_.get(), TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(context_.get(), SSL_SESS_CACHE_OFF);
    // Bulk reads take what the socket holds instead of one record header, then its body.
    SSL_CTX_set_read_ahead(context_.get(), 1);
    SSL_CTX_set_default_read_buffer_len(context_.get(), kChunk);
  }

  WorkerReply handle(const WorkerRequest& request) {
    WorkerReply reply;
    if (!setupError_.empty()) {
      copyText(reply.header.error, setupError_);
      return reply;
    }
    switch (request.command) {
      case WorkerCommand::kHandshakes:
        handshakes(std::min(request.count, kMaxSamplesPerRequest), reply);
        break;
      case WorkerCommand::kBulk:
        bulk(request.bytes, reply);
        break;
      case WorkerCommand::kOpenIdle:
        openIdle(request.count, reply);
        break;
      case WorkerCommand::kCloseIdle:
        for (auto& connection : idle_) closeConnection(connection);
        idle_.clear();
        break;
      case WorkerCommand::kQuit:
        break;
    }
    reply.header.held = static_cast<uint32_t>(idle_.size());
    return reply;
  }

 private:
  template <size_t N>
  static void copyText(char (&into)[N], const std::string& text) {
    std::snprintf(into, N, "%s", text.c_str());
  }

  void noteFailure(WorkerReply& reply, const Error& error) {
    ++reply.header.failed;
    if (reply.header.error[0] == '\0') copyText(reply.header.error, error.describe());
  }

  void noteSession(WorkerReply& reply, SSL* ssl) {
    if (reply.header.protocol[0] != '\0') return;
    copyText(reply.header.protocol, SSL_get_version(ssl));
    copyText(reply.header.cipher, SSL_get_cipher_name(ssl));
    const int group = static_cast<int>(SSL_get_negotiated_group(ssl));
    copyText(reply.header.group, group != 0 && OBJ_nid2sn(group) != nullptr ? OBJ_nid2sn(group) : "");
  }

  Result<ClientConnection> openConnection() {
    ClientConnection connection;
    connection.socket.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!connection.socket) return errnoError("socket");
    const int fd = connection.socket.get();
    const timeval timeout{kClientIoTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // as HTTP clients do
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof(server_)) != 0) {
      return errnoError(std::string("connect to ") + kServerAddress + ":443");
    }
    connection.ssl.reset(SSL_new(context_.get()));
    SSL* ssl = connection.ssl.get();
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, kServerName) != 1 ||
        SSL_set1_host(ssl, kServerName) != 1) {
      return opensslError("cannot set up a TLS client");
    }
    if (SSL_connect(ssl) != 1) {
      const long verify = SSL_get_verify_result(ssl);
      const int saved = errno;
      Error error = opensslError(std::string("TLS handshake with ") + kServerName);
      if (verify != X509_V_OK) error.message += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      if (error.message.find("no OpenSSL error") != std::string::npos) error.errnum = saved;
      return error;
    }
    return connection;
  }

  // close_notify, then close: what a client that is done sends. It does not wait for the server's.
  static void closeConnection(ClientConnection& connection) {
    if (connection.ssl) SSL_shutdown(connection.ssl.get());
    connection.ssl.reset();
    connection.socket.reset();
  }

  void handshakes(uint32_t count, WorkerReply& reply) {
    reply.samples.reserve(count);
    for (uint32_t i = 0; i < count && reply.header.failed < kMaxFailuresPerRequest; ++i) {
      const uint64_t started = nowNs();
      auto connection = openConnection();
      const uint64_t elapsed = nowNs() - started;
      if (!connection) {
        noteFailure(reply, connection.error());
        continue;
      }
      reply.samples.push_back(static_cast<uint32_t>(std::min<uint64_t>(elapsed, UINT32_MAX)));
      ++reply.header.succeeded;
      noteSession(reply, connection->ssl.get());
      closeConnection(*connection);
    }
    reply.header.samples = static_cast<uint32_t>(reply.samples.size());
  }

  Status writeAll(SSL* ssl, const uint8_t* data, size_t size) {
    while (size > 0) {
      const int written = SSL_write(ssl, data, static_cast<int>(std::min<size_t>(size, kChunk)));
      if (written <= 0) return opensslError("TLS write");
      data += written;
      size -= static_cast<size_t>(written);
    }
    return {};
  }

  Status readExactly(SSL* ssl, uint64_t size) {
    while (size > 0) {
      const int got = SSL_read(ssl, buffer_.data(), static_cast<int>(std::min<uint64_t>(size, buffer_.size())));
      if (got <= 0) return opensslError("TLS read");
      size -= static_cast<uint64_t>(got);
    }
    return {};
  }

  void bulk(uint64_t bytes, WorkerReply& reply) {
    auto connection = openConnection();
    if (!connection) return noteFailure(reply, connection.error());
    noteSession(reply, connection->ssl.get());
    SSL* ssl = connection->ssl.get();

    const auto upload = transferHeader(kUpload, bytes);
    uint64_t started = nowNs();
    Status status = writeAll(ssl, upload.data(), upload.size());
    for (uint64_t left = bytes; status && left > 0;) {
      const size_t size = static_cast<size_t>(std::min<uint64_t>(left, payload_.size()));
      status = writeAll(ssl, payload_.data(), size);
      left -= size;
    }
    if (status) status = readExactly(ssl, 1);  // the server's acknowledgement: it has every byte
    if (!status) return noteFailure(reply, status.error());
    reply.header.upNs = nowNs() - started;

    const auto download = transferHeader(kDownload, bytes);
    started = nowNs();
    status = writeAll(ssl, download.data(), download.size());
    if (status) status = readExactly(ssl, bytes);
    if (!status) return noteFailure(reply, status.error());
    reply.header.downNs = nowNs() - started;
    ++reply.header.succeeded;
    closeConnection(*connection);
  }

  void openIdle(uint32_t count, WorkerReply& reply) {
    for (uint32_t i = 0; i < count && reply.header.failed < kMaxFailuresPerRequest; ++i) {
      auto connection = openConnection();
      if (!connection) {
        noteFailure(reply, connection.error());
        continue;
      }
      noteSession(reply, connection->ssl.get());
      // Not measured, but thousands of idle clients need not each hold record buffers.
      SSL_set_mode(connection->ssl.get(), SSL_MODE_RELEASE_BUFFERS);
      idle_.push_back(std::move(*connection));
      ++reply.header.succeeded;
    }
  }

  sockaddr_in server_{};
  SslCtxPtr context_;
  std::string setupError_;
  const std::vector<uint8_t> payload_;
  std::vector<uint8_t> buffer_;
  std::vector<ClientConnection> idle_;
};

std::vector<uint8_t> encodeReply(const WorkerReply& reply) {
  std::vector<uint8_t> message(sizeof(WorkerReplyHeader) + reply.samples.size() * sizeof(uint32_t));
  std::memcpy(message.data(), &reply.header, sizeof(WorkerReplyHeader));
  if (!reply.samples.empty()) {
    std::memcpy(message.data() + sizeof(WorkerReplyHeader), reply.samples.data(), reply.samples.size() * sizeof(uint32_t));
  }
  return message;
}

int workerMain(int channel, const std::string& caFile) {
  signal(SIGPIPE, SIG_IGN);
  ClientWorker worker(caFile);
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

// The benchmark's handle on one worker process.
class Worker {
 public:
  // Call while the process is single-threaded (see forkWorker).
  static Result<Worker> start(const std::string& caFile) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return errnoError("socketpair");
    Fd ours(pair[0]);
    Fd theirs(pair[1]);
    auto child = forkWorker([&] {
      ours.reset();
      return workerMain(theirs.get(), caFile);
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
    std::vector<uint8_t> message(sizeof(WorkerReplyHeader) + kMaxSamplesPerRequest * sizeof(uint32_t));
    const ssize_t got = ::recv(channel_.get(), message.data(), message.size(), 0);
    if (got < static_cast<ssize_t>(sizeof(WorkerReplyHeader))) return makeError("a client worker died");
    WorkerReply reply;
    std::memcpy(&reply.header, message.data(), sizeof(WorkerReplyHeader));
    reply.header.error[sizeof(reply.header.error) - 1] = '\0';
    reply.samples.resize(std::min<size_t>(reply.header.samples, (static_cast<size_t>(got) - sizeof(WorkerReplyHeader)) / 4));
    if (!reply.samples.empty()) {
      std::memcpy(reply.samples.data(), message.data() + sizeof(WorkerReplyHeader), reply.samples.size() * sizeof(uint32_t));
    }
    return reply;
  }

 private:
  Worker(ChildProcess process, Fd channel) : process_(std::move(process)), channel_(std::move(channel)) {}

  ChildProcess process_;  // killed and reaped by its destructor, after the channel is closed
  Fd channel_;
};

// ---------------------------------------------------------------------------------------------
// The daemon under test

// The real shadowaid, configured like the integration tests do: everything under the work directory,
// its pins on a private bpffs, its programs attached to the benchmark's cgroup only. The destructor
// stops it (SIGTERM, then SIGKILL), removes its pins (which detaches its programs) and reports what
// went wrong on the way.
class DaemonInstance {
 public:
  DaemonInstance(const Options& options, const WorkDir& dir, std::string attachCgroup)
      : options_(options),
        configPath_(dir.file("shadowaid.json")),
        socketPath_(dir.file("run/control.sock")),
        logPath_(dir.file("shadowaid.log")),
        stateDir_(dir.file("state")),
        runtimeDir_(dir.file("run")),
        pinDir_(dir.file("bpf")),
        attachCgroup_(std::move(attachCgroup)) {}
  DaemonInstance(const DaemonInstance&) = delete;
  DaemonInstance& operator=(const DaemonInstance&) = delete;
  ~DaemonInstance() { stop(); }

  Status start() {
    // Never the root cgroup: the programs would govern every process on the host.
    if (attachCgroup_.empty() || attachCgroup_ == "/") return makeError("refusing to attach to the root cgroup");
    json config = {
        {"state_dir", stateDir_},
        {"runtime_dir", runtimeDir_},
        {"bpf_pin_dir", pinDir_},
        {"control_socket", socketPath_},
        {"control_group", nullptr},
        {"cgroup", attachCgroup_},
        {"catalog_dirs", json::array()},
        {"failure_mode", "closed"},
        // The shipped default policy (masks secrets and PII, blocks nothing).
        {"policy_dir", SHADOWAI_SOURCE_RULES_DIR "/policy.d"},
        {"proxy", {{"listen_ipv4", "127.0.0.1"}, {"listen_ipv6", "::1"}, {"port", kProxyPort}, {"threads", options_.proxyThreads}}},
    };
    if (auto written = writeFileAtomic(configPath_, config.dump(2)); !written) return written;
    configWritten_ = true;

    Fd log(::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return errnoError("cannot create " + logPath_);
    ExecSettings settings;
    settings.stdoutFd = log.get();
    settings.stderrFd = log.get();
    settings.deathSignal = SIGTERM;  // a benchmark killed with SIGKILL still lets its daemon stop cleanly
    settings.dropEnvironment = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
    if (options_.daemonOpenFiles != 0) settings.openFileLimit = options_.daemonOpenFiles;
    auto process = spawnProgram({options_.daemonBinary, "--config", configPath_}, settings);
    if (!process) return process.error();
    process_ = std::move(*process);

    const auto deadline = std::chrono::steady_clock::now() + kDaemonStartTimeout;
    while (std::chrono::steady_clock::now() < deadline && !stopRequested.load()) {
      if (!process_.running()) return makeError("shadowaid exited at start:\n" + logTail());
      if (auto answered = status(); answered) return {};
      std::this_thread::sleep_for(100ms);
    }
    if (stopRequested.load()) return makeError("interrupted");
    return makeError("shadowaid did not answer on its control socket in time:\n" + logTail());
  }

  void stop() {
    if (process_.running()) {
      (void)process_.signal(SIGTERM);
      if (!process_.waitFor(kDaemonStopTimeout)) {
        std::fprintf(stderr, "splice_bench: shadowaid did not stop on SIGTERM; killing it\n");
        process_.killAndReap();
      }
    }
    if (configWritten_) {
      configWritten_ = false;
      auto removed = runCommand({options_.daemonBinary, "--config", configPath_, "--remove-pins"}, kCliTimeout);
      if (!removed || removed->exitCode != 0) {
        std::fprintf(stderr, "splice_bench: shadowaid --remove-pins failed: %s\n",
                     removed ? removed->err.c_str() : removed.error().describe().c_str());
      }
    }
  }

  pid_t pid() const { return process_.pid(); }

  Result<json> status(std::chrono::milliseconds timeout = kCliTimeout) {
    auto output = cli({"status", "--json"}, timeout);
    if (!output) return output.error();
    try {
      return json::parse(output->out);
    } catch (const json::exception& error) {
      return makeError(std::string("shadowai status --json: ") + error.what());
    }
  }

  Status enforce(const std::string& cgroup) {
    auto output = cli({"enforce", "--cgroup", cgroup});
    if (!output) return output.error();
    return {};
  }

  std::string logTail() const {
    auto text = readFile(logPath_);
    if (!text) return "(no log)";
    const size_t keep = 2000;
    return text->size() <= keep ? *text : text->substr(text->size() - keep);
  }

 private:
  Result<CommandOutput> cli(std::vector<std::string> args, std::chrono::milliseconds timeout = kCliTimeout) {
    std::vector<std::string> argv = {options_.cliBinary, "--socket", socketPath_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto output = runCommand(argv, timeout);
    if (!output) return output.error();
    if (output->exitCode != 0) {
      std::string message = output->err;
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return makeError("shadowai " + args.front() + ": " + message);
    }
    return output;
  }

  const Options& options_;
  const std::string configPath_, socketPath_, logPath_, stateDir_, runtimeDir_, pinDir_, attachCgroup_;
  ChildProcess process_;
  bool configWritten_ = false;
};

uint64_t proxyCounter(const json& status, const char* name) {
  const json* proxy = status.contains("proxy") ? &status["proxy"] : nullptr;
  return proxy != nullptr && proxy->contains(name) ? (*proxy)[name].get<uint64_t>() : 0;
}

// ---------------------------------------------------------------------------------------------
// Phases

struct RunContext {
  const Options& options;
  std::array<Worker*, kVariantCount> workers{};
  DaemonInstance& daemon;
  uint64_t splicedConnections = 0;  // made by the enforced worker: each must pass the proxy
};

double percentile(std::vector<uint32_t> values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(index), values.end());
  return values[index];
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// CPU time (user + system) of the three parties. Less sensitive than wall time to other load on the
// machine: it says what a connection costs, not how long it waited for a CPU. Kernel work done in
// softirq context is charged to whichever task was running, so the split is approximate; the sum is
// not far off.
struct CpuTimes {
  uint64_t clientNs = 0;  // the worker process
  uint64_t serverNs = 0;  // this process: the TLS server's thread (the main thread only waits)
  uint64_t daemonNs = 0;

  uint64_t totalNs() const { return clientNs + serverNs + daemonNs; }
  CpuTimes& operator+=(const CpuTimes& other) {
    clientNs += other.clientNs;
    serverNs += other.serverNs;
    daemonNs += other.daemonNs;
    return *this;
  }
};

CpuTimes cpuNow(pid_t worker, pid_t daemon) {
  auto read = [](pid_t pid) {
    auto cpu = processCpuNs(pid);
    return cpu ? *cpu : 0;
  };
  return {read(worker), read(::getpid()), read(daemon)};
}

// Runs REQUEST on VARIANT's worker, adding the CPU time spent meanwhile to CPU. A failed connection
// fails the request unless FAILURES_ARE_ERRORS is false (the reply then says how many).
Result<WorkerReply> callWorker(RunContext& run, size_t variant, const WorkerRequest& request, CpuTimes& cpu,
                               bool failuresAreErrors = true) {
  const pid_t worker = run.workers[variant]->pid();
  const CpuTimes before = cpuNow(worker, run.daemon.pid());
  auto reply = run.workers[variant]->call(request);
  const CpuTimes after = cpuNow(worker, run.daemon.pid());
  cpu += {after.clientNs - before.clientNs, after.serverNs - before.serverNs, after.daemonNs - before.daemonNs};
  if (!reply) return reply.error();
  if (variant == kSpliced) run.splicedConnections += reply->header.succeeded + reply->header.failed;
  if (failuresAreErrors && reply->header.failed > 0) {
    return makeError(std::string(kVariants[variant].name) + ": " + reply->header.error);
  }
  return reply;
}

struct TlsSession {
  std::string protocol;
  std::string cipher;
  std::string group;
};

struct HandshakeFigures {
  std::vector<uint32_t> samples;
  std::vector<double> roundMedians;
  CpuTimes cpu;
};

Result<std::array<HandshakeFigures, kVariantCount>> measureHandshakes(RunContext& run, TlsSession& session) {
  std::array<HandshakeFigures, kVariantCount> figures;
  const uint32_t perRound = static_cast<uint32_t>(run.options.handshakes / run.options.rounds);
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    CpuTimes ignoredCpu;
    auto warm = callWorker(run, variant, {WorkerCommand::kHandshakes, static_cast<uint32_t>(run.options.warmup), 0},
                           ignoredCpu);
    if (!warm) return warm.error();
    if (variant == kSpliced) {
      session = {warm->header.protocol, warm->header.cipher, warm->header.group};
      // Fail early and clearly if enforce mode did not take: the rest would measure nothing.
      auto status = run.daemon.status();
      if (!status) return status.error();
      if (proxyCounter(*status, "spliced") < static_cast<uint64_t>(run.options.warmup)) {
        return makeError("the enforced worker's connections did not pass the proxy (spliced " +
                         std::to_string(proxyCounter(*status, "spliced")) + ")");
      }
    }
  }
  for (int round = 0; round < run.options.rounds && !stopRequested.load(); ++round) {
    for (size_t k = 0; k < kVariantCount; ++k) {
      const size_t variant = (static_cast<size_t>(round) + k) % kVariantCount;
      HandshakeFigures& figure = figures[variant];
      auto reply = callWorker(run, variant, {WorkerCommand::kHandshakes, perRound, 0}, figure.cpu);
      if (!reply) return reply.error();
      figure.samples.insert(figure.samples.end(), reply->samples.begin(), reply->samples.end());
      figure.roundMedians.push_back(percentile(reply->samples, 0.5));
    }
  }
  return figures;
}

struct BulkFigures {
  std::vector<double> upMiBps;  // one per round
  std::vector<double> downMiBps;
  uint64_t bytes = 0;  // each way, all rounds
  CpuTimes cpu;
};

double mibPerSecond(uint64_t bytes, uint64_t ns) {
  return ns == 0 ? 0 : static_cast<double>(bytes) / (1024.0 * 1024.0) / (static_cast<double>(ns) / 1e9);
}

Result<std::array<BulkFigures, kVariantCount>> measureBulk(RunContext& run) {
  std::array<BulkFigures, kVariantCount> figures;
  const uint64_t perRound =
      static_cast<uint64_t>(run.options.bulkMib) * 1024 * 1024 / static_cast<uint64_t>(run.options.bulkRounds);
  for (int round = 0; round < run.options.bulkRounds && !stopRequested.load(); ++round) {
    for (size_t k = 0; k < kVariantCount; ++k) {
      const size_t variant = (static_cast<size_t>(round) + k) % kVariantCount;
      BulkFigures& figure = figures[variant];
      auto reply = callWorker(run, variant, {WorkerCommand::kBulk, 0, perRound}, figure.cpu);
      if (!reply) return reply.error();
      figure.upMiBps.push_back(mibPerSecond(perRound, reply->header.upNs));
      figure.downMiBps.push_back(mibPerSecond(perRound, reply->header.downNs));
      figure.bytes += perRound;
    }
  }
  return figures;
}

struct IdleFigures {
  uint32_t requested = 0;
  uint32_t half = 0;
  uint32_t opened = 0;
  uint32_t failed = 0;
  std::string firstError;  // why a connection could not be opened
  // The daemon before, with half, with all, and after closing them again.
  std::array<MemoryFigures, 4> memory{};
  // The proxy's "active" counter at the same moments; nullopt when the daemon did not answer.
  std::array<std::optional<uint64_t>, 4> active{};
  double openSeconds = 0;
};

// Waits until the proxy holds EXPECTED connections (the relays of connections the clients already
// completed a handshake over exist; a closed one may take a moment to be noticed), then reads the
// daemon's memory. A daemon that does not answer (out of file descriptors) is measured all the same.
Result<std::pair<MemoryFigures, std::optional<uint64_t>>> settledMemory(DaemonInstance& daemon, uint64_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
  std::optional<uint64_t> active;
  do {
    auto status = daemon.status(kStatusPollTimeout);
    if (!status) {
      progress("the daemon did not answer: " + status.error().describe());
      break;
    }
    active = proxyCounter(*status, "active");
    if (active == expected) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  std::this_thread::sleep_for(200ms);  // let the workers finish what the last connections started
  auto memory = readMemoryFigures(daemon.pid());
  if (!memory) return memory.error();
  return std::pair{*memory, active};
}

Result<IdleFigures> measureIdle(RunContext& run) {
  IdleFigures figures;
  figures.requested = static_cast<uint32_t>(run.options.idle);
  figures.half = figures.requested / 2;
  CpuTimes ignoredCpu;
  auto before = settledMemory(run.daemon, 0);
  if (!before) return before.error();
  std::tie(figures.memory[0], figures.active[0]) = *before;

  const uint64_t started = nowNs();
  uint32_t held = 0;
  const std::array<uint32_t, 2> steps = {figures.half, figures.requested - figures.half};
  for (size_t step = 0; step < steps.size(); ++step) {
    // A limit reached here (open files, max_connections) is a result to report, not a reason to stop.
    auto reply = callWorker(run, kSpliced, {WorkerCommand::kOpenIdle, steps[step], 0}, ignoredCpu, false);
    if (!reply) return reply.error();
    held = reply->header.held;
    figures.failed += reply->header.failed;
    if (figures.firstError.empty()) figures.firstError = reply->header.error;
    if (step == 1) figures.openSeconds = static_cast<double>(nowNs() - started) / 1e9;
    auto memory = settledMemory(run.daemon, held);
    if (!memory) return memory.error();
    std::tie(figures.memory[step + 1], figures.active[step + 1]) = *memory;
  }
  figures.opened = held;

  auto closed = callWorker(run, kSpliced, {WorkerCommand::kCloseIdle, 0, 0}, ignoredCpu);
  if (!closed) return closed.error();
  auto after = settledMemory(run.daemon, 0);
  if (!after) return after.error();
  std::tie(figures.memory[3], figures.active[3]) = *after;
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Reporting

struct Summary {
  std::string kernel;
  unsigned cpus = 0;
  std::string loadBefore;
  std::string loadAfter;
  pid_t daemonPid = 0;
  uint64_t daemonThreads = 0;
  OpenFileLimit daemonOpenFiles;
  uint32_t maxConnections = DaemonConfig{}.proxy.maxConnections;
  TlsSession session;
  std::array<HandshakeFigures, kVariantCount> handshakes;
  std::array<BulkFigures, kVariantCount> bulk;
  std::optional<IdleFigures> idle;
  json proxyBefore;  // `shadowai status --json` before the first connection
  json proxyAfter;   // and at the end
  uint64_t splicedConnections = 0;
  uint64_t serverHandshakeFailures = 0;
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

double handshakeMedianUs(const Summary& summary, size_t variant) {
  return percentile(summary.handshakes[variant].samples, 0.5) / 1000;
}
double handshakeRatio(const Summary& summary, size_t base) {
  const double baseline = handshakeMedianUs(summary, base);
  return baseline == 0 ? 0 : handshakeMedianUs(summary, kSpliced) / baseline;
}
double share(const std::vector<double>& spliced, const std::vector<double>& direct) {
  const double base = median(direct);
  return base == 0 ? 0 : median(spliced) / base;
}
double usPerHandshake(const HandshakeFigures& figures, uint64_t ns) {
  return figures.samples.empty() ? 0 : static_cast<double>(ns) / 1000 / static_cast<double>(figures.samples.size());
}
double secondsPerGib(const BulkFigures& figures, uint64_t ns) {
  // Both directions moved `bytes` each.
  return figures.bytes == 0 ? 0 : static_cast<double>(ns) / 1e9 / (2.0 * static_cast<double>(figures.bytes) / (1u << 30));
}
double cpuRatio(uint64_t ns, uint64_t baseNs) { return baseNs == 0 ? 0 : static_cast<double>(ns) / static_cast<double>(baseNs); }
// Per handshake or per byte alike: the variants of a phase ran the same number of each.
double handshakeCpuRatio(const Summary& summary) {
  return cpuRatio(summary.handshakes[kSpliced].cpu.totalNs() * summary.handshakes[kDirect].samples.size(),
                  summary.handshakes[kDirect].cpu.totalNs() * summary.handshakes[kSpliced].samples.size());
}

struct IdleMetrics {
  // Connections the daemon holds with all opened: the proxy's count, or, when it did not answer, its
  // open files over the two sockets each takes. Below what the client opened when connections went
  // past the proxy (the counters say so too).
  uint64_t held = 0;
  uint64_t heldAtHalf = 0;
  double kibPerConnection = 0;  // (all - before) / held
  double kibSlope = 0;          // (all - half) / (held - held at half): without the first ones' fixed costs
  double pssKibPerConnection = 0;
  double filesPerConnection = 0;
};

IdleMetrics idleMetrics(const IdleFigures& idle) {
  IdleMetrics metrics;
  auto delta = [](uint64_t after, uint64_t before) { return static_cast<double>(after) - static_cast<double>(before); };
  auto heldAt = [&](size_t moment) {
    if (idle.active[moment]) return *idle.active[moment];
    const uint64_t files = idle.memory[moment].openFiles;
    return files > idle.memory[0].openFiles ? (files - idle.memory[0].openFiles) / 2 : 0;
  };
  metrics.held = heldAt(2);
  metrics.heldAtHalf = heldAt(1);
  if (metrics.held == 0) return metrics;
  const double held = static_cast<double>(metrics.held);
  metrics.kibPerConnection = delta(idle.memory[2].rssKiB, idle.memory[0].rssKiB) / held;
  metrics.pssKibPerConnection = delta(idle.memory[2].pssKiB, idle.memory[0].pssKiB) / held;
  metrics.filesPerConnection = delta(idle.memory[2].openFiles, idle.memory[0].openFiles) / held;
  if (metrics.held > metrics.heldAtHalf) {
    metrics.kibSlope = delta(idle.memory[2].rssKiB, idle.memory[1].rssKiB) / static_cast<double>(metrics.held - metrics.heldAtHalf);
  }
  return metrics;
}

bool idleGoalMet(const IdleFigures& idle, const IdleMetrics& metrics) {
  return idle.opened == idle.requested && metrics.held == idle.requested && metrics.kibPerConnection <= kIdleKiBGoal;
}

// Every connection of the enforced worker passed the proxy, and no other did.
bool countersAgree(const Summary& summary) {
  const uint64_t accepted = proxyCounter(summary.proxyAfter, "accepted") - proxyCounter(summary.proxyBefore, "accepted");
  const uint64_t spliced = proxyCounter(summary.proxyAfter, "spliced") - proxyCounter(summary.proxyBefore, "spliced");
  return accepted == summary.splicedConnections && spliced == summary.splicedConnections;
}

json toJson(const Options& options, const Summary& summary) {
  json out;
  out["kernel"] = summary.kernel;
  out["cpus"] = summary.cpus;
  out["load_average"] = {{"before", summary.loadBefore}, {"after", summary.loadAfter}};
  out["daemon"] = {{"threads", summary.daemonThreads},
                   {"open_files_soft", summary.daemonOpenFiles.soft},
                   {"open_files_hard", summary.daemonOpenFiles.hard},
                   {"max_connections", summary.maxConnections}};
  out["tls"] = {{"server_name", kServerName},
                {"protocol", summary.session.protocol},
                {"cipher", summary.session.cipher},
                {"group", summary.session.group}};

  json& handshake = out["handshake"];
  handshake["rounds"] = options.rounds;
  handshake["per_round"] = options.handshakes / options.rounds;
  handshake["warmup"] = options.warmup;
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const HandshakeFigures& figure = summary.handshakes[variant];
    handshake["variants"][kVariants[variant].key] = {
        {"name", kVariants[variant].name},
        {"handshakes", figure.samples.size()},
        {"median_us", percentile(figure.samples, 0.5) / 1000},
        {"p10_us", percentile(figure.samples, 0.1) / 1000},
        {"p90_us", percentile(figure.samples, 0.9) / 1000},
        {"p99_us", percentile(figure.samples, 0.99) / 1000},
        {"round_medians_us", [&] {
           std::vector<double> us;
           for (double ns : figure.roundMedians) us.push_back(ns / 1000);
           return us;
         }()},
        {"cpu_us_per_handshake",
         {{"client", usPerHandshake(figure, figure.cpu.clientNs)},
          {"server", usPerHandshake(figure, figure.cpu.serverNs)},
          {"daemon", usPerHandshake(figure, figure.cpu.daemonNs)},
          {"total", usPerHandshake(figure, figure.cpu.totalNs())}}},
    };
  }
  handshake["ratio"] = handshakeRatio(summary, kDirect);
  handshake["ratio_vs_outside"] = handshakeRatio(summary, kOutside);
  handshake["cpu_ratio"] = handshakeCpuRatio(summary);
  handshake["goal_ratio"] = kHandshakeRatioGoal;
  handshake["goal_met"] = handshakeRatio(summary, kDirect) <= kHandshakeRatioGoal;

  json& bulk = out["throughput"];
  bulk["rounds"] = options.bulkRounds;
  bulk["mib_per_round"] = static_cast<double>(options.bulkMib) / options.bulkRounds;
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const BulkFigures& figure = summary.bulk[variant];
    bulk["variants"][kVariants[variant].key] = {
        {"name", kVariants[variant].name},
        {"up_mib_per_s", median(figure.upMiBps)},
        {"down_mib_per_s", median(figure.downMiBps)},
        {"up_rounds", figure.upMiBps},
        {"down_rounds", figure.downMiBps},
        {"cpu_s_per_gib",
         {{"client", secondsPerGib(figure, figure.cpu.clientNs)},
          {"server", secondsPerGib(figure, figure.cpu.serverNs)},
          {"daemon", secondsPerGib(figure, figure.cpu.daemonNs)},
          {"total", secondsPerGib(figure, figure.cpu.totalNs())}}},
    };
  }
  const double up = share(summary.bulk[kSpliced].upMiBps, summary.bulk[kDirect].upMiBps);
  const double down = share(summary.bulk[kSpliced].downMiBps, summary.bulk[kDirect].downMiBps);
  bulk["share_up"] = up;
  bulk["share_down"] = down;
  bulk["goal_share"] = kThroughputShareGoal;
  bulk["goal_met"] = up >= kThroughputShareGoal && down >= kThroughputShareGoal;

  if (summary.idle) {
    const IdleFigures& idle = *summary.idle;
    const IdleMetrics metrics = idleMetrics(idle);
    json memory = json::array();
    const char* moments[] = {"before", "half", "all", "closed"};
    for (size_t i = 0; i < idle.memory.size(); ++i) {
      memory.push_back({{"at", moments[i]},
                        {"rss_kib", idle.memory[i].rssKiB},
                        {"pss_kib", idle.memory[i].pssKiB},
                        {"open_files", idle.memory[i].openFiles},
                        {"proxy_active", idle.active[i] ? json(*idle.active[i]) : json(nullptr)}});
    }
    out["idle"] = {{"requested", idle.requested},
                   {"opened", idle.opened},
                   {"failed", idle.failed},
                   {"first_error", idle.firstError},
                   {"open_seconds", idle.openSeconds},
                   {"samples", memory},
                   {"held_by_daemon", metrics.held},
                   {"rss_kib_per_connection", metrics.kibPerConnection},
                   {"rss_kib_per_connection_second_half", metrics.kibSlope},
                   {"pss_kib_per_connection", metrics.pssKibPerConnection},
                   {"open_files_per_connection", metrics.filesPerConnection},
                   {"goal_kib", kIdleKiBGoal},
                   {"goal_met", idleGoalMet(idle, metrics)}};
  }
  out["proxy_counters"] = summary.proxyAfter.contains("proxy") ? summary.proxyAfter["proxy"] : json();
  out["enforced_connections"] = summary.splicedConnections;
  out["counters_agree"] = countersAgree(summary);
  out["server_handshake_failures"] = summary.serverHandshakeFailures;
  return out;
}

const char* verdict(bool met) { return met ? "met" : "MISSED"; }

void printHuman(const Options& options, const Summary& summary) {
  std::printf("splice_bench: kernel %s, %u CPUs, load %s -> %s; own netns, mount ns and cgroups\n",
              summary.kernel.c_str(), summary.cpus, summary.loadBefore.c_str(), summary.loadAfter.c_str());
  std::printf("  server %s at %s:443, %s %s %s; shadowaid pid %d, %llu threads, RLIMIT_NOFILE %llu/%llu\n",
              kServerName, kServerAddress, summary.session.protocol.c_str(), summary.session.cipher.c_str(),
              summary.session.group.c_str(), summary.daemonPid,
              static_cast<unsigned long long>(summary.daemonThreads),
              static_cast<unsigned long long>(summary.daemonOpenFiles.soft),
              static_cast<unsigned long long>(summary.daemonOpenFiles.hard));

  std::printf("\nTLS handshake, client side (socket + connect + full handshake): %d rounds x %d per variant, "
              "interleaved, after %d warm-up\n",
              options.rounds, options.handshakes / options.rounds, options.warmup);
  std::printf("  CPU: microseconds per handshake of the client, the server, the daemon, and their total\n");
  std::printf("  %-30s %10s %8s %8s %8s %7s %8s %8s %8s %8s %7s\n", "variant", "median us", "p10 us", "p90 us",
              "p99 us", "ratio", "client", "server", "daemon", "CPU", "ratio");
  const HandshakeFigures& directHandshakes = summary.handshakes[kDirect];
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const HandshakeFigures& figure = summary.handshakes[variant];
    const double base = handshakeMedianUs(summary, kDirect);
    const double cpu = usPerHandshake(figure, figure.cpu.totalNs());
    const double baseCpu = usPerHandshake(directHandshakes, directHandshakes.cpu.totalNs());
    std::printf("  %-30s %10.1f %8.1f %8.1f %8.1f %7.3f %8.1f %8.1f %8.1f %8.1f %7.3f\n", kVariants[variant].name,
                percentile(figure.samples, 0.5) / 1000, percentile(figure.samples, 0.1) / 1000,
                percentile(figure.samples, 0.9) / 1000, percentile(figure.samples, 0.99) / 1000,
                base == 0 ? 0 : percentile(figure.samples, 0.5) / 1000 / base, usPerHandshake(figure, figure.cpu.clientNs),
                usPerHandshake(figure, figure.cpu.serverNs), usPerHandshake(figure, figure.cpu.daemonNs), cpu,
                baseCpu == 0 ? 0 : cpu / baseCpu);
  }
  const double ratio = handshakeRatio(summary, kDirect);
  std::printf("  goal: spliced / direct <= %.2f (median time): %.3f, %s (spliced / outside: %.3f; CPU ratio %.3f)\n",
              kHandshakeRatioGoal, ratio, verdict(ratio <= kHandshakeRatioGoal), handshakeRatio(summary, kOutside),
              handshakeCpuRatio(summary));

  std::printf("\nBulk throughput, one connection per round: %d rounds x %.0f MiB each way per variant, median of rounds\n",
              options.bulkRounds, static_cast<double>(options.bulkMib) / options.bulkRounds);
  std::printf("  CPU: seconds per GiB moved (both directions together) of the client, the server, the daemon, total\n");
  std::printf("  %-30s %9s %9s %7s %7s %7s %7s %7s %7s\n", "variant", "up MiB/s", "down", "up %", "down %", "client",
              "server", "daemon", "CPU");
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const BulkFigures& figure = summary.bulk[variant];
    std::printf("  %-30s %9.0f %9.0f %7.1f %7.1f %7.2f %7.2f %7.2f %7.2f\n", kVariants[variant].name,
                median(figure.upMiBps), median(figure.downMiBps),
                100 * share(figure.upMiBps, summary.bulk[kDirect].upMiBps),
                100 * share(figure.downMiBps, summary.bulk[kDirect].downMiBps), secondsPerGib(figure, figure.cpu.clientNs),
                secondsPerGib(figure, figure.cpu.serverNs), secondsPerGib(figure, figure.cpu.daemonNs),
                secondsPerGib(figure, figure.cpu.totalNs()));
  }
  const double up = share(summary.bulk[kSpliced].upMiBps, summary.bulk[kDirect].upMiBps);
  const double down = share(summary.bulk[kSpliced].downMiBps, summary.bulk[kDirect].downMiBps);
  std::printf("  goal: spliced >= %.0f%% of direct both ways: up %.1f%%, down %.1f%%, %s\n", kThroughputShareGoal * 100,
              up * 100, down * 100, verdict(up >= kThroughputShareGoal && down >= kThroughputShareGoal));

  if (summary.idle) {
    const IdleFigures& idle = *summary.idle;
    const IdleMetrics metrics = idleMetrics(idle);
    std::printf("\nIdle spliced connections: the client opened %u of %u (%.1f s), the daemon holds %llu\n", idle.opened,
                idle.requested, idle.openSeconds, static_cast<unsigned long long>(metrics.held));
    if (idle.failed > 0) std::printf("  %u failed to open: %s\n", idle.failed, idle.firstError.c_str());
    if (metrics.held < idle.opened) {
      std::printf("  WARNING: %llu of the client's open connections are not held by the daemon: they went past the proxy\n",
                  static_cast<unsigned long long>(idle.opened - metrics.held));
    }
    std::printf("  %-10s %12s %12s %12s %14s\n", "", "VmRSS KiB", "Pss KiB", "open files", "proxy active");
    const char* moments[] = {"before", "half", "all", "closed"};
    for (size_t i = 0; i < idle.memory.size(); ++i) {
      std::printf("  %-10s %12llu %12llu %12llu %14s\n", moments[i],
                  static_cast<unsigned long long>(idle.memory[i].rssKiB),
                  static_cast<unsigned long long>(idle.memory[i].pssKiB),
                  static_cast<unsigned long long>(idle.memory[i].openFiles),
                  idle.active[i] ? std::to_string(*idle.active[i]).c_str() : "no answer");
    }
    std::printf("  per connection: %.2f KiB RSS (second half alone %.2f), %.2f KiB Pss, %.2f open files\n",
                metrics.kibPerConnection, metrics.kibSlope, metrics.pssKibPerConnection, metrics.filesPerConnection);
    std::printf("  goal: <= %.0f KiB per idle spliced connection: %s\n", kIdleKiBGoal,
                verdict(idleGoalMet(idle, metrics)));
    std::printf("  (max_connections %u needs %u open files; the daemon's limit here is %llu)\n", summary.maxConnections,
                2 * summary.maxConnections, static_cast<unsigned long long>(summary.daemonOpenFiles.soft));
  }

  const json& after = summary.proxyAfter;
  const uint64_t accepted = proxyCounter(after, "accepted") - proxyCounter(summary.proxyBefore, "accepted");
  std::printf("\nProxy counters: accepted %llu, spliced %llu, for %llu enforced connections: %s; upstream failures %llu, "
              "peek timeouts %llu, refused over limit %llu; server handshake failures %llu\n",
              static_cast<unsigned long long>(proxyCounter(after, "accepted")),
              static_cast<unsigned long long>(proxyCounter(after, "spliced")),
              static_cast<unsigned long long>(summary.splicedConnections),
              countersAgree(summary) ? "agree" : "DISAGREE",
              static_cast<unsigned long long>(proxyCounter(after, "upstream_connect_failures")),
              static_cast<unsigned long long>(proxyCounter(after, "peek_timeouts")),
              static_cast<unsigned long long>(proxyCounter(after, "refused_over_limit")),
              static_cast<unsigned long long>(summary.serverHandshakeFailures));
  if (accepted < summary.splicedConnections) {
    std::printf("WARNING: %llu connections from the enforced cgroup never reached the proxy (failed, or bypassed it)\n",
                static_cast<unsigned long long>(summary.splicedConnections - accepted));
  }
}

// ---------------------------------------------------------------------------------------------

int run(const Options& options) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "splice_bench: needs root (namespaces, cgroups, and shadowaid loads BPF programs)\n");
    return 1;
  }
  auto fail = [](const Error& error) {
    std::fprintf(stderr, "splice_bench: %s\n", error.describe().c_str());
    return stopRequested.load() ? 130 : 1;
  };
  for (const auto& binary : {options.daemonBinary, options.cliBinary}) {
    if (::access(binary.c_str(), X_OK) != 0) return fail(errnoError("cannot run " + binary + " (see --daemon, --cli)"));
  }
  installStopHandlers();
  // Each idle connection is a socket in the worker and in the server, two in the daemon.
  if (auto raised = raiseOpenFileLimit(static_cast<rlim_t>(options.idle) * 2 + 1024); !raised) return fail(raised.error());
  // Single-threaded until the workers are forked below.
  if (auto entered = enterOwnNamespaces(); !entered) return fail(entered.error());

  Summary summary;
  summary.kernel = kernelRelease();
  summary.cpus = std::thread::hardware_concurrency();
  summary.loadBefore = loadAverage();

  auto dir = WorkDir::create();
  if (!dir) return fail(dir.error());
  for (const char* sub : {"bpf", "state", "run"}) {
    if (auto made = dir->makeSubdirectory(sub); !made) return fail(made.error());
  }
  // The daemon's pins go to a bpffs of this mount namespace only.
  if (auto mounted = dir->mountFresh("bpf", dir->file("bpf"), "mode=0700"); !mounted) return fail(mounted.error());
  // Alerts of a benchmark's daemon have no place in the host's journal.
  if (std::filesystem::exists("/run/systemd/journal")) {
    if (auto mounted = dir->mountFresh("tmpfs", "/run/systemd/journal", "mode=0755"); !mounted) return fail(mounted.error());
  }
  auto cgroups = BenchCgroups::create({kDirectCgroup, kEnforcedCgroup});
  if (!cgroups) return fail(cgroups.error());
  auto pki = makeThrowawayPki(dir->path(), kServerName);
  if (!pki) return fail(pki.error());

  std::vector<Worker> workers;
  for (const Variant& variant : kVariants) {
    auto worker = Worker::start(pki->caCert);
    if (!worker) return fail(worker.error());
    if (variant.cgroup != nullptr) {
      if (auto moved = cgroups->addProcess(variant.cgroup, worker->pid()); !moved) return fail(moved.error());
    }
    workers.push_back(std::move(*worker));
  }
  // Threads from here on.
  auto server = BenchTlsServer::start(*pki);
  if (!server) return fail(server.error());

  progress("starting shadowaid on cgroup " + cgroups->relativePath());
  DaemonInstance daemon(options, *dir, cgroups->relativePath());
  if (auto started = daemon.start(); !started) return fail(started.error());
  if (auto enforced = daemon.enforce(cgroups->relativePath(kEnforcedCgroup)); !enforced) return fail(enforced.error());
  summary.daemonPid = daemon.pid();
  if (auto limit = readOpenFileLimit(daemon.pid()); limit) summary.daemonOpenFiles = *limit;
  if (auto memory = readMemoryFigures(daemon.pid()); memory) summary.daemonThreads = memory->threads;
  if (auto before = daemon.status(); before) summary.proxyBefore = *before;

  RunContext context{options, {}, daemon};
  for (size_t i = 0; i < kVariantCount; ++i) context.workers[i] = &workers[i];

  progress("handshakes");
  auto handshakes = measureHandshakes(context, summary.session);
  if (!handshakes) return fail(handshakes.error());
  summary.handshakes = std::move(*handshakes);
  progress("bulk throughput");
  auto bulk = measureBulk(context);
  if (!bulk) return fail(bulk.error());
  summary.bulk = std::move(*bulk);
  if (options.idle > 0 && !stopRequested.load()) {
    progress("idle connections");
    auto idle = measureIdle(context);
    if (!idle) return fail(idle.error());
    summary.idle = std::move(*idle);
  }
  if (stopRequested.load()) return fail(makeError("interrupted"));

  auto after = daemon.status();
  if (!after) return fail(after.error());
  summary.proxyAfter = std::move(*after);
  summary.splicedConnections = context.splicedConnections;
  summary.serverHandshakeFailures = (*server)->handshakeFailures();
  summary.loadAfter = loadAverage();
  if (options.json) {
    std::printf("%s\n", toJson(options, summary).dump(2).c_str());
  } else {
    printHuman(options, summary);
  }
  return 0;
}

// The binaries of the same build tree: build/bench/splice_bench -> build/userspace/shadowaid.
std::string besideThisBinary(const std::string& relative) {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return relative;
  return (self.parent_path() / relative).lexically_normal().string();
}

}  // namespace
}  // namespace shadowai::bench

int main(int argc, char** argv) {
  shadowai::bench::Options options;
  options.daemonBinary = shadowai::bench::besideThisBinary("../userspace/shadowaid");
  options.cliBinary = shadowai::bench::besideThisBinary("../userspace/shadowai");
  CLI::App app{"Cost of enforce mode for a spliced (non-catalog) TLS connection, against a direct one (root only)"};
  app.add_option("--handshakes", options.handshakes, "timed handshakes per variant, over all rounds")
      ->check(CLI::Range(100, 50'000));
  app.add_option("--rounds", options.rounds, "interleaved handshake rounds")->check(CLI::Range(1, 20));
  app.add_option("--warmup", options.warmup, "untimed handshakes per variant first")->check(CLI::Range(1, 5'000));
  app.add_option("--bulk-mib", options.bulkMib, "MiB each way per variant, over all bulk rounds")
      ->check(CLI::Range(16, 8192));
  app.add_option("--bulk-rounds", options.bulkRounds, "interleaved bulk rounds")->check(CLI::Range(1, 16));
  app.add_option("--idle", options.idle, "idle spliced connections for the memory figure (0: skip)")
      ->check(CLI::Range(0, 9'000));
  app.add_option("--proxy-threads", options.proxyThreads, "the daemon's proxy threads (0: its default, one per CPU)")
      ->check(CLI::Range(0u, 64u));
  app.add_option("--daemon-nofile", options.daemonOpenFiles,
                 "RLIMIT_NOFILE (soft and hard) the daemon is started with (0: the benchmark's hard limit)")
      ->check(CLI::Range(rlim_t{0}, rlim_t{1'048'576}));
  app.add_option("--daemon", options.daemonBinary, "shadowaid binary")->capture_default_str();
  app.add_option("--cli", options.cliBinary, "shadowai binary")->capture_default_str();
  app.add_flag("--json", options.json, "print the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  if (options.handshakes / options.rounds > static_cast<int>(shadowai::bench::kMaxSamplesPerRequest)) {
    std::fprintf(stderr, "splice_bench: at most %u handshakes per round\n", shadowai::bench::kMaxSamplesPerRequest);
    return 1;
  }
  return shadowai::bench::run(options);
}
