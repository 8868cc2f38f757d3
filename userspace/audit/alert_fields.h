// The structured fields of an alert. Users filter on them (`journalctl SHADOWAI_UNIT=x.service`), so
// every name is declared here once, prefixed SHADOWAI_, and explained in
// packaging/journald/shadowai.catalog; nobody should ever have to parse MESSAGE. A field joins this
// list with the first alert that carries it (SHADOWAI_RULE and SHADOWAI_SESSION come with
// interception and policy).
//
// Values are written verbatim to the journal, which members of the adm and systemd-journal groups
// can read. Never pass a secret: an API key is passed as its fingerprint (keyFingerprint()), never
// its value, and neither prompts nor command lines (they may carry keys) belong in an alert.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/alert_kind.h"

namespace shadowai {

struct Detection;
struct EnvKeyFinding;
struct ProcessIdentity;
struct Workload;

enum class AlertField {
  // What was called.
  kProvider,           // catalog provider id: "openai"
  kHost,               // host name that matched (SNI or DNS): "api.openai.com"
  kAddress,            // destination IP address
  kPort,
  kProtocol,           // "tcp", "quic", "udp"
  kMatch,              // how the catalog matched: "sni", "dns", "ip", "port", "http-host"
  // Who called.
  kWorkload,           // the workload as a user knows it: "billing-etl.service", "container docker:0123..."
  kUnit,               // the systemd system unit
  kCgroup,             // cgroup v2 path
  kContainer,          // "<runtime>:<full id>"
  kNetns,              // network namespace inode, as `lsns -t net` shows it: "4026532291"
  kPid,
  kComm,
  kExe,
  kUid,
  kUser,
  // Policy and proxy.
  kAction,             // what was done: "passed", "refused"
  kMode,               // "off", "detect", "enforce"
  kPreviousMode,
  kRequesterUid,       // who asked for a mode change (the control client's SO_PEERCRED)
  kRequesterPid,
  // Intercepted calls.
  kApi,                // the provider API: "openai-chat", "anthropic-messages", ..., "unknown"
  kModel,
  kMethod,             // HTTP method
  kPath,               // request path, without the query (which may hold a key)
  kStreaming,          // "true" or "false"
  kStatus,             // HTTP status the client got
  kCredential,         // whose key went upstream: "managed", "client", "none"
  kKeyLabel,           // which managed key (its label), never the key
  kRequestBytes,
  kResponseBytes,
  kStreamedEvents,
  kInputTokens,
  kOutputTokens,
  kLatencyMs,          // request received -> answer complete
  kFirstByteMs,        // request received -> the provider's response header
  // Policy.
  kRule,               // the policy rule that blocked a call; for a masked call, the mask rules that applied
  kMaskedRequest,      // detectors that fired in the prompt and on how many distinct values: "email=2,openai-api-key=1"
  kMaskedResponse,     // the same for the answer
  kMaskedCount,        // all masked values of the call, both directions
  kPolicyFiles,        // how many files the policy in force was read from
  kPolicyRules,        // how many rules it has
  // Keys in environments.
  kVariable,           // environment variable name: "OPENAI_API_KEY"
  kFingerprint,        // keyFingerprint() of the value, never the value
  // The daemon itself.
  kFailureMode,        // "closed", "open"
  kUnenforcedSeconds,  // how long traffic flowed unenforced (heartbeat expiry until resumption)
  kLostEvents,         // events the kernel dropped since the last report
  kLostAlerts,         // alerts journald did not take since the last report
  kLostCallRecords,    // of those, records of intercepted calls
  kVersion,
  kReason,             // why the daemon stops, or another short explanation
  // Set by the Alerter on every entry; callers cannot set them.
  kAlert,              // the kind's short name: "llm-call-detected"
  kSuppressed,         // alerts of this kind the rate limiter dropped since the last one sent
};

struct AlertFieldInfo {
  AlertField field;
  std::string_view name;
};

// In enum order.
inline constexpr std::array kAlertFields = {
    AlertFieldInfo{AlertField::kProvider, "SHADOWAI_PROVIDER"},
    AlertFieldInfo{AlertField::kHost, "SHADOWAI_HOST"},
    AlertFieldInfo{AlertField::kAddress, "SHADOWAI_ADDRESS"},
    AlertFieldInfo{AlertField::kPort, "SHADOWAI_PORT"},
    AlertFieldInfo{AlertField::kProtocol, "SHADOWAI_PROTOCOL"},
    AlertFieldInfo{AlertField::kMatch, "SHADOWAI_MATCH"},
    AlertFieldInfo{AlertField::kWorkload, "SHADOWAI_WORKLOAD"},
    AlertFieldInfo{AlertField::kUnit, "SHADOWAI_UNIT"},
    AlertFieldInfo{AlertField::kCgroup, "SHADOWAI_CGROUP"},
    AlertFieldInfo{AlertField::kContainer, "SHADOWAI_CONTAINER"},
    AlertFieldInfo{AlertField::kNetns, "SHADOWAI_NETNS"},
    AlertFieldInfo{AlertField::kPid, "SHADOWAI_PID"},
    AlertFieldInfo{AlertField::kComm, "SHADOWAI_COMM"},
    AlertFieldInfo{AlertField::kExe, "SHADOWAI_EXE"},
    AlertFieldInfo{AlertField::kUid, "SHADOWAI_UID"},
    AlertFieldInfo{AlertField::kUser, "SHADOWAI_USER"},
    AlertFieldInfo{AlertField::kAction, "SHADOWAI_ACTION"},
    AlertFieldInfo{AlertField::kMode, "SHADOWAI_MODE"},
    AlertFieldInfo{AlertField::kPreviousMode, "SHADOWAI_PREVIOUS_MODE"},
    AlertFieldInfo{AlertField::kRequesterUid, "SHADOWAI_REQUESTER_UID"},
    AlertFieldInfo{AlertField::kRequesterPid, "SHADOWAI_REQUESTER_PID"},
    AlertFieldInfo{AlertField::kApi, "SHADOWAI_API"},
    AlertFieldInfo{AlertField::kModel, "SHADOWAI_MODEL"},
    AlertFieldInfo{AlertField::kMethod, "SHADOWAI_METHOD"},
    AlertFieldInfo{AlertField::kPath, "SHADOWAI_PATH"},
    AlertFieldInfo{AlertField::kStreaming, "SHADOWAI_STREAMING"},
    AlertFieldInfo{AlertField::kStatus, "SHADOWAI_STATUS"},
    AlertFieldInfo{AlertField::kCredential, "SHADOWAI_CREDENTIAL"},
    AlertFieldInfo{AlertField::kKeyLabel, "SHADOWAI_KEY_LABEL"},
    AlertFieldInfo{AlertField::kRequestBytes, "SHADOWAI_REQUEST_BYTES"},
    AlertFieldInfo{AlertField::kResponseBytes, "SHADOWAI_RESPONSE_BYTES"},
    AlertFieldInfo{AlertField::kStreamedEvents, "SHADOWAI_STREAMED_EVENTS"},
    AlertFieldInfo{AlertField::kInputTokens, "SHADOWAI_INPUT_TOKENS"},
    AlertFieldInfo{AlertField::kOutputTokens, "SHADOWAI_OUTPUT_TOKENS"},
    AlertFieldInfo{AlertField::kLatencyMs, "SHADOWAI_LATENCY_MS"},
    AlertFieldInfo{AlertField::kFirstByteMs, "SHADOWAI_FIRST_BYTE_MS"},
    AlertFieldInfo{AlertField::kRule, "SHADOWAI_RULE"},
    AlertFieldInfo{AlertField::kMaskedRequest, "SHADOWAI_MASKED_REQUEST"},
    AlertFieldInfo{AlertField::kMaskedResponse, "SHADOWAI_MASKED_RESPONSE"},
    AlertFieldInfo{AlertField::kMaskedCount, "SHADOWAI_MASKED_COUNT"},
    AlertFieldInfo{AlertField::kPolicyFiles, "SHADOWAI_POLICY_FILES"},
    AlertFieldInfo{AlertField::kPolicyRules, "SHADOWAI_POLICY_RULES"},
    AlertFieldInfo{AlertField::kVariable, "SHADOWAI_VARIABLE"},
    AlertFieldInfo{AlertField::kFingerprint, "SHADOWAI_FINGERPRINT"},
    AlertFieldInfo{AlertField::kFailureMode, "SHADOWAI_FAILURE_MODE"},
    AlertFieldInfo{AlertField::kUnenforcedSeconds, "SHADOWAI_UNENFORCED_SECONDS"},
    AlertFieldInfo{AlertField::kLostEvents, "SHADOWAI_LOST_EVENTS"},
    AlertFieldInfo{AlertField::kLostAlerts, "SHADOWAI_LOST_ALERTS"},
    AlertFieldInfo{AlertField::kLostCallRecords, "SHADOWAI_LOST_CALL_RECORDS"},
    AlertFieldInfo{AlertField::kVersion, "SHADOWAI_VERSION"},
    AlertFieldInfo{AlertField::kReason, "SHADOWAI_REASON"},
    AlertFieldInfo{AlertField::kAlert, "SHADOWAI_ALERT"},
    AlertFieldInfo{AlertField::kSuppressed, "SHADOWAI_SUPPRESSED"},
};

constexpr std::string_view alertFieldName(AlertField field) { return kAlertFields[static_cast<size_t>(field)].name; }

// Fields only the Alerter itself sets.
constexpr bool isReservedAlertField(AlertField field) {
  return field == AlertField::kAlert || field == AlertField::kSuppressed;
}

// journald's rules for a field a client may send (upper-case letters, digits and '_', not starting
// with '_' (trusted fields) or a digit, at most 64 bytes) plus ours: the SHADOWAI_ prefix and
// something after it.
constexpr bool isValidAlertFieldName(std::string_view name) {
  constexpr std::string_view kPrefix = "SHADOWAI_";
  if (name.size() > 64 || name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// The fields an alert of KIND may carry, in AlertField order, besides SHADOWAI_ALERT and
// SHADOWAI_SUPPRESSED (the Alerter's, on any kind): everything the code that sends the kind can add
// (userspace/daemon/: daemon.cpp, connection_router.cpp, detection_alerts.cpp, call_alerts.cpp),
// each only when known. The kind's catalog entry and its section of docs/alerts.md name exactly
// these (tests/unit/alert_catalog_test.cpp): a send that gains a field adds it here, and the texts
// follow.
std::vector<AlertField> alertKindFields(AlertKind kind);
bool alertKindMayCarry(AlertKind kind, AlertField field);

// An ordered list of fields, one value per field: adding a field again replaces its value where it
// first appeared, so the helpers below can overlap (both set the cgroup) without duplicates.
class AlertFields {
 public:
  AlertFields& add(AlertField field, std::string value);
  AlertFields& add(AlertField field, const char* value) { return add(field, std::string(value)); }
  AlertFields& add(AlertField field, std::string_view value) { return add(field, std::string(value)); }
  template <std::integral T>
  AlertFields& add(AlertField field, T value) {
    return add(field, std::to_string(value));
  }

  // The helpers skip what is unknown (pid 0, empty strings) rather than send empty fields.
  // PID, COMM, EXE, UID, USER, CGROUP. Not the command line: it may hold a key.
  AlertFields& addProcess(const ProcessIdentity& process);
  // WORKLOAD, UNIT, CONTAINER, CGROUP.
  AlertFields& addWorkload(const Workload& workload);
  // PROVIDER, HOST, MATCH, ADDRESS, PORT, PROTOCOL, the process and its workload.
  AlertFields& addDetection(const Detection& detection);
  // PID, VARIABLE, FINGERPRINT.
  AlertFields& addEnvKey(const EnvKeyFinding& finding);

  const std::vector<std::pair<AlertField, std::string>>& entries() const { return entries_; }
  // nullptr when the field is not set.
  const std::string* find(AlertField field) const;
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<AlertField, std::string>> entries_;
};

}  // namespace shadowai
