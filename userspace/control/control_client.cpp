#include "control/control_client.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <vector>

#include "common/fd.h"

namespace shadowai {
namespace {

using Clock = std::chrono::steady_clock;

// "run as root or as a member of group G", G being the group that owns the socket file.
std::string whoMayConnect(const std::string& socketPath) {
  struct stat info {};
  if (::stat(socketPath.c_str(), &info) != 0) return "run as root or as a member of shadowaid's control group";
  if (info.st_gid == 0) return "run as root";
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  if (::getgrgid_r(info.st_gid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return std::string("run as root or as a member of group ") + found->gr_name;
  }
  return "run as root or as a member of group " + std::to_string(info.st_gid);
}

Error connectError(const std::string& socketPath, int errnum) {
  switch (errnum) {
    case ENOENT:
      return makeError("shadowaid is not running (no control socket at " + socketPath + ")");
    case ECONNREFUSED:
      return makeError("shadowaid is not running (nothing answers on " + socketPath + ")");
    case EACCES:
    case EPERM:
      return makeError("permission denied: cannot connect to " + socketPath + " (" + whoMayConnect(socketPath) + ")");
    default:
      return makeError("cannot connect to shadowaid on " + socketPath, errnum);
  }
}

std::string timedOut(std::chrono::milliseconds timeout) {
  const auto count = timeout.count();
  const std::string text = count % 1000 == 0 ? std::to_string(count / 1000) + "s" : std::to_string(count) + "ms";
  return "shadowaid did not answer within " + text;
}

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until FD is ready for EVENTS or the deadline passes.
Status waitFor(int fd, short events, Clock::time_point deadline, std::chrono::milliseconds timeout) {
  for (;;) {
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, remainingMs(deadline));
    if (ready > 0) return {};
    if (ready == 0) {
      return makeError(timedOut(timeout));
    }
    if (errno != EINTR) return errnoError("cannot wait for shadowaid");
  }
}

}  // namespace

Result<nlohmann::json> sendControlRequest(const std::string& socketPath, const ControlRequest& request,
                                          std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  if (socketPath.size() >= sizeof(address.sun_path)) return makeError("control socket path too long: " + socketPath);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socketPath.data(), socketPath.size());

  const auto deadline = Clock::now() + timeout;
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errnoError("cannot create a socket");
  // A Unix connect waits while the daemon's backlog is full, bounded by the send timeout; the rest of
  // the exchange is non-blocking with poll against the same deadline.
  timeval sendTimeout{};
  sendTimeout.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  sendTimeout.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, sizeof(sendTimeout));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno == EAGAIN || errno == EINPROGRESS) {
      return makeError(timedOut(timeout));
    }
    return connectError(socketPath, errno);
  }
  if (::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK) != 0) {
    return errnoError("cannot make the control socket non-blocking");
  }

  const std::string line = encodeControlRequest(request);
  if (line.size() > kMaxControlLineBytes) return makeError("request too large for the control protocol");
  size_t sent = 0;
  while (sent < line.size()) {
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (auto ready = waitFor(fd.get(), POLLOUT, deadline, timeout); !ready) return ready.error();
      continue;
    }
    // The daemon may have refused us and closed before reading: its reply explains why.
    if (errno == EPIPE || errno == ECONNRESET) break;
    return errnoError("cannot send the request to shadowaid");
  }

  ControlLineBuffer lines;
  char buffer[4096];
  for (;;) {
    if (auto reply = lines.takeLine()) return parseControlReply(*reply);
    if (lines.overflowed()) return makeError("shadowaid sent a reply longer than the protocol allows");
    ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n > 0) {
      lines.append(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) return makeError("shadowaid closed the connection without a reply");
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (auto ready = waitFor(fd.get(), POLLIN, deadline, timeout); !ready) return ready.error();
      continue;
    }
    if (errno == ECONNRESET) return makeError("shadowaid closed the connection without a reply");
    return errnoError("cannot read shadowaid's reply");
  }
}

}  // namespace shadowai
