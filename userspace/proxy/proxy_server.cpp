#include "proxy/proxy_server.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <boost/asio/ip/address.hpp>
#include <thread>

#include "proxy/proxy_context.h"
#include "proxy/proxy_worker.h"

namespace shadowai {

namespace asio = boost::asio;

namespace {

Result<std::vector<asio::ip::address>> listenAddresses(const ProxyOptions& options) {
  std::vector<asio::ip::address> addresses;
  auto add = [&](const std::optional<std::string>& text, bool wantV6) -> Status {
    if (!text) return {};
    boost::system::error_code error;
    auto address = asio::ip::make_address(*text, error);
    if (error || address.is_v6() != wantV6) {
      return makeError(std::string("proxy: not an IPv") + (wantV6 ? "6" : "4") + " listen address: " + *text);
    }
    addresses.push_back(address);
    return {};
  };
  if (auto added = add(options.listenIpv4, false); !added) return added.error();
  if (auto added = add(options.listenIpv6, true); !added) return added.error();
  if (addresses.empty()) return makeError("proxy: no listen address");
  return addresses;
}

}  // namespace

Result<std::unique_ptr<ProxyServer>> ProxyServer::start(ProxyOptions options, ProxyCallbacks callbacks) {
  if (!callbacks.lookup || !callbacks.decide) return makeError("proxy: a destination lookup and a decider are required");
  auto addresses = listenAddresses(options);
  if (!addresses) return addresses.error();
  unsigned threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());

  std::unique_ptr<ProxyServer> server(new ProxyServer(std::make_unique<ProxyContext>(std::move(options), std::move(callbacks))));
  uint16_t port = server->context_->options().port;
  for (unsigned i = 0; i < threads; ++i) server->workers_.push_back(std::make_unique<ProxyWorker>(*server->context_));
  // The first listener picks the port when 0 was asked; every other one joins it.
  for (const auto& address : *addresses) {
    for (auto& worker : server->workers_) {
      auto bound = worker->listen({address, port});
      if (!bound) return makeError("proxy: " + bound.error().message, bound.error().errnum);
      port = *bound;
    }
  }
  server->port_ = port;
  server->addresses_ = std::move(*addresses);
  for (auto& worker : server->workers_) worker->start();
  return server;
}

Result<ProxyServer::NamespaceListeners> ProxyServer::listenIn(const std::shared_ptr<const NetworkNamespace>& netns) {
  NamespaceListeners result;
  for (const auto& address : addresses_) {
    bool listening = true;
    for (size_t i = 0; i < workers_.size() && listening; ++i) {
      auto bound = workers_[i]->listenIn({address, port_}, netns);
      if (bound) continue;
      // The namespace lacks the address: only the first worker's bind can find that out.
      if (i == 0 && bound.error().errnum == EADDRNOTAVAIL) {
        result.skipped.push_back(address.to_string() + ": " + std::strerror(EADDRNOTAVAIL));
        listening = false;
        continue;
      }
      stopListeningIn(netns->inode());
      return makeError("proxy: " + bound.error().message, bound.error().errnum);
    }
    if (listening) result.addresses.push_back(address.to_string());
  }
  if (result.addresses.empty()) {
    return makeError("proxy: cannot listen in " + netns->describe() + ": none of the listen addresses exists there (" +
                         result.skipped.front() + ")",
                     EADDRNOTAVAIL);
  }
  return result;
}

void ProxyServer::stopListeningIn(uint64_t netnsInode) {
  for (auto& worker : workers_) worker->stopListeningIn(netnsInode);
}

ProxyServer::ProxyServer(std::unique_ptr<ProxyContext> context) : context_(std::move(context)) {}

ProxyServer::~ProxyServer() { stop(); }

void ProxyServer::stop() {
  // All threads first, so no worker still runs while another's connections are torn down.
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
}

ProxyCounters ProxyServer::counters() const { return context_->counters().snapshot(); }

}  // namespace shadowai
