// ScanReport: what shadowai-scan prints. Detections and environment findings are aggregated per
// workload (cgroup -> unit/container, with exe and user), then rendered as a table for people or
// as JSON (schema "shadowai-scan/1", documented in docs/scan-report.md) for scripts.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "bpf/observer.h"
#include "observe/detection.h"
#include "observe/env_keys.h"
#include "observe/flow_tracker.h"

namespace shadowai {

// Facts about the run itself, shown in the header and the totals.
struct ScanContext {
  std::string hostName;
  std::string cgroupScope;  // the cgroup v2 path the programs were attached to ("/" = whole host)
  std::chrono::system_clock::time_point startedAt;
  std::chrono::system_clock::time_point endedAt;
  bool endedEarly = false;  // Ctrl-C / SIGTERM
  size_t catalogProviders = 0;
  size_t catalogEntries = 0;
  FlowTrackerCounters counters;
  LostEventCounts lostEvents{};
  uint64_t malformedRecords = 0;
  size_t processesScanned = 0;
  size_t processesSkipped = 0;
  size_t preResolvedAddresses = 0;
  // A running shadowaid's record of redirected connects was shared: its enforced workloads' calls
  // are reported with their real destination (and counted as enforced).
  bool sawShadowaidRedirects = false;
};

struct EnvKeyReportItem {
  EnvKeyFinding finding;
  ProcessIdentity process;
  std::vector<std::string> providers;
};

class ScanReport {
 public:
  void addDetection(const Detection& detection);
  void addEnvKey(EnvKeyReportItem item);

  // Any hosted-provider call or any key in an environment. Local model servers are informational.
  bool hasFindings() const;
  size_t callCount() const;

  nlohmann::json toJson(const ScanContext& context) const;
  std::string toTable(const ScanContext& context) const;

 private:
  struct CallKey {
    std::string providerId, host;
    uint16_t port = 0;
    Transport transport = Transport::kTcp;
    MatchMethod method = MatchMethod::kSni;
    auto operator<=>(const CallKey&) const = default;
  };
  struct CallStats {
    std::string providerName, category;
    std::chrono::system_clock::time_point firstSeen, lastSeen;
    uint64_t connections = 0;
    uint64_t enforcedConnections = 0;  // of them, taken into a running shadowaid's proxy
    std::set<int> pids;
  };
  struct WorkloadKey {
    std::string cgroupPath, process, user;
    auto operator<=>(const WorkloadKey&) const = default;
  };
  struct WorkloadCalls {
    ProcessIdentity sample;  // identity of the first detection, for exe/comm/uid
    std::map<CallKey, CallStats> calls;
  };

  std::map<WorkloadKey, WorkloadCalls> workloads_;
  std::vector<EnvKeyReportItem> envKeys_;
};

std::string formatTimestamp(std::chrono::system_clock::time_point when);

}  // namespace shadowai
