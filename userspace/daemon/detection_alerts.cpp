#include "daemon/detection_alerts.h"

#include "cgroup/workload.h"

namespace shadowai {

namespace {

const std::string& programOf(const ProcessIdentity& process) { return process.exe.empty() ? process.comm : process.exe; }

}  // namespace

DetectionAlerts::DetectionAlerts(const Catalog& catalog, AlertSink& alerts, ProcessLookup lookupProcess)
    : catalog_(catalog), alerts_(alerts), lookupProcess_(std::move(lookupProcess)) {}

bool DetectionAlerts::isFirstSighting(const Detection& detection) {
  const auto& process = detection.process;
  const auto& classification = detection.classification;
  const std::string key = process.cgroupPath + "|" + programOf(process) + "|" + classification.match.entry->providerId +
                          "|" + classification.host + "|" + toString(classification.method) + "|" +
                          toString(detection.transport);
  return alertedCalls_.insert(key).second;
}

void DetectionAlerts::callDetected(const Detection& detection) {
  const auto& process = detection.process;
  const std::string workload = workloadFromCgroupPath(process.cgroupPath.empty() ? "/" : process.cgroupPath).displayName();
  (void)alerts_.send(AlertKind::kLlmCallDetected,
                     workload + " (" + programOf(process) + ") calls " +
                         detection.classification.match.entry->providerName + " at " + detection.classification.host,
                     AlertFields().addDetection(detection));
}

void DetectionAlerts::quicRefused(const ProcessIdentity& process, const IpAddress& address,
                                  const std::optional<std::string>& host) {
  AlertFields fields;
  fields.add(AlertField::kAddress, address.toString()).add(AlertField::kPort, 443).add(AlertField::kProtocol, "quic");
  if (host) fields.add(AlertField::kHost, *host);
  fields.addProcess(process);
  if (!process.cgroupPath.empty()) fields.addWorkload(workloadFromCgroupPath(process.cgroupPath));
  fields.add(AlertField::kAction, "refused");
  (void)alerts_.send(AlertKind::kQuicRefused,
                     "refused QUIC (UDP/443) to " + (host ? *host : address.toString()) +
                         " from an enforced workload; it will fall back to TCP through the proxy",
                     fields);
}

void DetectionAlerts::envKeysFound(const std::vector<EnvKeyFinding>& findings) {
  for (const auto& finding : findings) alertEnvKey(finding);
}

void DetectionAlerts::envScanFinished(const std::vector<EnvKeyFinding>& findings) {
  std::set<std::string> present;
  for (const auto& finding : findings) present.insert(alertEnvKey(finding));
  alertedEnvKeys_ = std::move(present);
}

std::string DetectionAlerts::alertEnvKey(const EnvKeyFinding& finding) {
  const std::string key = std::to_string(finding.pid) + "|" + finding.variable + "|" + finding.fingerprint;
  if (!alertedEnvKeys_.insert(key).second) return key;
  const ProcessIdentity process = lookupProcess_(static_cast<uint32_t>(finding.pid), 0);
  AlertFields fields;
  fields.addEnvKey(finding).addProcess(process);
  if (!process.cgroupPath.empty()) fields.addWorkload(workloadFromCgroupPath(process.cgroupPath));
  auto providers = catalog_.envKeys().find(finding.variable);
  if (providers != catalog_.envKeys().end() && !providers->second.empty()) {
    fields.add(AlertField::kProvider, providers->second.front());
  }
  (void)alerts_.send(AlertKind::kEnvKeyDetected,
                     "process " + std::to_string(finding.pid) + " (" + programOf(process) + ") holds " +
                         finding.variable + " in its environment",
                     fields);
  return key;
}

}  // namespace shadowai
