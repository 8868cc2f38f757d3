#include "proxy/accept_loop.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(10);
constexpr auto kLongestBackoff = std::chrono::milliseconds(1000);

}  // namespace

asio::awaitable<void> acceptConnections(tcp::acceptor& acceptor, ProxyContext& context,
                                        std::function<void(tcp::socket)> admit) {
  asio::steady_timer backoff(acceptor.get_executor());
  auto delay = kFirstBackoff;
  for (;;) {
    bool backOff = false;
    try {
      auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (error) {
        bump(context.counters().acceptErrors);
        backOff = error != asio::error::connection_aborted;  // the client gave up; nothing is stuck
      } else {
        delay = kFirstBackoff;
        admit(std::move(socket));
      }
    } catch (...) {
      context.escapedExceptions().report("accepting a connection", std::current_exception());
      backOff = true;
    }
    if (!backOff) continue;
    backoff.expires_after(delay);
    co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
    delay = std::min(delay * 2, kLongestBackoff);
  }
}

}  // namespace shadowai
