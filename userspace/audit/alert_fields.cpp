#include "audit/alert_fields.h"

#include <algorithm>

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

}  // namespace

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
