#include "control/control_server.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "cgroup/cgroup_fs.h"
#include "cgroup/cgroup_path.h"
#include "common/fd.h"
#include "control/control_protocol.h"
#include "control/unit_resolver.h"

namespace shadowai {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Local = asio::local::stream_protocol;
using Json = nlohmann::json;
using namespace asio::experimental::awaitable_operators;

constexpr size_t kMaxSocketPathBytes = sizeof(sockaddr_un::sun_path) - 1;

sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// Missing directories above the socket are created 0755: members of the control group must be able to
// reach the socket, which carries the access control itself.
Status createParentDirectory(const std::string& socketPath) {
  const fs::path parent = fs::path(socketPath).parent_path();
  std::error_code error;
  if (parent.empty() || fs::is_directory(parent, error)) return {};
  std::vector<fs::path> missing;
  for (fs::path directory = parent; !directory.empty() && !fs::exists(directory, error);
       directory = directory.parent_path()) {
    missing.push_back(directory);
    if (directory == directory.root_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;
      return errnoError("cannot create directory " + it->string());
    }
    ::chmod(it->c_str(), 0755);  // whatever the umask took away
  }
  return {};
}

// Held for the server's lifetime, so two daemons starting at once cannot both take over the socket
// path (the connect test below cannot see a rival that has not bound yet).
Result<Fd> lockSocketPath(const std::string& socketPath) {
  const std::string lockPath = socketPath + ".lock";
  Fd lock(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock) return errnoError("cannot open lock file " + lockPath);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return makeError("another shadowaid is running on " + socketPath);
    return errnoError("cannot lock " + lockPath);
  }
  return lock;
}

// A socket file left by a daemon that died is removed; one that answers belongs to a live daemon.
Status clearStaleSocket(const std::string& socketPath) {
  struct stat info {};
  if (::lstat(socketPath.c_str(), &info) != 0) {
    if (errno == ENOENT) return {};
    return errnoError("cannot inspect " + socketPath);
  }
  if (!S_ISSOCK(info.st_mode)) return makeError(socketPath + " exists and is not a socket; not touching it");
  Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe) return errnoError("cannot create a socket");
  const sockaddr_un address = unixAddress(socketPath);
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 ||
      errno == EAGAIN || errno == EINPROGRESS) {  // EAGAIN: a full backlog, alive but busy
    return makeError("another shadowaid is running on " + socketPath);
  }
  if (errno != ECONNREFUSED) return errnoError("cannot check whether a daemon answers on " + socketPath);
  if (::unlink(socketPath.c_str()) != 0 && errno != ENOENT) return errnoError("cannot remove stale " + socketPath);
  return {};
}

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

// Writes REPLY unless DEADLINE passes first; false when it was not written whole.
asio::awaitable<bool> writeReply(Local::socket& socket, asio::steady_timer& deadline, std::string reply) {
  auto written =
      co_await (asio::async_write(socket, asio::buffer(reply), kAwaitTuple) || deadline.async_wait(kAwaitTuple));
  co_return written.index() == 0 && !std::get<0>(std::get<0>(written));
}

// Keeps SOCKET in OPEN, where stop() finds the sockets to close, while its connection is served.
class OpenSocketEntry {
 public:
  OpenSocketEntry(std::unordered_set<Local::socket*>& open, Local::socket& socket) : open_(open), socket_(&socket) {
    open_.insert(socket_);
  }
  OpenSocketEntry(const OpenSocketEntry&) = delete;
  OpenSocketEntry& operator=(const OpenSocketEntry&) = delete;
  ~OpenSocketEntry() { open_.erase(socket_); }

 private:
  std::unordered_set<Local::socket*>& open_;
  Local::socket* socket_;
};

std::string whatOf(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& caught) {
    return caught.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

// The cgroup a set_mode request names, spelt as modes are keyed: relative to the cgroup v2 root.
Result<std::string> targetCgroupOf(const SetModeRequest& request, const std::string& cgroup2Root) {
  if (request.unit) return resolveUnitTarget(*request.unit, cgroup2Root);
  auto cgroup = resolveCgroup(cgroup2Root, *request.cgroup);
  if (!cgroup) return cgroup.error();
  return cgroup->relative;
}

}  // namespace

class ControlServer::Impl {
 public:
  Impl(ControlServerOptions options, ControlHandler& handler, ControlGroup group, Fd lock)
      : options_(std::move(options)), handler_(handler), group_(std::move(group)), lock_(std::move(lock)) {}

  ~Impl() { stop(); }

