// The journald entries of what the daemon's event loop learns from the kernel's events, each sent
// once for what it is about: llm-call-detected once per caller and call, env-key-detected once per
// process and key (again when a new process reuses the pid), quic-refused for each refused QUIC
// flow (the Alerter's rate limit bounds those). Intercepted calls have theirs in call_alerts.h.
//
// Event loop only: not thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/alert_sink.h"
#include "catalog/catalog.h"
#include "net/ip_address.h"
#include "observe/detection.h"
#include "observe/env_keys.h"
#include "observe/process_info.h"

namespace shadowai {

class DetectionAlerts {
 public:
  // CATALOG and ALERTS must outlive this. LOOKUP_PROCESS names the process holding a key.
  DetectionAlerts(const Catalog& catalog, AlertSink& alerts, ProcessLookup lookupProcess);
  DetectionAlerts(const DetectionAlerts&) = delete;
  DetectionAlerts& operator=(const DetectionAlerts&) = delete;

  // Whether DETECTION is the first of its caller (cgroup, program) and call (provider, host, match,
  // transport), remembering it: only a first one is alerted. Apart from callDetected so the daemon
  // can count it in its status before the alert goes out.
  bool isFirstSighting(const Detection& detection);
  // llm-call-detected.
  void callDetected(const Detection& detection);

  // quic-refused: PROCESS's QUIC to ADDRESS was refused (HOST: a name learned for the address).
  void quicRefused(const ProcessIdentity& process, const IpAddress& address, const std::optional<std::string>& host);

  // env-key-detected for each of one process's FINDINGS not alerted yet.
  void envKeysFound(const std::vector<EnvKeyFinding>& findings);
  // The same for a scan of every process; keys of processes the scan did not find again are
  // forgotten, so a reused pid holding a key is alerted again.
  void envScanFinished(const std::vector<EnvKeyFinding>& findings);

 private:
  // Alerts FINDING unless it was alerted already; returns its key in alertedEnvKeys_.
  std::string alertEnvKey(const EnvKeyFinding& finding);

  const Catalog& catalog_;
  AlertSink& alerts_;
  const ProcessLookup lookupProcess_;
  std::set<std::string> alertedCalls_;    // (cgroup, program, provider, host, match, transport)
  std::set<std::string> alertedEnvKeys_;  // (pid, variable, fingerprint)
};

}  // namespace shadowai
