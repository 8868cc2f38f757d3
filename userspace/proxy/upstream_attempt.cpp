#include "proxy/upstream_attempt.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/proxy_sockets.h"

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

UpstreamAttempt startUpstreamConnect(const asio::any_io_executor& executor, const tcp::endpoint& destination,
                                     uint32_t mark, const NetworkNamespace* netns) {
  UpstreamAttempt attempt;
  auto opened = openUpstreamSocket(executor, destination, mark, netns);
  if (!opened) {
    attempt.failure = opened.error().describe();
    return attempt;
  }
  attempt.socket.emplace(std::move(*opened));
  boost::system::error_code error;
  attempt.socket->non_blocking(true, error);
  if (!error) attempt.socket->connect(destination, error);
  if (error && error != asio::error::in_progress && error != asio::error::would_block) attempt.failure = error.message();
  return attempt;
}

asio::awaitable<UpstreamAttemptOutcome> finishUpstreamConnect(UpstreamAttempt& attempt, asio::steady_timer& timer) {
  constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
  UpstreamAttemptOutcome outcome;
  if (!attempt.failure.empty() || !attempt.socket) {
    outcome.failure = attempt.failure.empty() ? "no socket" : attempt.failure;
    co_return outcome;
  }
  tcp::socket& socket = *attempt.socket;
  auto woken = co_await (socket.async_wait(tcp::socket::wait_write, kAwaitTuple) || timer.async_wait(kAwaitTuple));
  if (woken.index() == 1) {
    outcome.timedOut = true;
    outcome.failure = "no answer within the connect timeout";
    co_return outcome;
  }
  if (auto error = std::get<0>(std::get<0>(woken))) {
    outcome.failure = error.message();
    co_return outcome;
  }
  // Writable means the connect finished, one way or the other: SO_ERROR says which.
  asio::detail::socket_option::integer<SOL_SOCKET, SO_ERROR> pending;
  boost::system::error_code error;
  socket.get_option(pending, error);
  if (error) {
    outcome.failure = error.message();
  } else if (pending.value() != 0) {
    outcome.failure = boost::system::error_code(pending.value(), boost::system::system_category()).message();
  } else {
    outcome.connected = true;
  }
  co_return outcome;
}

}  // namespace shadowai
