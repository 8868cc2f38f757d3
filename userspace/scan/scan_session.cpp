#include "scan/scan_session.h"

#include <unistd.h>

#include <map>
#include <set>

#include "bpf/kernel_support.h"
#include "bpf/observer.h"
#include "catalog/catalog.h"
#include "cgroup/cgroup_fs.h"
#include "cgroup/cgroup_path.h"
#include "observe/catalog_resolver.h"
#include "observe/hosts_file.h"
#include "observe/env_keys.h"
#include "observe/flow_tracker.h"
#include "observe/process_attributor.h"
#include "observe/process_info.h"

namespace shadowai {
namespace {

constexpr uint16_t kDnsPort = 53;
constexpr uint16_t kPlainHttpPort = 80;
constexpr int kPollIntervalMs = 200;

std::string hostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

std::set<std::string> envKeyNames(const Catalog& catalog) {
  std::set<std::string> names;
  for (const auto& [name, providers] : catalog.envKeys()) names.insert(name);
  return names;
}

size_t providerCount(const Catalog& catalog) {
  std::set<std::string> ids;
  for (const auto& entry : catalog.entries()) ids.insert(entry.providerId);
  return ids.size();
}

// Adds FINDING to the report unless its (pid, variable) is in SEEN already.
void addEnvFinding(const Catalog& catalog, EnvKeyFinding finding, ScanReport& report,
                   std::set<std::pair<int, std::string>>& seen) {
  if (!seen.emplace(finding.pid, finding.variable).second) return;
  EnvKeyReportItem item;
  if (auto info = readProcessInfo(finding.pid)) {
    item.process.pid = info->pid;
    item.process.uid = info->uid;
    item.process.userName = info->userName;
    item.process.comm = info->comm;
    item.process.exe = info->exe;
    item.process.cmdline = info->cmdline;
    item.process.cgroupPath = info->cgroupPath;
  } else {
    item.process.pid = finding.pid;
  }
  auto providers = catalog.envKeys().find(finding.variable);
  if (providers != catalog.envKeys().end()) item.providers = providers->second;
  item.finding = std::move(finding);
  report.addEnvKey(std::move(item));
}

// Looks for keys in the environments of processes under the scanned cgroup, adding what it has not
// seen yet. Run at the start and at the end, so processes that live through either moment count;
// processes that start in between are read when they exec (checkProcessEnvironment).
void scanEnvironments(const Catalog& catalog, const std::string& relativeCgroup, ScanReport& report,
                      std::set<std::pair<int, std::string>>& seen, ScanContext& context) {
  std::optional<std::string> filter;
  if (relativeCgroup != "/") filter = relativeCgroup;
  EnvScanResult result = scanEnvKeys(envKeyNames(catalog), filter);
  context.processesScanned = std::max(context.processesScanned, result.processesScanned);
  context.processesSkipped = std::max(context.processesSkipped, result.processesSkipped);
  for (auto& finding : result.findings) addEnvFinding(catalog, std::move(finding), report, seen);
}

// One process's environment, when it execs or connects to an LLM provider mid-scan.
void checkProcessEnvironment(const Catalog& catalog, const std::set<std::string>& names, int pid, ScanReport& report,
                             std::set<std::pair<int, std::string>>& seen) {
  auto findings = findEnvKeys(pid, names);
  if (!findings) return;  // gone already, or not ours to read
  for (auto& finding : *findings) addEnvFinding(catalog, std::move(finding), report, seen);
}

}  // namespace

Result<ScanOutcome> ScanSession::run(const std::atomic<bool>& stop, const ProgressCallback& progress) {
  const std::string shippedCatalog =
      options_.shippedCatalog.empty() ? Catalog::defaultShippedFile() : options_.shippedCatalog;
  auto catalog = Catalog::load(shippedCatalog, options_.catalogDirs);
  if (!catalog) return catalog.error();

  if (auto support = checkKernelSupport(); !support) return support.error();
  auto cgroup2Root = findCgroup2Mount();
  if (!cgroup2Root) return cgroup2Root.error();
  auto scope = resolveCgroup(*cgroup2Root, options_.cgroup);
  if (!scope) return makeError("bad --cgroup: " + scope.error().message);

  ScanOutcome outcome;
  ScanContext& context = outcome.context;
  ScanReport& report = outcome.report;
  context.hostName = hostName();
  context.cgroupScope = scope->relative;
  context.catalogProviders = providerCount(*catalog);
  context.catalogEntries = catalog->size();
  context.startedAt = std::chrono::system_clock::now();

  std::set<std::pair<int, std::string>> envSeen;
  const std::set<std::string> keyNames = envKeyNames(*catalog);
  scanEnvironments(*catalog, scope->relative, report, envSeen, context);

  AddressNames dnsNames;
  AddressNames resolvedNames;
  CatalogResolver resolver(catalog->exactHosts(), resolvedNames);
  resolver.start();
  // Kept for the whole scan, however long it runs.
  const auto scanSeconds = std::chrono::duration_cast<std::chrono::seconds>(options_.duration).count();
  learnCatalogHosts(*catalog, kSystemHostsFile, resolvedNames, static_cast<uint32_t>(scanSeconds + 60));

  ProcessAttributor attributor(*cgroup2Root);
  FlowTracker::Options trackerOptions;
  trackerOptions.sniWait = options_.sniWait;
  FlowTracker tracker(
      *catalog, dnsNames, resolvedNames,
      [&attributor](const shadowai_event_header& header) { return attributor.identify(header); },
      [&](const Detection& detection) {
        report.addDetection(detection);
        // A process calling a provider may hold the key it calls with.
        if (detection.process.pid > 0) {
          checkProcessEnvironment(*catalog, keyNames, detection.process.pid, report, envSeen);
        }
      },
      trackerOptions);

  ObserverOptions observerOptions;
  observerOptions.cgroupPath = scope->absolute;
  observerOptions.cgroupLevel = cgroupLevelOf(scope->relative);
  observerOptions.watchedPorts = catalog->ports();
  observerOptions.watchedPorts.push_back(kDnsPort);
  // Plain HTTP's port: a provider called without TLS is named by its request's Host header.
  observerOptions.watchedPorts.push_back(kPlainHttpPort);
  observerOptions.daemonPinDir = options_.shadowaidPinDir;
  // An enforced workload's ClientHello travels to the proxy port: watched, so its SNI still names
  // the provider (the connect, seen through shadowaid's record, gave the real destination).
  if (!options_.shadowaidPinDir.empty()) observerOptions.watchedPorts.push_back(options_.shadowaidProxyPort);
  auto observer = Observer::start(observerOptions, [&](const RawEvent& event) {
    if (event.header->kind == SHADOWAI_EV_EXEC) {
      checkProcessEnvironment(*catalog, keyNames, static_cast<int>(event.header->pid), report, envSeen);
      return;
    }
    tracker.onEvent(event);
  });
  if (!observer) return observer.error();
  context.sawShadowaidRedirects = (*observer)->sharesDaemonRedirects();

  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + options_.duration;
  auto nextProgress = started;
  while (!stop.load()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    auto polled = (*observer)->poll(static_cast<int>(std::min<int64_t>(left.count(), kPollIntervalMs)));
    if (!polled) return polled.error();
    tracker.expire();
    if (progress && now >= nextProgress) {
      progress(ScanProgress{left, report.callCount()});
      nextProgress = now + std::chrono::seconds(1);
    }
  }
  context.endedEarly = stop.load();

  // Take what is still in the ring buffer, then stop observing before deciding the rest.
  if (auto drained = (*observer)->drain(); !drained) return drained.error();
  context.lostEvents = (*observer)->lostEvents();
  context.malformedRecords = (*observer)->malformedRecords();
  observer->reset();
  tracker.flush();
  resolver.stop();
  context.preResolvedAddresses = resolvedNames.size();
  context.counters = tracker.counters();

  scanEnvironments(*catalog, scope->relative, report, envSeen, context);
  context.endedAt = std::chrono::system_clock::now();
  return outcome;
}

}  // namespace shadowai