  Status listen();
  void startThread();
  void stop();
  const std::string& socketPath() const { return options_.socketPath; }

 private:
  asio::awaitable<void> acceptConnections();
  asio::awaitable<void> serve(Local::socket socket);
  std::string handleLine(const std::string& line, const PeerCredentials& peer);
  void log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  ControlServerOptions options_;
  ControlHandler& handler_;
  const ControlGroup group_;
  Fd lock_;

  // Io thread only: the sockets of the connections being served, so stop() can close them. Declared
  // before the io_context, whose destruction destroys any coroutine frame still holding one.
  std::unordered_set<Local::socket*> open_;
  asio::io_context context_;
  Local::acceptor acceptor_{context_};
  asio::steady_timer acceptRetry_{context_};
  std::thread thread_;

  std::mutex stopMutex_;
  bool stopped_ = false;
  bool bound_ = false;
  dev_t socketDevice_ = 0;
  ino_t socketInode_ = 0;
};

asio::awaitable<void> ControlServer::Impl::acceptConnections() {
  for (;;) {
    auto [error, socket] = co_await acceptor_.async_accept(kAwaitTuple);
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (error) {
      // EMFILE and friends: wait a little rather than spin; the connection stays in the backlog.
      log("control socket accept failed: " + error.message());
      acceptRetry_.expires_after(std::chrono::milliseconds(100));
      co_await acceptRetry_.async_wait(kAwaitTuple);
      continue;
    }
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    // A connection that throws (handleLine catches the handler's exceptions; this is for the rest)
    // costs that connection, not the control socket.
    asio::co_spawn(context_, serve(std::move(socket)), [this](const std::exception_ptr& failure) {
      if (failure) log("control connection failed: " + whatOf(failure));
    });
  }
}

// One client connection: peer check, then request lines answered in order. A request must arrive,
// and its reply be read, within the timeout, which starts again after each reply: a client that
// connects and says nothing cannot hold a connection slot for ever.
asio::awaitable<void> ControlServer::Impl::serve(Local::socket socket) {
  const OpenSocketEntry entry(open_, socket);
  asio::steady_timer deadline(context_);
  deadline.expires_after(options_.requestTimeout);

  auto peer = peerCredentialsOf(socket.native_handle());
  std::string refusal = peer ? refusalReason(*peer, group_) : peer.error().describe();
  if (peer && !refusal.empty()) log("refused control connection: " + refusal);
  if (refusal.empty() && open_.size() > options_.maxConnections) refusal = "too many control connections; try again";
  if (!refusal.empty()) {
    co_await writeReply(socket, deadline, encodeErrorReply(refusal));
    co_return;
  }

  ControlLineBuffer lines;
  std::array<char, 4096> buffer{};
  for (;;) {
    if (auto line = lines.takeLine()) {
      if (!co_await writeReply(socket, deadline, handleLine(*line, *peer))) co_return;
      deadline.expires_after(options_.requestTimeout);
      continue;
    }
    if (lines.overflowed()) {
      co_await writeReply(socket, deadline,
                          encodeErrorReply("request too large (limit " + std::to_string(kMaxControlLineBytes) + " bytes)"));
      co_return;
    }
    auto got = co_await (socket.async_read_some(asio::buffer(buffer), kAwaitTuple) || deadline.async_wait(kAwaitTuple));
    if (got.index() == 1) co_return;  // the deadline passed: closed without a reply
    auto [error, size] = std::get<0>(got);
    if (error) co_return;
    lines.append(std::string_view(buffer.data(), size));
  }
}

Status ControlServer::Impl::listen() {
  const std::string& path = options_.socketPath;
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errnoError("cannot create the control socket");
  const sockaddr_un address = unixAddress(path);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return errnoError("cannot bind the control socket " + path);
  }
  bound_ = true;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return errnoError("cannot inspect " + path);
  socketDevice_ = info.st_dev;
  socketInode_ = info.st_ino;
  // Until these two calls the socket has the umask's mode; that window is covered by the peer check.
  if (group_.gid && ::chown(path.c_str(), static_cast<uid_t>(-1), *group_.gid) != 0) {
    return errnoError("cannot give " + path + " to group " + group_.name);
  }
  if (::chmod(path.c_str(), group_.gid ? 0660 : 0600) != 0) return errnoError("cannot set the mode of " + path);
  if (::listen(fd.get(), SOMAXCONN) != 0) return errnoError("cannot listen on " + path);
  boost::system::error_code error;
  acceptor_.assign(Local(), fd.get(), error);
  if (error) return makeError("cannot listen on " + path + ": " + error.message());
  fd.release();
  return {};
}

