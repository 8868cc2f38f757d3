// NetworkNamespace: a handle on a network namespace other than the daemon's own (a container's), so
// the proxy can open sockets inside it.
//
// Why: enforce mode rewrites a workload's connect to the proxy's loopback address *in the workload's
// network namespace*. For a container with its own network that loopback is not the host's, so the
// proxy needs a listener there, and its upstream connections should leave from there too (so the
// container's network policy and routes still apply to them). A socket belongs to the namespace it
// was created in for its whole life: only socket() itself needs to run inside, which
// openSocket() does by moving the calling thread in with setns(2) and back. That needs
// CAP_SYS_ADMIN (in the namespace's owning user namespace).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/fd.h"
#include "common/result.h"

namespace shadowai {

class NetworkNamespace {
 public:
  // The namespace PID is in, held open (the handle keeps it alive after PID exits).
  static Result<std::shared_ptr<const NetworkNamespace>> ofProcess(pid_t pid);
  // The inode of PID's network namespace (what `lsns -t net` and /proc/PID/ns/net show), without
  // opening it: cheap enough to ask of every enforced process each second.
  static Result<uint64_t> inodeOfProcess(pid_t pid);
  // The calling process's own.
  static Result<uint64_t> ownInode();
  // The kernel's cookie of the namespace SOCKET_FD was opened in (SO_NETNS_COOKIE, Linux 5.14): how
  // BPF programs name a namespace (bpf_get_netns_cookie()).
  static Result<uint64_t> cookieOfSocket(int socketFd);
  // The calling thread's own namespace's cookie.
  static Result<uint64_t> ownCookie();

  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  uint64_t inode() const { return inode_; }
  // This namespace's cookie (see cookieOfSocket()); opens a socket inside to read it.
  Result<uint64_t> cookie() const;
  // "net:[4026532291]", as the kernel names it in /proc/PID/ns/net.
  std::string describe() const;

  // socket(DOMAIN, TYPE | SOCK_CLOEXEC, PROTOCOL) inside this namespace. Runs on the calling thread,
  // which is back in its own namespace when this returns (if it cannot get back the process aborts:
  // a proxy thread left in a workload's namespace would open the wrong sockets from then on).
  Result<Fd> openSocket(int domain, int type, int protocol = 0) const;

 private:
  NetworkNamespace(Fd fd, uint64_t inode) : fd_(std::move(fd)), inode_(inode) {}

  Fd fd_;
  uint64_t inode_;
};

}  // namespace shadowai
