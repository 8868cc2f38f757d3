#include "proxy/proxy_worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "proxy/accept_loop.h"
#include "proxy/connection_slot.h"
#include "proxy/proxy_connection.h"
#include "proxy/proxy_sockets.h"
#include "proxy/reuseport_listener.h"

namespace shadowai {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Large enough that a bulk transfer moves in few system calls, shared by all of a worker's relays.
constexpr size_t kScratchSize = 64 * 1024;
constexpr const char* kAcceptLoop = "running a listener's accept loop";

}  // namespace

ProxyWorker::ProxyWorker(ProxyContext& context) : context_(context), scratch_(kScratchSize) {
  if (ConnectionInterceptor* interceptor = context_.interceptor()) {
    interceptState_ = interceptor->makeWorkerState(io_.get_executor());
  }
}

ProxyWorker::~ProxyWorker() { stop(); }

Result<uint16_t> ProxyWorker::listen(const tcp::endpoint& endpoint) {
  auto acceptor = openReusePortListener(io_, endpoint);
  if (!acceptor) return acceptor.error();
  boost::system::error_code error;
  const uint16_t port = acceptor->local_endpoint(error).port();
  if (error) return makeError("cannot read the listener's port: " + error.message(), error.value());
  listeners_.push_back(std::make_shared<Listener>(Listener{std::move(*acceptor), nullptr}));
  return port;
}

void ProxyWorker::start() {
  for (auto& listener : listeners_) {
    asio::co_spawn(io_, acceptLoop(listener), context_.escapedExceptions().reporter(kAcceptLoop));
  }
  thread_ = std::thread([this] { io_.run(); });
}

Status ProxyWorker::listenIn(const tcp::endpoint& endpoint, std::shared_ptr<const NetworkNamespace> netns) {
  // Opened here, on the caller's thread (the reactor's registration is thread-safe); only the list
  // and the accept loop belong to the worker's thread.
  auto acceptor = openReusePortListener(io_, endpoint, netns.get());
  if (!acceptor) return acceptor.error();
  auto listener = std::make_shared<Listener>(Listener{std::move(*acceptor), std::move(netns)});
  asio::post(io_, [this, listener] {
    listeners_.push_back(listener);
    asio::co_spawn(io_, acceptLoop(listener), context_.escapedExceptions().reporter(kAcceptLoop));
  });
  return {};
}

void ProxyWorker::stopListeningIn(uint64_t netnsInode) {
  asio::post(io_, [this, netnsInode] {
    std::erase_if(listeners_, [netnsInode](const std::shared_ptr<Listener>& listener) {
      if (!listener->netns || listener->netns->inode() != netnsInode) return false;
      boost::system::error_code ignored;
      listener->acceptor.close(ignored);
      return true;
    });
  });
}

void ProxyWorker::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<void> ProxyWorker::acceptLoop(std::shared_ptr<Listener> listener) {
  co_await acceptConnections(listener->acceptor, context_,
                             [this, &listener](tcp::socket socket) { admit(std::move(socket), listener->netns); });
}

void ProxyWorker::admit(tcp::socket socket, const std::shared_ptr<const NetworkNamespace>& netns) {
  ProxyCounterCells& counters = context_.counters();
  bump(counters.accepted);
  // First thing: the record of the original destination is consumed by the lookup, so it is asked
  // for even when the connection is refused below.
  std::optional<OriginalDestination> destination = context_.lookup(socket.native_handle());

  AcceptedConnection connection{std::move(socket), {}, {}, 0};
  boost::system::error_code error;
  const tcp::endpoint client = connection.socket.remote_endpoint(error);
  if (!error) {
    connection.clientAddress = fromAsioAddress(client.address());
    connection.clientPort = client.port();
  }

  if (!destination) {
    bump(counters.refusedNoDestination);
    ProxyEvent event;
    event.kind = ProxyEventKind::kRefusedNoDestination;
    event.clientAddress = connection.clientAddress;
    event.clientPort = connection.clientPort;
    event.detail = "no recorded original destination: a direct connection to the proxy port";
    context_.report(event);
    resetAndClose(connection.socket);
    return;
  }
  connection.destination = *destination;
  connection.destination.netns = netns;

  auto slot = ConnectionSlot::tryAcquire(counters.active, context_.options().maxConnections);
  if (!slot) {
    bump(counters.refusedOverLimit);
    ProxyEvent event;
    event.kind = ProxyEventKind::kRefusedOverLimit;
    event.clientAddress = connection.clientAddress;
    event.clientPort = connection.clientPort;
    event.destination = connection.destination;
    event.detail = "more than " + std::to_string(context_.options().maxConnections) + " connections";
    context_.report(event);
    resetAndClose(connection.socket);
    return;
  }
  serveConnection(std::move(connection), context_, scratch_, interceptState_.get(), std::move(*slot));
}

}  // namespace shadowai
