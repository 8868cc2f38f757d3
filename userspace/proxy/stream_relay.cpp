#include "proxy/stream_relay.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/proxy_sockets.h"

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
// A sender that is always ahead of us would keep one pump reading forever; after this many reads
// in a row without waiting, it lets the other connections of the thread have a turn.
constexpr unsigned kReadsPerTurn = 16;

bool wouldBlock(const boost::system::error_code& error) {
  return error == asio::error::would_block || error == asio::error::try_again;
}

}  // namespace

void StreamRelay::start(tcp::socket client, tcp::socket upstream, std::vector<uint8_t> firstUpstreamBytes,
                        RelaySettings settings, ConnectionSlot slot) {
  std::shared_ptr<StreamRelay> relay(new StreamRelay(std::move(client), std::move(upstream),
                                                     std::move(firstUpstreamBytes), settings, std::move(slot)));
  auto executor = relay->client_.get_executor();
  // Errors come back as values inside the coroutines; an exception here can only be bad_alloc,
  // and the frame that owned the relay is gone with it, which closes both sockets.
  auto ignore = [](const std::exception_ptr&) {};
  // Each coroutine holds the relay through its own parameter, taken when the coroutine is created:
  // they first run after this function has returned.
  asio::co_spawn(executor, relay->pump(relay, Direction::kUp), ignore);
  asio::co_spawn(executor, relay->pump(relay, Direction::kDown), ignore);
  asio::co_spawn(executor, relay->watchIdle(relay), ignore);
}

StreamRelay::StreamRelay(tcp::socket client, tcp::socket upstream, std::vector<uint8_t> firstUpstreamBytes,
                         RelaySettings settings, ConnectionSlot slot)
    : client_(std::move(client)),
      upstream_(std::move(upstream)),
      firstUpstreamBytes_(std::move(firstUpstreamBytes)),
      settings_(settings),
      slot_(std::move(slot)),
      idleTimer_(client_.get_executor()) {
  boost::system::error_code ignored;
  // The pumps read speculatively and wait only on would_block.
  client_.non_blocking(true, ignored);
  upstream_.non_blocking(true, ignored);
  touch();
}

StreamRelay::~StreamRelay() {
  // Destroyed while a direction still ran: the proxy is stopping (its io_context is going away).
  // A reset tells both ends the stream was cut, where a plain close could pass for its end.
  if (pumpsRunning_ > 0 && !closing_) {
    resetAndClose(client_);
    resetAndClose(upstream_);
  }
}

asio::awaitable<void> StreamRelay::pump([[maybe_unused]] std::shared_ptr<StreamRelay> self, Direction direction) {
  co_await copyOneWay(direction);
  // Not reached when the io_context destroys the coroutine mid-way: the destructor sees then
  // that a direction was still running.
  if (--pumpsRunning_ == 0) idleTimer_.cancel();
}

asio::awaitable<void> StreamRelay::copyOneWay(Direction direction) {
  tcp::socket& from = direction == Direction::kUp ? client_ : upstream_;
  tcp::socket& to = direction == Direction::kUp ? upstream_ : client_;
  std::atomic<uint64_t>& bytesMoved =
      direction == Direction::kUp ? settings_.counters->bytesUp : settings_.counters->bytesDown;
  const std::span<uint8_t> scratch = settings_.scratch;

  if (direction == Direction::kUp && !firstUpstreamBytes_.empty()) {
    auto [error, written] = co_await asio::async_write(to, asio::buffer(firstUpstreamBytes_), kAwaitTuple);
    if (error) {
      fail();
      co_return;
    }
    bump(bytesMoved, written);
    touch();
    std::vector<uint8_t>().swap(firstUpstreamBytes_);
  }

  unsigned readsInARow = 0;
  for (;;) {
    if (closing_) co_return;
    boost::system::error_code error;
    const size_t got = from.read_some(asio::buffer(scratch.data(), scratch.size()), error);
    if (wouldBlock(error)) {
      readsInARow = 0;
      auto [waitError] = co_await from.async_wait(tcp::socket::wait_read, kAwaitTuple);
      if (waitError) {
        if (!closing_) fail();
        co_return;
      }
      continue;
    }
    if (error == asio::error::eof) {
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (error) {
      fail();
      co_return;
    }
    touch();
    bump(bytesMoved, got);

    size_t sent = to.write_some(asio::buffer(scratch.data(), got), error);
    if (wouldBlock(error)) {
      sent = 0;
      error = {};
    }
    if (error) {
      fail();
      co_return;
    }
    if (sent < got) {
      // The scratch buffer is the thread's: what is left must move out of it before we suspend.
      std::vector<uint8_t> rest(scratch.begin() + static_cast<ptrdiff_t>(sent),
                                scratch.begin() + static_cast<ptrdiff_t>(got));
      auto [writeError, written] = co_await asio::async_write(to, asio::buffer(rest), kAwaitTuple);
      if (writeError) {
        if (!closing_) fail();
        co_return;
      }
      touch();
      readsInARow = 0;
    } else if (++readsInARow >= kReadsPerTurn) {
      readsInARow = 0;
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
  }
}

asio::awaitable<void> StreamRelay::watchIdle([[maybe_unused]] std::shared_ptr<StreamRelay> self) {
  while (pumpsRunning_ > 0 && !closing_) {
    idleTimer_.expires_at(lastActivity_ + settings_.idleTimeout);
    co_await idleTimer_.async_wait(kAwaitTuple);
    if (pumpsRunning_ == 0 || closing_) break;
    if (std::chrono::steady_clock::now() - lastActivity_ >= settings_.idleTimeout) {
      closing_ = true;
      bump(settings_.counters->idleTimeouts);
      // A plain close: for a pooled HTTP connection an idle close is routine, not an error.
      boost::system::error_code ignored;
      client_.close(ignored);
      upstream_.close(ignored);
      break;
    }
  }
}

void StreamRelay::fail() {
  if (closing_) return;
  closing_ = true;
  bump(settings_.counters->relayErrors);
  resetAndClose(client_);
  resetAndClose(upstream_);
  idleTimer_.cancel();
}

}  // namespace shadowai
