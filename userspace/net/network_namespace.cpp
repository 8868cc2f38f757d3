#include "net/network_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace shadowai {
namespace {

std::string namespacePath(pid_t pid) { return "/proc/" + std::to_string(pid) + "/ns/net"; }

Result<uint64_t> inodeOfPath(const std::string& path) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0) return errnoError("cannot read " + path);
  return static_cast<uint64_t>(info.st_ino);
}

// The namespace this thread came from, opened the first time the thread leaves it. setns() of a
// network namespace moves only the calling thread, so each thread remembers its own.
int homeNamespaceOfThisThread() {
  thread_local Fd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  return home.get();
}

}  // namespace

Result<std::shared_ptr<const NetworkNamespace>> NetworkNamespace::ofProcess(pid_t pid) {
  const std::string path = namespacePath(pid);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errnoError("cannot open " + path);
  struct stat info{};
  if (::fstat(fd.get(), &info) != 0) return errnoError("cannot read " + path);
  return std::shared_ptr<const NetworkNamespace>(new NetworkNamespace(std::move(fd), info.st_ino));
}

Result<uint64_t> NetworkNamespace::inodeOfProcess(pid_t pid) { return inodeOfPath(namespacePath(pid)); }

Result<uint64_t> NetworkNamespace::ownInode() { return inodeOfPath("/proc/thread-self/ns/net"); }

Result<uint64_t> NetworkNamespace::cookieOfSocket(int socketFd) {
  uint64_t cookie = 0;
  socklen_t length = sizeof(cookie);
  if (::getsockopt(socketFd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &length) != 0) {
    return errnoError("cannot read a network namespace's cookie (SO_NETNS_COOKIE needs Linux 5.14)");
  }
  return cookie;
}

Result<uint64_t> NetworkNamespace::ownCookie() {
  Fd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket) return errnoError("cannot open a socket");
  return cookieOfSocket(socket.get());
}

Result<uint64_t> NetworkNamespace::cookie() const {
  auto socket = openSocket(AF_INET, SOCK_DGRAM);
  if (!socket) return socket.error();
  return cookieOfSocket(socket->get());
}

std::string NetworkNamespace::describe() const { return "net:[" + std::to_string(inode_) + "]"; }

Result<Fd> NetworkNamespace::openSocket(int domain, int type, int protocol) const {
  const int home = homeNamespaceOfThisThread();
  if (home < 0) return errnoError("cannot open this thread's own network namespace");
  if (::setns(fd_.get(), CLONE_NEWNET) != 0) {
    const int error = errno;
    return makeError("cannot enter network namespace " + describe() + ": " + std::strerror(error) +
                         (error == EPERM ? " (needs CAP_SYS_ADMIN)" : ""),
                     error);
  }
  Fd socket(::socket(domain, type | SOCK_CLOEXEC, protocol));
  const int socketError = errno;
  if (::setns(home, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "shadowaid: cannot return to its own network namespace from %s: %s\n", describe().c_str(),
                 std::strerror(errno));
    std::abort();
  }
  if (!socket) {
    return makeError("cannot open a socket in network namespace " + describe() + ": " + std::strerror(socketError),
                     socketError);
  }
  return socket;
}

}  // namespace shadowai
