// The kinds of alert shadowaid writes to journald. Each has a fixed MESSAGE_ID (from
// `systemd-id128 new`, never to change once shipped: users and SIEM rules filter on it), a syslog
// priority and a stable short name, and is explained in packaging/journald/shadowai.catalog
// (`journalctl -x` shows that text). This table is the one place a kind is declared; a unit test keeps
// it and the catalog file in step.
#pragma once

#include <syslog.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace shadowai {

enum class AlertKind {
  kLlmCallDetected,           // a workload's first call to a provider host seen by detection
  kEnvKeyDetected,            // a process holds an LLM API key in its environment
  kLlmCallPassedThrough,      // an enforced workload's catalog call passed through, not intercepted
  kQuicRefused,               // UDP/443 to an LLM endpoint refused in enforce mode
  kNoSniCatalogAddress,       // enforced connection without SNI to an address the catalog names
  kProxyDirectConnectRefused, // a connection reached the proxy port without a recorded destination
  kModeChanged,               // off/detect/enforce set on a cgroup
  kEnforcementResumed,        // open failure mode: the daemon came back after its heartbeat expired
  kEventsLost,                // the kernel's ring buffer overflowed
  kDaemonStarted,
  kDaemonStopping,
  kLlmCallIntercepted,        // one intercepted call forwarded: the call record
  kLlmCallRefused,            // an intercepted call answered by shadowai (policy, limits, provider unreachable)
  kInterceptTlsFailed,        // an enforced workload did not complete the TLS handshake with the proxy
  kLlmCallBlocked,            // an intercepted call refused by a policy block rule (or because it could not be masked)
  kPolicyReloaded,            // a new policy is in force
  kPolicyRejected,            // a policy reload failed validation: the previous policy stays in force
  kEnforceNetnsFailed,        // the proxy cannot listen in an enforced workload's network namespace
  kAlertsLost,                // alerts journald did not take in time (stopped, too slow): how many
};

struct AlertKindInfo {
  AlertKind kind;
  std::string_view name;       // stable, kebab-case: the SHADOWAI_ALERT field and the catalog's key
  std::string_view messageId;  // 32 lower-case hex digits, as journald prints MESSAGE_ID
  int priority;                // syslog level: LOG_ERR .. LOG_INFO
  // A record of every event rather than a warning: never rate limited (one entry per call is the
  // audit trail; dropping some would lose calls).
  bool everyEvent = false;
};

// In enum order.
inline constexpr std::array kAlertKinds = {
    AlertKindInfo{AlertKind::kLlmCallDetected, "llm-call-detected", "0752dfe49ed4409792868a536d15c86f", LOG_WARNING},
    AlertKindInfo{AlertKind::kEnvKeyDetected, "env-key-detected", "6097a18ac6f6414f89d4184fc5b6f989", LOG_WARNING},
    AlertKindInfo{AlertKind::kLlmCallPassedThrough, "llm-call-passed-through", "6b6b5aa1ff1144c2bc68a2ddcbab515e",
                  LOG_WARNING},
    AlertKindInfo{AlertKind::kQuicRefused, "quic-refused", "5b2d5944de8643c79a134fe4420816e8", LOG_NOTICE},
    AlertKindInfo{AlertKind::kNoSniCatalogAddress, "no-sni-catalog-address", "4b7cee2c3c794419aba9811971833314",
                  LOG_WARNING},
    AlertKindInfo{AlertKind::kProxyDirectConnectRefused, "proxy-direct-connect-refused",
                  "9b7106e3cb5943d18d8e1f9bd560e337", LOG_WARNING},
    AlertKindInfo{AlertKind::kModeChanged, "mode-changed", "e4da37bd56d1470c9ca15b553574dbae", LOG_NOTICE},
    AlertKindInfo{AlertKind::kEnforcementResumed, "enforcement-resumed", "30c38f335d6a47caa5973e559eccd615", LOG_ERR},
    AlertKindInfo{AlertKind::kEventsLost, "events-lost", "a38678fb77ea4744a6e737a6fabb50d5", LOG_ERR},
    AlertKindInfo{AlertKind::kDaemonStarted, "daemon-started", "3dea8bf97e154dc582800c5fa5616683", LOG_INFO},
    AlertKindInfo{AlertKind::kDaemonStopping, "daemon-stopping", "8ed67343930b44e7994586b5ff7b9dac", LOG_INFO},
    AlertKindInfo{AlertKind::kLlmCallIntercepted, "llm-call-intercepted", "cb2eae4d30e34217bcd7b5a6c653a478", LOG_INFO,
                  true},
    AlertKindInfo{AlertKind::kLlmCallRefused, "llm-call-refused", "57aa2e53ac074b6d9a08fc1b74cd23cc", LOG_WARNING,
                  true},
    AlertKindInfo{AlertKind::kInterceptTlsFailed, "intercept-tls-failed", "f717b5bba7bc45abbc33b56ff977ecfe",
                  LOG_WARNING},
    AlertKindInfo{AlertKind::kLlmCallBlocked, "llm-call-blocked", "6672e4023fa74f859df9ac6512426a53", LOG_WARNING,
                  true},
    AlertKindInfo{AlertKind::kPolicyReloaded, "policy-reloaded", "ce0b198aa4fc4d93a9d60b302b108671", LOG_NOTICE, true},
    AlertKindInfo{AlertKind::kPolicyRejected, "policy-rejected", "fffbbf029be846b5b296d6cdc0c8ce28", LOG_ERR, true},
    AlertKindInfo{AlertKind::kEnforceNetnsFailed, "enforce-netns-failed", "73080cdd6d8c475fb2856ce3d57d8006", LOG_ERR},
    // Every report counts: never rate limited.
    AlertKindInfo{AlertKind::kAlertsLost, "alerts-lost", "5fe1c59513824eafaa9b8f8f118159bf", LOG_ERR, true},
};

inline constexpr size_t kAlertKindCount = kAlertKinds.size();

constexpr const AlertKindInfo& alertKindInfo(AlertKind kind) { return kAlertKinds[static_cast<size_t>(kind)]; }

// "llm-call-detected" -> kLlmCallDetected; nullopt for an unknown name.
std::optional<AlertKind> alertKindFromName(std::string_view name);

// "err", "warning", "notice", "info", ... (the names journalctl -p takes).
std::string_view priorityName(int priority);

}  // namespace shadowai
