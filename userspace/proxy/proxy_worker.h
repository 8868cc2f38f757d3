// ProxyWorker: one thread of the proxy with its own io_context, its own listeners (one per listen
// address, all in SO_REUSEPORT groups with the other workers'; more in workloads' network namespaces
// while enforced workloads live there) and its own scratch buffer for the relays it runs. A
// connection stays on the worker that accepted it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
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
  // While running, from any thread: adds a listener inside NETNS (bound already: it queues
  // connections at once, accepted as soon as the worker's thread gets to it); connections it
  // accepts carry NETNS in their original destination.
  Status listenIn(const boost::asio::ip::tcp::endpoint& endpoint, std::shared_ptr<const NetworkNamespace> netns);
  // While running, from any thread: closes the listeners in the namespace of inode NETNS_INODE.
  // Connections they accepted go on.
  void stopListeningIn(uint64_t netnsInode);
  // Stops the io_context and joins the thread. Connections end when the worker is destroyed.
  void stop();

 private:
  struct Listener {
    boost::asio::ip::tcp::acceptor acceptor;
    std::shared_ptr<const NetworkNamespace> netns;  // nullptr: the proxy's own
  };

  // Runs while LISTENER is open; holds it, so closing (and dropping) it from listeners_ is safe.
  boost::asio::awaitable<void> acceptLoop(std::shared_ptr<Listener> listener);
  void admit(boost::asio::ip::tcp::socket socket, const std::shared_ptr<const NetworkNamespace>& netns);

  ProxyContext& context_;
  std::vector<uint8_t> scratch_;
  // Declared after what its handlers use, so it is destroyed (with the connections) before them.
  boost::asio::io_context io_{1};
  std::vector<std::shared_ptr<Listener>> listeners_;  // used on the worker's thread once it runs
  // After io_: its sockets go before the io_context does.
  std::unique_ptr<InterceptWorkerState> interceptState_;
  std::thread thread_;
};

}  // namespace shadowai
