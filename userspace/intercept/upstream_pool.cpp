#include "intercept/upstream_pool.h"

#include "proxy/proxy_sockets.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

namespace shadowai {

namespace asio = boost::asio;
namespace beast = boost::beast;
using Clock = std::chrono::steady_clock;

namespace {

// Whether CONNECTION can carry another request: nothing unread on it and the server has not
// closed it. An idle HTTP/1.1 server says nothing until asked, so any byte waiting (most often
// its close_notify) or an end of stream means it is done with us. Checked without blocking: the
// TLS records OpenSSL already holds, then a peek at the socket.
bool isQuietAndOpen(UpstreamConnection& connection) {
  if (connection.buffer.size() != 0) return false;
  SSL* ssl = connection.stream.native_handle();
  if (SSL_get_shutdown(ssl) != 0) return false;
  if (SSL_pending(ssl) > 0 || BIO_pending(SSL_get_rbio(ssl)) > 0) return false;
  auto& socket = beast::get_lowest_layer(connection.stream).socket();
  if (!socket.is_open()) return false;
  char byte;
  const ssize_t peeked = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

UpstreamPool::UpstreamPool(asio::any_io_executor executor, std::shared_ptr<asio::ssl::context> context,
                           UpstreamPoolOptions options)
    : executor_(std::move(executor)), context_(std::move(context)), options_(options) {}

asio::awaitable<UpstreamConnectResult> UpstreamPool::acquire(UpstreamKey key,
                                                            std::optional<asio::ip::tcp::socket> startedConnect) {
  sweepExpired(Clock::now());
  if (auto found = idle_.find(key); found != idle_.end()) {
    IdleList& list = found->second;
    std::unique_ptr<UpstreamConnection> usable;
    // Newest first: the one least likely to have hit the server's keep-alive limit.
    while (!list.empty() && !usable) {
      std::unique_ptr<UpstreamConnection> candidate = std::move(list.back());
      list.pop_back();
      --idleTotal_;
      if (isQuietAndOpen(*candidate)) usable = std::move(candidate);
    }
    if (list.empty()) idle_.erase(found);
    if (usable) {
      usable->reused = true;
      if (startedConnect) resetAndClose(*startedConnect);  // not needed after all
      co_return std::move(usable);
    }
  }
  co_return co_await connectUpstream(executor_, *context_, std::move(key), options_.connect, std::move(startedConnect));
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  const Clock::time_point now = Clock::now();
  sweepExpired(now);
  if (!connection || options_.maxIdlePerKey == 0 || options_.maxIdleTotal == 0) return;
  if (!isQuietAndOpen(*connection)) return;
  // A deadline the holder left would otherwise fire on the next holder's first operation.
  beast::get_lowest_layer(connection->stream).expires_never();
  connection->idleSince = now;
  IdleList& list = idle_[connection->key];
  if (list.size() >= options_.maxIdlePerKey) {
    list.pop_front();
    --idleTotal_;
  }
  list.push_back(std::move(connection));
  ++idleTotal_;
  while (idleTotal_ > options_.maxIdleTotal) dropOldest();
}

void UpstreamPool::sweepExpired(Clock::time_point now) {
  for (auto entry = idle_.begin(); entry != idle_.end();) {
    IdleList& list = entry->second;
    while (!list.empty() && now - list.front()->idleSince >= options_.idleTimeout) {
      list.pop_front();
      --idleTotal_;
    }
    entry = list.empty() ? idle_.erase(entry) : std::next(entry);
  }
}

void UpstreamPool::dropOldest() {
  auto oldest = idle_.end();
  for (auto entry = idle_.begin(); entry != idle_.end(); ++entry) {
    if (oldest == idle_.end() || entry->second.front()->idleSince < oldest->second.front()->idleSince) {
      oldest = entry;
    }
  }
  if (oldest == idle_.end()) return;
  oldest->second.pop_front();
  --idleTotal_;
  if (oldest->second.empty()) idle_.erase(oldest);
}

}  // namespace shadowai