void ControlServer::Impl::startThread() {
  asio::co_spawn(context_, acceptConnections(), [this](const std::exception_ptr& error) {
    if (error) log("control socket stopped accepting: " + whatOf(error));
  });
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "shadowai-ctl");
    context_.run();
  });
}

std::string ControlServer::Impl::handleLine(const std::string& line, const PeerCredentials& peer) {
  auto request = parseControlRequest(line);
  if (!request) {
    log("bad control request from uid " + std::to_string(peer.uid) + ": " + request.error().message);
    return encodeErrorReply(request.error().message);
  }
  try {
    if (std::holds_alternative<StatusRequest>(*request)) return encodeOkReply({{"status", handler_.status()}});
    if (std::holds_alternative<ReloadPolicyRequest>(*request)) {
      auto reloaded = handler_.reloadPolicy(peer);
      if (!reloaded) return encodeErrorReply(reloaded.error().describe());
      return encodeOkReply(*reloaded);
    }

    const SetModeRequest& setMode = std::get<SetModeRequest>(*request);
    auto path = targetCgroupOf(setMode, options_.cgroup2Root);
    if (!path) return encodeErrorReply(path.error().describe());
    if (!isCgroupPathWithin(*path, options_.governedCgroup)) {
      return encodeErrorReply("cgroup " + *path + " is outside the subtree shadowaid governs (" +
                              options_.governedCgroup + ")");
    }
    auto applied = handler_.setMode(*path, setMode.mode, peer);
    if (!applied) return encodeErrorReply(applied.error().describe());
    Json fields = {{"cgroup", *path}, {"mode", modeArgumentText(setMode.mode)}};
    if (setMode.unit) fields["unit"] = *setMode.unit;
    if (applied->is_object()) {
      for (const auto& [key, value] : applied->items()) {
        if (!fields.contains(key)) fields[key] = value;
      }
    }
    return encodeOkReply(fields);
  } catch (const std::exception& error) {
    // The handler is the daemon's code; a bug there must cost one request, not the control thread.
    log(std::string("control request failed: ") + error.what());
    return encodeErrorReply(std::string("internal error: ") + error.what());
  }
}

void ControlServer::Impl::stop() {
  std::lock_guard lock(stopMutex_);
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    // Closing everything on the io thread lets every pending operation finish with an error; run()
    // returns once none is left, with every connection gone.
    asio::post(context_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      acceptRetry_.cancel();
      // Their coroutines see the error and end (erasing themselves from open_ later, not here).
      for (Local::socket* socket : open_) socket->close(ignored);
    });
    thread_.join();
  }
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  // Only our own socket file: never one a later daemon put there.
  struct stat info {};
  if (bound_ && ::lstat(options_.socketPath.c_str(), &info) == 0 && info.st_dev == socketDevice_ &&
      info.st_ino == socketInode_) {
    ::unlink(options_.socketPath.c_str());
  }
  lock_.reset();
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(ControlServerOptions options, ControlHandler& handler) {
  const std::string path = options.socketPath;
  if (path.empty() || path.front() != '/') return makeError("the control socket needs an absolute path");
  if (path.size() > kMaxSocketPathBytes) {
    return makeError("control socket path too long (at most " + std::to_string(kMaxSocketPathBytes) +
                     " bytes): " + path);
  }
  if (!isCanonicalCgroupPath(options.governedCgroup)) {
    return makeError("bad governed cgroup " + options.governedCgroup);
  }
  if (options.cgroup2Root.empty()) {
    auto root = findCgroup2Mount();
    if (!root) return root.error();
    options.cgroup2Root = *root;
  }
  if (auto created = createParentDirectory(path); !created) return created.error();
  auto lock = lockSocketPath(path);
  if (!lock) return lock.error();
  if (auto cleared = clearStaleSocket(path); !cleared) return cleared.error();

  ControlGroup group = lookUpControlGroup(options.controlGroup);
  if (options.controlGroup && !group.gid && options.log) {
    options.log("control group " + *options.controlGroup + " does not exist: the control socket is for root only");
  }
  auto impl = std::make_unique<Impl>(std::move(options), handler, std::move(group), std::move(*lock));
  if (auto listening = impl->listen(); !listening) return listening.error();
  impl->startThread();
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() { impl_->stop(); }

const std::string& ControlServer::socketPath() const { return impl_->socketPath(); }

}  // namespace shadowai
