#include "audit/alert_fields.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "cgroup/workload.h"
#include "observe/detection.h"
#include "observe/env_keys.h"

namespace shadowai {
namespace {

constexpr bool fieldTableIsSound() {
  for (size_t i = 0; i < kAlertFields.size(); ++i) {
    if (static_cast<size_t>(kAlertFields[i].field) != i) return false;
    if (!isValidAlertFieldName(kAlertFields[i].name)) return false;
    for (size_t j = i + 1; j < kAlertFields.size(); ++j) {
      if (kAlertFields[j].name == kAlertFields[i].name) return false;
    }
  }
  return true;
}

static_assert(fieldTableIsSound(),
              "kAlertFields must be in enum order, with unique names of the form SHADOWAI_[A-Z0-9_]+");
static_assert(kAlertFields.back().field == AlertField::kSuppressed, "a field is missing from kAlertFields");

// A set of fields as bits, one per AlertField.
using FieldSet = uint64_t;
static_assert(kAlertFields.size() <= 64, "FieldSet needs a wider type");

constexpr FieldSet fieldsOf(std::initializer_list<AlertField> fields) {
  FieldSet set = 0;
  for (AlertField field : fields) set |= FieldSet{1} << static_cast<size_t>(field);
  return set;
}

using enum AlertField;
// The groups docs/alerts.md names. addProcess(), addWorkload(); addDetection() and the start of an
// intercepted connection's alerts (ConnectionRouter::decide()) add the destination.
constexpr FieldSet kProcessFields = fieldsOf({kPid, kUid, kComm, kExe, kUser, kCgroup});
constexpr FieldSet kWorkloadFields = fieldsOf({kWorkload, kUnit, kContainer, kCgroup});
constexpr FieldSet kDestinationFields = fieldsOf({kProvider, kHost, kMatch, kAddress, kPort, kProtocol});
constexpr FieldSet kCallerFields = kProcessFields | kWorkloadFields;
// interceptedCallFields() after the connection's fields and ACTION.
constexpr FieldSet kCallRecordFields =
    fieldsOf({kApi, kModel, kMethod, kPath, kStreaming, kStatus, kCredential, kKeyLabel, kFingerprint, kRequestBytes,
              kResponseBytes, kStreamedEvents, kInputTokens, kOutputTokens, kLatencyMs, kFirstByteMs, kRule,
              kMaskedRequest, kMaskedResponse, kMaskedCount, kReason});

constexpr FieldSet kindFields(AlertKind kind) {
  switch (kind) {
    case AlertKind::kLlmCallDetected: return kDestinationFields | kCallerFields;
    case AlertKind::kEnvKeyDetected: return fieldsOf({kVariable, kFingerprint, kProvider}) | kCallerFields;
    case AlertKind::kLlmCallPassedThrough: return kDestinationFields | kCallerFields | fieldsOf({kAction});
    case AlertKind::kQuicRefused: return fieldsOf({kAddress, kPort, kProtocol, kHost, kAction}) | kCallerFields;
    case AlertKind::kNoSniCatalogAddress: return kDestinationFields | kCallerFields | fieldsOf({kAction});
    case AlertKind::kProxyDirectConnectRefused: return fieldsOf({kAddress, kPort, kAction});
    case AlertKind::kModeChanged: return fieldsOf({kCgroup, kMode, kPreviousMode, kRequesterUid, kRequesterPid});
    case AlertKind::kEnforcementResumed: return fieldsOf({kFailureMode, kUnenforcedSeconds});
    case AlertKind::kEventsLost: return fieldsOf({kLostEvents});
    case AlertKind::kDaemonStarted: return fieldsOf({kVersion, kCgroup, kFailureMode});
    case AlertKind::kDaemonStopping: return fieldsOf({kVersion, kReason, kFailureMode});
    case AlertKind::kLlmCallIntercepted:
    case AlertKind::kLlmCallRefused:
    case AlertKind::kLlmCallBlocked:
      return kDestinationFields | kCallerFields | fieldsOf({kAction}) | kCallRecordFields;
    case AlertKind::kInterceptTlsFailed: return kDestinationFields | kCallerFields | fieldsOf({kAction, kReason});
    case AlertKind::kPolicyReloaded: return fieldsOf({kPolicyFiles, kPolicyRules, kRequesterUid, kRequesterPid});
    case AlertKind::kPolicyRejected:
      return fieldsOf({kPolicyFiles, kPolicyRules, kReason, kRequesterUid, kRequesterPid});
    case AlertKind::kEnforceNetnsFailed: return fieldsOf({kNetns, kReason}) | kCallerFields;
    case AlertKind::kAlertsLost: return fieldsOf({kLostAlerts, kLostCallRecords});
  }
  return 0;
}

constexpr bool everyKindHasFieldsAndNoneReserved() {
  for (const auto& info : kAlertKinds) {
    const FieldSet set = kindFields(info.kind);
    if (set == 0 || (set & fieldsOf({kAlert, kSuppressed})) != 0) return false;
  }
  return true;
}
static_assert(everyKindHasFieldsAndNoneReserved(),
              "every kind needs its fields in kindFields(); SHADOWAI_ALERT and SHADOWAI_SUPPRESSED are the Alerter's");

}  // namespace

std::vector<AlertField> alertKindFields(AlertKind kind) {
  std::vector<AlertField> fields;
  for (const auto& info : kAlertFields) {
    if (alertKindMayCarry(kind, info.field)) fields.push_back(info.field);
  }
  return fields;
}

bool alertKindMayCarry(AlertKind kind, AlertField field) {
  return (kindFields(kind) >> static_cast<size_t>(field)) & 1;
}

AlertFields& AlertFields::add(AlertField field, std::string value) {
  auto existing =
      std::find_if(entries_.begin(), entries_.end(), [field](const auto& entry) { return entry.first == field; });
  if (existing != entries_.end()) {
    existing->second = std::move(value);
  } else {
    entries_.emplace_back(field, std::move(value));
  }
  return *this;
}

const std::string* AlertFields::find(AlertField field) const {
  for (const auto& [name, value] : entries_) {
    if (name == field) return &value;
  }
  return nullptr;
}

AlertFields& AlertFields::addProcess(const ProcessIdentity& process) {
  if (process.pid > 0) {
    add(AlertField::kPid, process.pid);
    // uid 0 is a real answer, but only meaningful when we knew the process.
    add(AlertField::kUid, process.uid);
  }
  if (!process.comm.empty()) add(AlertField::kComm, process.comm);
  if (!process.exe.empty()) add(AlertField::kExe, process.exe);
  if (!process.userName.empty()) add(AlertField::kUser, process.userName);
  if (!process.cgroupPath.empty()) add(AlertField::kCgroup, process.cgroupPath);
  return *this;
}

AlertFields& AlertFields::addWorkload(const Workload& workload) {
  add(AlertField::kWorkload, workload.displayName());
  if (!workload.unit.empty()) add(AlertField::kUnit, workload.unit);
  if (!workload.containerId.empty()) {
    add(AlertField::kContainer,
        workload.containerRuntime.empty() ? workload.containerId
                                          : workload.containerRuntime + ":" + workload.containerId);
  }
  if (!workload.cgroupPath.empty()) add(AlertField::kCgroup, workload.cgroupPath);
  return *this;
}

AlertFields& AlertFields::addDetection(const Detection& detection) {
  const auto& classification = detection.classification;
  if (classification.match.entry != nullptr) add(AlertField::kProvider, classification.match.entry->providerId);
  if (!classification.host.empty()) add(AlertField::kHost, classification.host);
  add(AlertField::kMatch, toString(classification.method));
  add(AlertField::kAddress, detection.remote.toString());
  add(AlertField::kPort, detection.port);
  add(AlertField::kProtocol, toString(detection.transport));
  addProcess(detection.process);
  if (!detection.process.cgroupPath.empty()) addWorkload(workloadFromCgroupPath(detection.process.cgroupPath));
  return *this;
}

AlertFields& AlertFields::addEnvKey(const EnvKeyFinding& finding) {
  if (finding.pid > 0) add(AlertField::kPid, finding.pid);
  add(AlertField::kVariable, finding.variable);
  add(AlertField::kFingerprint, finding.fingerprint);
  return *this;
}

}  // namespace shadowai
