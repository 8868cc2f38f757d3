// ControlServer: shadowaid's control socket. Listens on a Unix stream socket, lets in root and members
// of the control group (checked per connection with the kernel's peer credentials, on top of the
// socket file's 0660 root:GROUP), parses newline-delimited JSON requests, resolves their target cgroup
// and hands them to the daemon's ControlHandler.
//
// It runs its own Boost.Asio io_context on its own thread; the handler is called on that thread, one
// request at a time, so it sees requests in order and needs no locking against other requests.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "control/control_handler.h"

namespace shadowai {

struct ControlServerOptions {
  std::string socketPath;                  // its parent directory is created (0755) when missing
  std::optional<std::string> controlGroup;  // nullopt, or no group of that name: root only
  std::string cgroup2Root;                 // the cgroup v2 mount point; empty: found from mountinfo
  std::string governedCgroup = "/";        // set_mode outside this subtree is refused
  // A client must send a complete request line within this long (and read its reply), or it is
  // disconnected: one that connects and says nothing cannot hold a connection slot for ever.
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(5)};
  size_t maxConnections = 64;  // beyond this, new connections get an error reply and are closed
  // Told about refused peers and client errors, one line each (the daemon logs them). May be empty.
  std::function<void(std::string_view)> log;
};

class ControlServer {
 public:
  // Binds and starts serving. Fails with "another shadowaid is running on PATH" when a live daemon
  // holds the socket; a stale socket file (nobody answers) is replaced; anything else at PATH that is
  // not a socket is left alone and is an error. HANDLER must outlive the server.
  static Result<std::unique_ptr<ControlServer>> start(ControlServerOptions options, ControlHandler& handler);

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();

  // Closes every connection, joins the thread, removes the socket file. Idempotent; the destructor
  // calls it.
  void stop();

  const std::string& socketPath() const;

 private:
  class Impl;
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowai
