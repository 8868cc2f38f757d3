// ProxyServer: the transparent proxy that enforce mode redirects workloads' connects to. For each
// accepted connection it recovers the original destination (OriginalDestinationLookup), peeks at
// the first bytes for a TLS ClientHello (connecting upstream meanwhile when the EarlyConnectPolicy
// allows), asks the ConnectionDecider, and splices the bytes
// untouched to the original destination or refuses the connection (interception comes later).
//
// Threads: `threads` workers, each with its own io_context and its own SO_REUSEPORT listeners;
// a connection lives on the worker that accepted it.
//
// Network namespaces: the listeners start in the proxy's own. A workload with a network of its own
// (a container) has its connects rewritten to the listen address inside its namespace, so the owner
// adds listeners there (listenIn) while enforced workloads live in it. The lookup, decider and event sink are
// called on those workers, concurrently: they must be thread-safe, quick, and must not throw.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/result.h"
#include "net/network_namespace.h"
#include "proxy/proxy_callbacks.h"
#include "proxy/proxy_counters.h"
#include "proxy/proxy_options.h"

namespace shadowai {

class ProxyContext;
class ProxyWorker;

class ProxyServer {
 public:
  // Binds every listener (failing, with nothing left running, if one cannot be bound) and starts
  // the workers. CALLBACKS.lookup and CALLBACKS.decide are required.
  static Result<std::unique_ptr<ProxyServer>> start(ProxyOptions options, ProxyCallbacks callbacks);

  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;
  ~ProxyServer();

  // Closes the listeners, resets every open connection (both sides: a cut stream must not read as
  // a whole one) and joins the workers. Idempotent; not to be called from a callback.
  void stop();

  // Listens on the listen addresses and port in NETNS too, on every worker. An address that cannot
  // be bound there because the namespace lacks it (IPv6 disabled in a container: EADDRNOTAVAIL) is
  // left out and named in the result's `skipped`; any other failure, or no address at all, is an
  // error and leaves nothing listening there. Thread-safe; not for a namespace already listened in.
  struct NamespaceListeners {
    std::vector<std::string> addresses;  // listening: "127.0.0.1", "::1"
    std::vector<std::string> skipped;    // "::1: Cannot assign requested address"
  };
  Result<NamespaceListeners> listenIn(const std::shared_ptr<const NetworkNamespace>& netns);
  // Closes the listeners in the namespace of inode NETNS_INODE (connections they accepted go on).
  void stopListeningIn(uint64_t netnsInode);

  ProxyCounters counters() const;
  // The port the listeners are bound to (the one picked when ProxyOptions::port was 0).
  uint16_t port() const { return port_; }

 private:
  explicit ProxyServer(std::unique_ptr<ProxyContext> context);

  std::unique_ptr<ProxyContext> context_;  // outlives the workers
  std::vector<std::unique_ptr<ProxyWorker>> workers_;
  std::vector<boost::asio::ip::address> addresses_;
  uint16_t port_ = 0;
};

}  // namespace shadowai
