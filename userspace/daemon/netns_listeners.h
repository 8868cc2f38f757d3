// NetnsListeners: keeps the proxy listening in every network namespace enforced workloads live in
// (a container's), and nowhere else: a listener holds its namespace alive, so it is closed once no
// enforced process is left there.
//
// Listeners open on events, not on a walk of the cgroup tree: when a mode changes (sync(), after a
// walk of the enforced cgroups), and when the kernel reports an enforced connect in a namespace
// without one (serve()); that connect's SYN is held until the state sink has marked the namespace.
// The walk runs again only when a namespace's representative process is gone (representativeGone()).
//
// Opening one can fail (no CAP_SYS_ADMIN for setns(2), no loopback address in the namespace): the
// workloads there then get a connection error on every redirected connect (fail closed, not held).
// That is reported once per namespace through the failure callback and tried again every
// kRetryInterval (retryFailed()).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
  // What enforced connects in the namespace of cookie COOKIE meet from now on: the proxy (kServed),
  // an immediate refusal (kCannotServe), or, with nullopt, nothing known (they are held).
  enum class State { kServed, kCannotServe };
  using StateSink = std::function<void(uint64_t cookie, std::optional<State> state)>;
  // Whether WHERE's process is still an enforced process in WHERE's namespace.
  using Check = std::function<bool(const EnforcedNamespace& where)>;

  NetnsListeners(ProxyServer& proxy, FailureSink onFailure, LogSink log, StateSink onState);
  NetnsListeners(const NetnsListeners&) = delete;
  NetnsListeners& operator=(const NetnsListeners&) = delete;

  // Listens in each namespace of WANTED (findEnforcedNamespaces()) not listened in yet, stops in
  // those no longer in it. Thread-safe.
  void sync(const std::map<uint64_t, EnforcedNamespace>& wanted);
  // Listens in the namespace of WHERE (keyed KEY, as findEnforcedNamespaces() keys it), whose cookie
  // the kernel reported as COOKIE, unless it does already or failed there less than kRetryInterval ago.
  void serve(uint64_t key, const EnforcedNamespace& where, uint64_t cookie);
  // Opens again where opening failed kRetryInterval ago.
  void retryFailed();
  // True when a namespace's representative process no longer passes STILL_THERE: time for a walk.
  bool representativeGone(const Check& stillThere) const;

  // [{"netns": 4026532291, "pid": 1234, "cgroup": "/...", "listening": ["127.0.0.1"], "skipped": [...]},
  //  {"netns": ..., "pid": ..., "cgroup": ..., "error": "..."}]: what `shadowai status` shows ("netns"
  //  null when the namespace could not be read).
  nlohmann::json status() const;

 private:
  struct Listening {
    std::shared_ptr<const NetworkNamespace> netns;
    EnforcedNamespace where;
    ProxyServer::NamespaceListeners listeners;
    uint64_t cookie = 0;  // 0: could not be read (the kernel side never sees it marked served)
  };
  struct Failed {
    EnforcedNamespace where;
    std::string reason;
    std::chrono::steady_clock::time_point retryAt;
    std::optional<uint64_t> cookie;  // marked kCannotServe, when an event named it
  };

  // KEY: WHERE's key in findEnforcedNamespaces()'s map (its inode, or the stand-in when unreadable).
  // COOKIE: the namespace's cookie when the kernel reported it.
  void open(uint64_t key, const EnforcedNamespace& where, std::chrono::steady_clock::time_point now,
            std::optional<uint64_t> cookie);
  void forgetFailed(std::map<uint64_t, Failed>::iterator failed);

  ProxyServer& proxy_;
  FailureSink onFailure_;
  LogSink log_;
  StateSink onState_;
  mutable std::mutex mutex_;
  std::map<uint64_t, Listening> listening_;  // by findEnforcedNamespaces()'s key
  std::map<uint64_t, Failed> failed_;
};

}  // namespace shadowai
