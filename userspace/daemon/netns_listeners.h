// NetnsListeners: keeps the proxy listening in every network namespace enforced workloads live in
// (a container's), and nowhere else: a listener holds its namespace alive, so it is closed once no
// enforced process is left there.
//
// Opening one can fail (no CAP_SYS_ADMIN for setns(2), no loopback address in the namespace): the
// workloads there then get a connection error on every redirected connect (fail closed). That is
// reported once per namespace through the failure callback and tried again every kRetryInterval.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/enforced_namespaces.h"
#include "net/network_namespace.h"
#include "proxy/proxy_server.h"

namespace shadowai {

class NetnsListeners {
 public:
  static constexpr auto kRetryInterval = std::chrono::seconds(30);

  // Called for the first failure in a namespace, with the namespace and why.
  using FailureSink = std::function<void(const EnforcedNamespace&, const std::string& reason)>;
  // Progress lines for the daemon's log.
  using LogSink = std::function<void(const std::string& line)>;

  NetnsListeners(ProxyServer& proxy, FailureSink onFailure, LogSink log);
  NetnsListeners(const NetnsListeners&) = delete;
  NetnsListeners& operator=(const NetnsListeners&) = delete;

  // Listens in each namespace of WANTED (findEnforcedNamespaces()) not listened in yet, stops in
  // those no longer in it. Thread-safe.
  void sync(const std::map<uint64_t, EnforcedNamespace>& wanted);

  // [{"netns": 4026532291, "pid": 1234, "cgroup": "/...", "listening": ["127.0.0.1"], "skipped": [...]},
  //  {"netns": ..., "pid": ..., "cgroup": ..., "error": "..."}]: what `shadowai status` shows ("netns"
  //  null when the namespace could not be read).
  nlohmann::json status() const;

 private:
  struct Listening {
    std::shared_ptr<const NetworkNamespace> netns;
    EnforcedNamespace where;
    ProxyServer::NamespaceListeners listeners;
  };
  struct Failed {
    EnforcedNamespace where;
    std::string reason;
    std::chrono::steady_clock::time_point retryAt;
  };

  // KEY: WHERE's key in findEnforcedNamespaces()'s map (its inode, or the stand-in when unreadable).
  void open(uint64_t key, const EnforcedNamespace& where, std::chrono::steady_clock::time_point now);

  ProxyServer& proxy_;
  FailureSink onFailure_;
  LogSink log_;
  mutable std::mutex mutex_;
  std::map<uint64_t, Listening> listening_;  // by findEnforcedNamespaces()'s key
  std::map<uint64_t, Failed> failed_;
};

}  // namespace shadowai
