// ProxyWorker: one thread of the proxy with its own io_context, its own listeners (one per listen
// address, all in SO_REUSEPORT groups with the other workers') and its own scratch buffer for the
// relays it runs. A connection stays on the worker that accepted it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <list>
#include <thread>
#include <vector>

#include "common/result.h"
#include "proxy/proxy_context.h"

namespace shadowai {

class ProxyWorker {
 public:
  explicit ProxyWorker(ProxyContext& context);
  ProxyWorker(const ProxyWorker&) = delete;
  ProxyWorker& operator=(const ProxyWorker&) = delete;
  // Stops (if still running); the io_context goes next, and with it every connection still open.
  ~ProxyWorker();

  // Before start(): adds a listener; returns the port it got (ENDPOINT's, or a free one for 0).
  Result<uint16_t> listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  // Stops the io_context and joins the thread. Connections end when the worker is destroyed.
  void stop();

 private:
  boost::asio::awaitable<void> acceptLoop(boost::asio::ip::tcp::acceptor& acceptor);
  void admit(boost::asio::ip::tcp::socket socket);

  ProxyContext& context_;
  std::vector<uint8_t> scratch_;
  // Declared after what its handlers use, so it is destroyed (with the connections) before them.
  boost::asio::io_context io_{1};
  std::list<boost::asio::ip::tcp::acceptor> acceptors_;  // a list: accept loops hold references
  // After io_: its sockets go before the io_context does.
  std::unique_ptr<InterceptWorkerState> interceptState_;
  std::thread thread_;
};

}  // namespace shadowai
