#include "control/control_server.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
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
  class Connection;

  void acceptNext();
  std::string handleLine(const std::string& line, const PeerCredentials& peer);
  void log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  ControlServerOptions options_;
  ControlHandler& handler_;
  const ControlGroup group_;
  Fd lock_;

  asio::io_context context_;
  Local::acceptor acceptor_{context_};
  asio::steady_timer acceptRetry_{context_};
  std::thread thread_;
  // Io thread only: the open connections, so stop() can close them.
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;

  std::mutex stopMutex_;
  bool stopped_ = false;
  bool bound_ = false;
  dev_t socketDevice_ = 0;
  ino_t socketInode_ = 0;
};

// One client connection: peer check, then request lines answered in order, each within the timeout.
class ControlServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, Local::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(server.context_) {}
  ~Connection() { server_.connections_.erase(this); }

  void start() {
    server_.connections_.emplace(this, weak_from_this());
    armTimer();
    auto peer = peerCredentialsOf(socket_.native_handle());
    if (!peer) {
      sendAndClose(encodeErrorReply(peer.error().describe()));
      return;
    }
    peer_ = std::move(*peer);
    if (std::string reason = refusalReason(peer_, server_.group_); !reason.empty()) {
      server_.log("refused control connection: " + reason);
      sendAndClose(encodeErrorReply(reason));
      return;
    }
    if (server_.connections_.size() > server_.options_.maxConnections) {
      sendAndClose(encodeErrorReply("too many control connections; try again"));
      return;
    }
    processBuffered();
  }

  void close() {
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void armTimer() {
    timer_.expires_after(server_.options_.requestTimeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (!error) self->close();  // cancelled (re-armed or closed) otherwise
    });
  }

  void readMore() {
    socket_.async_read_some(asio::buffer(readBuffer_),
                            [self = shared_from_this()](const boost::system::error_code& error, size_t size) {
                              if (error) {
                                self->close();
                                return;
                              }
                              self->lines_.append(std::string_view(self->readBuffer_.data(), size));
                              self->processBuffered();
                            });
  }

  void processBuffered() {
    if (auto line = lines_.takeLine()) {
      write(server_.handleLine(*line, peer_), true);
    } else if (lines_.overflowed()) {
      sendAndClose(encodeErrorReply("request too large (limit " + std::to_string(kMaxControlLineBytes) + " bytes)"));
    } else {
      readMore();
    }
  }

  void sendAndClose(std::string reply) { write(std::move(reply), false); }

  void write(std::string reply, bool keepOpen) {
    reply_ = std::move(reply);
    asio::async_write(socket_, asio::buffer(reply_),
                      [self = shared_from_this(), keepOpen](const boost::system::error_code& error, size_t) {
                        if (error || !keepOpen) {
                          self->close();
                          return;
                        }
                        self->armTimer();
                        self->processBuffered();
                      });
  }

  Impl& server_;
  Local::socket socket_;
  asio::steady_timer timer_;
  PeerCredentials peer_;
  ControlLineBuffer lines_;
  std::array<char, 4096> readBuffer_{};
  std::string reply_;
};

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
  acceptNext();
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "shadowai-ctl");
    context_.run();
  });
}

void ControlServer::Impl::acceptNext() {
  acceptor_.async_accept([this](const boost::system::error_code& error, Local::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (error) {
      // EMFILE and friends: wait a little rather than spin; the connection stays in the backlog.
      log("control socket accept failed: " + error.message());
      acceptRetry_.expires_after(std::chrono::milliseconds(100));
      acceptRetry_.async_wait([this](const boost::system::error_code& waitError) {
        if (!waitError && acceptor_.is_open()) acceptNext();
      });
      return;
    }
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    std::make_shared<Connection>(*this, std::move(socket))->start();
    acceptNext();
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
      // Hold them all first: a connection whose last reference goes away erases itself from the map.
      std::vector<std::shared_ptr<Connection>> open;
      for (auto& [raw, weak] : connections_) {
        if (auto connection = weak.lock()) open.push_back(std::move(connection));
      }
      for (auto& connection : open) connection->close();
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
