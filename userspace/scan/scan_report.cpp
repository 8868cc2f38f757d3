#include "scan/scan_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "cgroup/workload.h"
#include "common/text_table.h"

namespace shadowai {
namespace {

using nlohmann::json;

const char* categoryName(EndpointCategory category) {
  return category == EndpointCategory::kLocal ? "local" : "hosted";
}

std::string processLabel(const ProcessIdentity& process) {
  return process.exe.empty() ? process.comm : process.exe;
}

json workloadJson(const std::string& cgroupPath) {
  Workload workload = workloadFromCgroupPath(cgroupPath.empty() ? "/" : cgroupPath);
  json out = {
      {"kind", toString(workload.kind)},
      {"name", workload.name},
      {"display", workload.displayName()},
      {"cgroup", cgroupPath},
  };
  out["unit"] = workload.unit.empty() ? json(nullptr) : json(workload.unit);
  if (workload.containerId.empty()) {
    out["container"] = nullptr;
  } else {
    out["container"] = {{"runtime", workload.containerRuntime}, {"id", workload.containerId}};
    if (!workload.podUid.empty()) out["container"]["pod_uid"] = workload.podUid;
  }
  return out;
}

json processJson(const ProcessIdentity& process) {
  return {{"exe", process.exe}, {"comm", process.comm}, {"cmdline", process.cmdline},
          {"user", process.userName}, {"uid", process.uid}};
}

std::string workloadDisplay(const std::string& cgroupPath) {
  return workloadFromCgroupPath(cgroupPath.empty() ? "/" : cgroupPath).displayName();
}

std::string clockTime(std::chrono::system_clock::time_point when) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[16];
  std::strftime(text, sizeof(text), "%H:%M:%S", &local);
  return text;
}

const char* lostSlotName(size_t slot) {
  static const char* const names[SHADOWAI_LOST_SLOTS] = {"connect", "sendmsg", "tls_hello", "dns_answer", "exec"};
  return slot < SHADOWAI_LOST_SLOTS ? names[slot] : "other";
}

uint64_t totalLost(const ScanContext& context) {
  uint64_t total = 0;
  for (uint64_t value : context.lostEvents) total += value;
  return total;
}

}  // namespace

std::string formatTimestamp(std::chrono::system_clock::time_point when) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof(text) - length, ".%03dZ", static_cast<int>(millis % 1000));
  return text;
}

void ScanReport::addDetection(const Detection& detection) {
  const auto& process = detection.process;
  WorkloadKey key{process.cgroupPath, processLabel(process), process.userName};
  auto& workload = workloads_[key];
  if (workload.calls.empty()) workload.sample = process;

  const auto& match = detection.classification;
  CallKey callKey{match.match.entry->providerId, match.host, detection.port, detection.transport, match.method};
  auto [it, inserted] = workload.calls.try_emplace(callKey);
  auto& stats = it->second;
  if (inserted) {
    stats.providerName = match.match.entry->providerName;
    stats.category = categoryName(match.match.entry->category);
    stats.firstSeen = stats.lastSeen = detection.when;
  }
  stats.firstSeen = std::min(stats.firstSeen, detection.when);
  stats.lastSeen = std::max(stats.lastSeen, detection.when);
  ++stats.connections;
  if (detection.redirected) ++stats.enforcedConnections;
  if (process.pid != 0) stats.pids.insert(process.pid);
}

void ScanReport::addEnvKey(EnvKeyReportItem item) { envKeys_.push_back(std::move(item)); }

size_t ScanReport::callCount() const {
  size_t count = 0;
  for (const auto& [key, workload] : workloads_) count += workload.calls.size();
  return count;
}

bool ScanReport::hasFindings() const {
  if (!envKeys_.empty()) return true;
  for (const auto& [key, workload] : workloads_) {
    for (const auto& [callKey, stats] : workload.calls) {
      if (stats.category == "hosted") return true;
    }
  }
  return false;
}

