// UpstreamPool: keeps verified upstream connections open between requests, so a workload's next
// call skips the TCP and TLS handshakes. One per proxy worker thread (one io_context each), so it
// takes no locks; a connection never moves between workers.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <unordered_map>

#include "intercept/upstream_connect.h"

namespace shadowai {

struct UpstreamPoolOptions {
  UpstreamConnectSettings connect;
  // As many as a busy workload keeps in flight: a pool smaller than the concurrency closes
  // connections it needs again a moment later, and each costs a TCP and TLS handshake.
  size_t maxIdlePerKey = 64;
  size_t maxIdleTotal = 256;
  // Shorter than the usual server-side keep-alive, so we rarely pick a connection the server is
  // about to close.
  std::chrono::milliseconds idleTimeout{60'000};
};

class UpstreamPool {
 public:
  UpstreamPool(boost::asio::any_io_executor executor, std::shared_ptr<boost::asio::ssl::context> context,
               UpstreamPoolOptions options);
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // The most recently released idle connection for KEY that the server has not closed, else a
  // new one (see connectUpstream). The pool must outlive the returned awaitable.
  // STARTED_CONNECT (optional): a connect to KEY's address already under way, used for the new
  // connection if one is needed, reset otherwise.
  boost::asio::awaitable<UpstreamConnectResult> acquire(
      UpstreamKey key, std::optional<boost::asio::ip::tcp::socket> startedConnect = std::nullopt);

  // Takes a connection back after a complete response on a connection both sides keep alive. It is
  // closed instead when it cannot serve another request (closed, unread bytes) or the pool is full.
  // (So one released before any request is usually closed too: the server's TLS 1.3 session
  // tickets are still unread on it.)
  void release(std::unique_ptr<UpstreamConnection> connection);

  size_t idleCount() const { return idleTotal_; }

 private:
  using IdleList = std::deque<std::unique_ptr<UpstreamConnection>>;  // oldest first

  // Closes connections idle for longer than idleTimeout.
  void sweepExpired(std::chrono::steady_clock::time_point now);
  // Closes the connection idle the longest, of any key.
  void dropOldest();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  UpstreamPoolOptions options_;
  std::unordered_map<UpstreamKey, IdleList, UpstreamKeyHash> idle_;
  size_t idleTotal_ = 0;
};

}  // namespace shadowai
