// Daemon: shadowaid's core, which wires the parts and runs them. Continuous detection (the scan's
// pipeline, each new finding alerted by DetectionAlerts), per-cgroup modes applied to the pinned
// BPF maps and persisted in the state directory, the transparent proxy that enforce mode redirects
// into (its connections routed by the ConnectionRouter, LLM calls served by the LlmInterceptor),
// and the control socket the `shadowai` CLI talks to. The binary's main only loads the
// configuration and signals.
//
// Threads: run() is the event loop (ring buffer, heartbeat, periodic work); the control server and
// the proxy workers have their own threads and call into the Daemon and the router, so shared state
// is either immutable after start (catalog, config), internally locked (AddressNames, Alerter), or
// guarded by mutex_.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "audit/alerter.h"
#include "bpf/daemon_programs.h"
#include "catalog/catalog.h"
#include "control/control_handler.h"
#include "control/control_server.h"
#include "daemon/call_counters.h"
#include "daemon/connection_router.h"
#include "daemon/daemon_config.h"
#include "daemon/detection_alerts.h"
#include "daemon/mode_store.h"
#include "daemon/netns_listeners.h"
#include "observe/address_names.h"
#include "observe/catalog_resolver.h"
#include "observe/env_keys.h"
#include "observe/flow_tracker.h"
#include "observe/process_attributor.h"
#include "intercept/llm_interceptor.h"
#include "policy/builtin_detectors.h"
#include "policy/policy_runtime.h"
#include "proxy/proxy_server.h"

namespace shadowai {

struct DaemonOptions {
  // Echo alerts as human lines on stderr; off under systemd, where stderr is the journal already.
  bool alertsToStderr = !stderrIsJournal();
};

class Daemon final : public ControlHandler {
 public:
  static Result<std::unique_ptr<Daemon>> start(DaemonConfig config, DaemonOptions options = {});
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // The event loop, until `stop` becomes true. Tells systemd READY=1 once everything is up (before
  // the loop) and WATCHDOG=1 as it goes, when systemd asked for a watchdog.
  // RELOAD (SIGHUP), when given, is polled and cleared: the policy is read again.
  Status run(const std::atomic<bool>& stop, std::atomic<bool>* reload = nullptr);

  // Why the daemon stops, for the daemon-stopping alert its destructor writes (SHADOWAI_REASON):
  // "signal SIGTERM" from the binary's main. Without one: "stop requested"; a failed start and a
  // failed event loop set their own.
  void setStopReason(std::string reason) { stopReason_ = std::move(reason); }

  // ControlHandler (called on the control server's thread).
  Result<nlohmann::json> setMode(const std::string& cgroupPath, std::optional<Mode> mode,
                                 const PeerCredentials& who) override;
  nlohmann::json status() override;
  Result<nlohmann::json> reloadPolicy(const PeerCredentials& who) override;

 private:
  Daemon(DaemonConfig config, DaemonOptions options, Catalog catalog, BuiltinDetectors builtinDetectors);

  Status startParts();
  Status applyStoredModes();
  void onEvent(const RawEvent& event);
  void onDetection(const Detection& detection);
  void onQuicRefused(const shadowai_event_header& header);
  Status startInterceptor();
  Result<std::shared_ptr<const PolicyRuntime>> loadPolicy() const;
  nlohmann::json policyStatus(const PolicyRuntime& runtime) const;
  void onProxyEvent(const ProxyEvent& event);
  void periodicWork();
  void scanEnvironments();
  // Reads one process's environment (it just exec'd, or called a provider) for keys.
  void checkProcessEnvironment(uint32_t pid);
  // Has the proxy listen in every network namespace an enforced process lives in (containers'),
  // and only there.
  void syncNamespaceListeners();
  void onNamespaceFailed(const EnforcedNamespace& where, const std::string& reason);
  // The kernel held an enforced connect in a namespace the proxy does not listen in (a container
  // that just started): listen there now.
  void onNetnsUnserved(const shadowai_event_header& header);
  // Is WHERE's process still an enforced process in WHERE's namespace?
  bool stillEnforcedThere(const EnforcedNamespace& where) const;
  void syncPathModes();
  std::vector<IpAddress> llmAddresses() const;

  const DaemonConfig config_;
  const DaemonOptions options_;
  const Catalog catalog_;
  // Read once at start (rules/detectors.json): every policy load and reload resolves against them.
  const BuiltinDetectors builtinDetectors_;
  std::string cgroup2Root_;
  std::string attachPath_;      // absolute, under the cgroup v2 mount: where the programs attach
  std::string governedCgroup_;  // the same relative to the cgroup v2 root ("/" for the root), as alerts give cgroups
  std::string stopReason_;      // main thread only (start, run, destructor)
  Alerter alerter_;
  DetectionAlerts detectionAlerts_;  // event loop only

  AddressNames dnsNames_;
  AddressNames resolvedNames_;
  std::unique_ptr<CatalogResolver> resolver_;
  std::unique_ptr<ProcessAttributor> attributor_;  // event loop only
  std::unique_ptr<FlowTracker> tracker_;            // event loop only
  std::set<std::string> envKeyNames_;               // the catalog's key variables
  std::chrono::steady_clock::time_point nextEnvScan_{};
  std::chrono::steady_clock::time_point nextMemoryTrim_{};
  std::chrono::steady_clock::time_point nextHostsFileRead_{};

  mutable std::mutex mutex_;  // guards modes_, programs_ map updates, snapshot_
  std::optional<ModeStore> modes_;
  std::unique_ptr<DaemonPrograms> programs_;
  std::shared_ptr<LlmInterceptor> interceptor_;  // null when interception is disabled
  std::string credentialsSummary_;               // CredentialStore::describe(), for status
  std::shared_ptr<PolicyHolder> policy_;          // null when interception is disabled
  std::shared_ptr<const PseudonymKey> pseudonymKey_;
  std::mutex reloadMutex_;                        // one reload at a time (SIGHUP and the control socket)
  // Decides for the proxy (its decide and connectEarly callbacks), so it is declared before proxy_
  // and outlives it; made after startInterceptor(), which tells whether interception is on.
  std::unique_ptr<ConnectionRouter> router_;
  std::unique_ptr<ProxyServer> proxy_;
  OwnNamespace ownNetns_;
  std::unique_ptr<NetnsListeners> netnsListeners_;  // after proxy_, which it uses
  std::unique_ptr<ControlServer> control_;

  struct Snapshot {
    FlowTrackerCounters detection;
    LostEventCounts lost{};
    uint64_t quicRefused = 0;
  } snapshot_;
  uint64_t lostReported_ = 0;
  uint64_t quicRefused_ = 0;  // event loop only; status reads snapshot_
  CallCounters calls_;
  std::chrono::steady_clock::time_point startedAt_;
};

}  // namespace shadowai