json ScanReport::toJson(const ScanContext& context) const {
  json workloads = json::array();
  std::set<std::string> providers;
  uint64_t connections = 0;
  for (const auto& [key, workload] : workloads_) {
    json calls = json::array();
    for (const auto& [callKey, stats] : workload.calls) {
      providers.insert(callKey.providerId);
      connections += stats.connections;
      calls.push_back({
          {"provider", callKey.providerId},
          {"provider_name", stats.providerName},
          {"category", stats.category},
          {"host", callKey.host},
          {"port", callKey.port},
          {"protocol", toString(callKey.transport)},
          {"matched_by", toString(callKey.method)},
          {"first_seen", formatTimestamp(stats.firstSeen)},
          {"last_seen", formatTimestamp(stats.lastSeen)},
          {"connections", stats.connections},
          {"enforced_connections", stats.enforcedConnections},
          {"pids", std::vector<int>(stats.pids.begin(), stats.pids.end())},
      });
    }
    workloads.push_back({{"workload", workloadJson(key.cgroupPath)},
                         {"process", processJson(workload.sample)},
                         {"calls", std::move(calls)}});
  }

  json envKeys = json::array();
  for (const auto& item : envKeys_) {
    envKeys.push_back({{"pid", item.finding.pid},
                       {"variable", item.finding.variable},
                       {"fingerprint", item.finding.fingerprint},
                       {"providers", item.providers},
                       {"workload", workloadJson(item.process.cgroupPath)},
                       {"process", processJson(item.process)}});
  }

  json lost = json::object();
  for (size_t slot = 0; slot < SHADOWAI_LOST_SLOTS; ++slot) lost[lostSlotName(slot)] = context.lostEvents[slot];
  lost["total"] = totalLost(context);

  const auto& counters = context.counters;
  const double seconds =
      std::chrono::duration<double>(context.endedAt - context.startedAt).count();
  return {
      {"schema", "shadowai-scan/1"},
      {"version", SHADOWAI_VERSION},
      {"host", context.hostName},
      {"scope", {{"cgroup", context.cgroupScope}}},
      {"shadowaid_enforcing", context.sawShadowaidRedirects},
      {"started_at", formatTimestamp(context.startedAt)},
      {"ended_at", formatTimestamp(context.endedAt)},
      {"duration_seconds", std::round(seconds * 1000) / 1000},
      {"ended_early", context.endedEarly},
      {"catalog", {{"providers", context.catalogProviders}, {"entries", context.catalogEntries}}},
      {"workloads", std::move(workloads)},
      {"env_keys", std::move(envKeys)},
      {"totals",
       {{"llm_connections", connections},
        {"workloads", workloads_.size()},
        {"providers", providers.size()},
        {"env_key_findings", envKeys_.size()},
        {"processes_scanned", context.processesScanned},
        {"processes_skipped", context.processesSkipped},
        {"events",
         {{"tcp_connects", counters.connects},
          {"udp_flows", counters.datagramFlows},
          {"dns_queries", counters.dnsQueries},
          {"dns_answers", counters.dnsAnswers},
          {"dns_answers_unparsed", counters.dnsAnswersUnparsed},
          {"tls_hellos", counters.tlsHellos},
          {"tls_hellos_without_sni", counters.tlsHellosWithoutName},
          {"http_requests", counters.httpRequests},
          {"non_catalog_flows", counters.nonCatalogFlows},
          {"malformed_records", context.malformedRecords}}},
        {"pre_resolved_addresses", context.preResolvedAddresses},
        {"lost_events", std::move(lost)}}},
  };
}

std::string ScanReport::toTable(const ScanContext& context) const {
  std::string out;
  const double seconds = std::chrono::duration<double>(context.endedAt - context.startedAt).count();
  char heading[256];
  std::snprintf(heading, sizeof(heading), "shadowai-scan %s: %.1f s on %s, cgroup %s%s, catalog of %zu providers\n\n",
                SHADOWAI_VERSION, seconds, context.hostName.c_str(), context.cgroupScope.c_str(),
                context.endedEarly ? " (ended early)" : "", context.catalogProviders);
  out += heading;

  TextTable calls({"WORKLOAD", "PROCESS", "USER", "PROVIDER", "HOST", "PORT", "PROTO", "MATCH", "FIRST", "LAST",
                   "CONNS", "ENFORCED"});
  std::set<std::string> providers;
  uint64_t connections = 0;
  for (const auto& [key, workload] : workloads_) {
    for (const auto& [callKey, stats] : workload.calls) {
      providers.insert(callKey.providerId);
      connections += stats.connections;
      std::string provider = callKey.providerId;
      if (stats.category == "local") provider += " (local)";
      calls.addRow({workloadDisplay(key.cgroupPath), key.process, key.user, provider, callKey.host,
                    std::to_string(callKey.port), toString(callKey.transport), toString(callKey.method),
                    clockTime(stats.firstSeen), clockTime(stats.lastSeen), std::to_string(stats.connections),
                    std::to_string(stats.enforcedConnections)});
    }
  }
  out += "LLM calls\n";
  out += calls.empty() ? "  none seen\n" : calls.render();
  if (context.sawShadowaidRedirects) {
    out += "  shadowaid enforces workloads here: ENFORCED counts the calls its proxy governed (shown with their "
           "real destination)\n";
  }

  TextTable keys({"WORKLOAD", "PID", "PROCESS", "USER", "VARIABLE", "PROVIDERS", "FINGERPRINT"});
  for (const auto& item : envKeys_) {
    std::string providerList;
    for (const auto& provider : item.providers) providerList += (providerList.empty() ? "" : ",") + provider;
    keys.addRow({workloadDisplay(item.process.cgroupPath), std::to_string(item.finding.pid),
                 processLabel(item.process), item.process.userName, item.finding.variable, providerList,
                 item.finding.fingerprint});
  }
  out += "\nLLM API keys in process environments\n";
  out += keys.empty() ? "  none found\n" : keys.render();

  char totals[512];
  const auto& lost = context.lostEvents;
  std::snprintf(totals, sizeof(totals),
                "\nTotals: %llu LLM connection(s) from %zu workload(s) to %zu provider(s); %zu key(s) in "
                "environments of %zu processes scanned\n"
                "Events: %llu TCP connects, %llu UDP flows, %llu TLS hellos, %llu DNS answers; lost %llu "
                "(connect %llu, sendmsg %llu, tls %llu, dns %llu, exec %llu)\n",
                static_cast<unsigned long long>(connections), workloads_.size(), providers.size(), envKeys_.size(),
                context.processesScanned, static_cast<unsigned long long>(context.counters.connects),
                static_cast<unsigned long long>(context.counters.datagramFlows),
                static_cast<unsigned long long>(context.counters.tlsHellos),
                static_cast<unsigned long long>(context.counters.dnsAnswers),
                static_cast<unsigned long long>(totalLost(context)), static_cast<unsigned long long>(lost[0]),
                static_cast<unsigned long long>(lost[1]), static_cast<unsigned long long>(lost[2]),
                static_cast<unsigned long long>(lost[3]), static_cast<unsigned long long>(lost[4]));
  out += totals;
  if (totalLost(context) > 0) {
    out += "WARNING: events were lost; the report may miss connections (see docs/scan-report.md)\n";
  }
  return out;
}

}  // namespace shadowai
