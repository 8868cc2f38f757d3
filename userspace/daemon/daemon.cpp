#include "daemon/daemon.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <malloc.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "bpf/kernel_support.h"
#include "cgroup/cgroup_fs.h"
#include "cgroup/cgroup_path.h"
#include "cgroup/workload.h"
#include "daemon/call_alerts.h"
#include "net/network_namespace.h"
#include "observe/env_keys.h"
#include "observe/hosts_file.h"
#include "observe/process_info.h"

namespace shadowai {
namespace {

constexpr uint16_t kDnsPort = 53;
constexpr uint16_t kPlainHttpPort = 80;
constexpr int kPollIntervalMs = 200;
constexpr auto kPeriodicInterval = std::chrono::seconds(1);
constexpr auto kMemoryTrimInterval = std::chrono::seconds(5);
// Reading every process environment is the costliest periodic job; keys rarely appear mid-life.
constexpr auto kEnvScanInterval = std::chrono::seconds(30);
// /etc/hosts is read again this often; its entries live a little longer (plus AddressNames' grace),
// so one that is removed from the file is forgotten within minutes.
constexpr auto kHostsFileInterval = std::chrono::seconds(30);
constexpr uint32_t kHostsFileTtlSeconds = 120;

shadowai_mode toBpfMode(Mode mode) {
  switch (mode) {
    case Mode::kOff: return SHADOWAI_MODE_OFF;
    case Mode::kDetect: return SHADOWAI_MODE_DETECT;
    case Mode::kEnforce: return SHADOWAI_MODE_ENFORCE;
  }
  return SHADOWAI_MODE_DETECT;
}

std::string joinCgroupPath(const std::string& root, const std::string& relative) {
  return relative == "/" ? root : root + relative;
}

// Creates PATH with MODE when missing. An existing directory keeps its mode unless TIGHTEN_EXISTING
// (the state directory, which holds the CA key: never left open to others).
Status makeDirectory(const std::string& path, mode_t mode, bool tightenExisting) {
  std::error_code error;
  const bool created = std::filesystem::create_directories(path, error);
  if (error) return makeError("cannot create " + path, error.value());
  if (created || tightenExisting) ::chmod(path.c_str(), mode);
  return {};
}

// Each proxied connection holds two descriptors. Raise the soft limit to the hard one and admit
// no more connections than the descriptors left after a reserve for everything else (maps,
// control socket, /proc reads), so the proxy refuses (and counts) extra connections instead of
// starving the daemon of descriptors.
// EXTRA_RESERVE: descriptors held besides two per proxied connection (the interception's pooled idle
// upstream connections).
size_t connectionBudget(size_t configured, size_t extraReserve) {
  const rlim_t kReserve = 256 + static_cast<rlim_t>(extraReserve);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return configured;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  const size_t budget = limit.rlim_cur > 2 * kReserve ? static_cast<size_t>((limit.rlim_cur - kReserve) / 2) : 64;
  if (configured > budget) {
    std::fprintf(stderr,
                 "shadowaid: proxy.max_connections %zu lowered to %zu: RLIMIT_NOFILE is %llu (raise LimitNOFILE=)\n",
                 configured, budget, static_cast<unsigned long long>(limit.rlim_cur));
    return budget;
  }
  return configured;
}

uint64_t monotonicNowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

Daemon::Daemon(DaemonConfig config, DaemonOptions options, Catalog catalog, BuiltinDetectors builtinDetectors)
    : config_(std::move(config)),
      options_(options),
      catalog_(std::move(catalog)),
      builtinDetectors_(std::move(builtinDetectors)),
      alerter_(AlerterOptions{AlertRateLimit{}, options.alertsToStderr}),
      detectionAlerts_(catalog_, alerter_, readProcessIdentity) {}

Result<std::unique_ptr<Daemon>> Daemon::start(DaemonConfig config, DaemonOptions options) {
  const std::string catalogFile = config.catalogFile.empty() ? Catalog::defaultShippedFile() : config.catalogFile;
  auto catalog = Catalog::load(catalogFile, config.catalogDirs);
  if (!catalog) return catalog.error();
  // Shipped data like the catalog, and as necessary: without them no policy could mask anything.
  auto builtinDetectors = BuiltinDetectors::load(BuiltinDetectors::defaultFile());
  if (!builtinDetectors) return makeError("cannot load the built-in detectors: " + builtinDetectors.error().describe());
  if (auto support = checkKernelSupport(KernelUse::kDaemon); !support) return support.error();

  std::unique_ptr<Daemon> daemon(
      new Daemon(std::move(config), options, std::move(*catalog), std::move(*builtinDetectors)));
  if (auto started = daemon->startParts(); !started) {
    // The destructor's daemon-stopping alert says so (there was no daemon-started before it).
    daemon->stopReason_ = "start failed: " + started.error().describe();
    // A failed start leaves the kernel as it found it: programs this start attached and pinned come
    // off again. Links it found pinned mean enforcement was in force (a crashed or restarted daemon):
    // those stay, so enforced workloads keep failing closed rather than bypassing the proxy.
    const bool attachedHere = daemon->programs_ && !daemon->programs_->linksWerePinned();
    const std::string pinDir = daemon->config_.bpfPinDir;
    daemon.reset();
    if (attachedHere) {
      if (auto removed = DaemonPrograms::removePins(pinDir); !removed) {
        std::fprintf(stderr, "shadowaid: %s\n", removed.error().describe().c_str());
      }
    }
    return started.error();
  }
  return daemon;
}

Status Daemon::startParts() {
  startedAt_ = std::chrono::steady_clock::now();
  auto root = findCgroup2Mount();
  if (!root) return root.error();
  cgroup2Root_ = *root;
  auto attach = resolveCgroup(cgroup2Root_, config_.cgroup);
  if (!attach) return makeError("bad \"cgroup\" in the configuration: " + attach.error().message);
  attachPath_ = attach->absolute;
  governedCgroup_ = attach->relative;

  if (auto made = makeDirectory(config_.stateDir, 0700, /*tightenExisting=*/true); !made) return made;
  // The packages' tmpfiles.d make it 0750 root:shadowai (the control socket's group): kept as is.
  if (auto made = makeDirectory(config_.runtimeDir, 0755, /*tightenExisting=*/false); !made) return made;
  auto store = ModeStore::load(config_.stateDir);
  if (!store) return store.error();
  modes_.emplace(std::move(*store));

  // Detection: the scan's pipeline, fed by the daemon's programs.
  for (const auto& [name, providers] : catalog_.envKeys()) envKeyNames_.insert(name);
  resolver_ = std::make_unique<CatalogResolver>(catalog_.exactHosts(), resolvedNames_);
  attributor_ = std::make_unique<ProcessAttributor>(cgroup2Root_);
  FlowTracker::Options trackerOptions;
  trackerOptions.sniWait = config_.sniWait;
  tracker_ = std::make_unique<FlowTracker>(
      catalog_, dnsNames_, resolvedNames_,
      [this](const shadowai_event_header& header) { return attributor_->identify(header); },
      [this](const Detection& detection) { onDetection(detection); }, trackerOptions);

  DaemonProgramsOptions programOptions;
  programOptions.cgroupPath = attachPath_;
  programOptions.cgroupLevel = cgroupLevelOf(governedCgroup_);
  programOptions.pinDir = config_.bpfPinDir;
  programOptions.watchedPorts = catalog_.ports();
  programOptions.watchedPorts.push_back(kDnsPort);
  // Plain HTTP's port: a provider called without TLS is named by its request's Host header.
  programOptions.watchedPorts.push_back(kPlainHttpPort);
  // A redirected connection's ClientHello travels to the proxy port: watch it so detection still
  // sees the SNI (joined to the connect, which reported the original destination).
  programOptions.watchedPorts.push_back(config_.proxy.port);
  programOptions.redirectPorts = config_.proxy.redirectPorts;
  if (config_.proxy.listenIpv4) programOptions.proxyIpv4 = IpAddress::parse(*config_.proxy.listenIpv4);
  if (config_.proxy.listenIpv6) programOptions.proxyIpv6 = IpAddress::parse(*config_.proxy.listenIpv6);
  programOptions.proxyPort = config_.proxy.port;
  programOptions.upstreamMark = config_.proxy.upstreamMark;
  programOptions.failureOpen = config_.failureMode == FailureMode::kOpen;
  programOptions.heartbeatTimeout = config_.heartbeatTimeout;
  auto programs = DaemonPrograms::start(programOptions, [this](const RawEvent& event) { onEvent(event); });
  if (!programs) return programs.error();
  programs_ = std::move(*programs);
  if (auto applied = applyStoredModes(); !applied) return applied;
  syncPathModes();

  if (config_.failureMode == FailureMode::kOpen) {
    const uint64_t previous = programs_->heartbeatAtStartNs();
    const uint64_t timeoutNs = static_cast<uint64_t>(config_.heartbeatTimeout.count()) * 1'000'000'000ull;
    const uint64_t now = monotonicNowNs();
    if (previous != 0 && now > previous + timeoutNs) {
      AlertFields fields;
      fields.add(AlertField::kFailureMode, "open").add(AlertField::kUnenforcedSeconds, (now - previous - timeoutNs) / 1'000'000'000ull);
      (void)alerter_.send(AlertKind::kEnforcementResumed,
                          "enforcement resumed: enforced workloads' traffic flowed without the proxy while shadowaid was down",
                          fields);
    }
    if (auto beat = programs_->beat(); !beat) return beat;
  }
  resolver_->start();
  learnCatalogHosts(catalog_, kSystemHostsFile, resolvedNames_, kHostsFileTtlSeconds);
  nextHostsFileRead_ = std::chrono::steady_clock::now() + kHostsFileInterval;

  if (auto started = startInterceptor(); !started) return started;
  ProxyOptions proxyOptions;
  proxyOptions.listenIpv4 = config_.proxy.listenIpv4;
  proxyOptions.listenIpv6 = config_.proxy.listenIpv6;
  proxyOptions.port = config_.proxy.port;
  proxyOptions.threads = config_.proxy.threads;
  proxyOptions.peekTimeout = config_.proxy.peekTimeout;
  proxyOptions.connectTimeout = config_.proxy.connectTimeout;
  proxyOptions.idleTimeout = config_.proxy.idleTimeout;
  const unsigned proxyThreads =
      config_.proxy.threads != 0 ? config_.proxy.threads : std::max(1u, std::thread::hardware_concurrency());
  const size_t poolReserve = interceptor_ ? proxyThreads * UpstreamPoolOptions{}.maxIdleTotal : 0;
  proxyOptions.maxConnections = connectionBudget(config_.proxy.maxConnections, poolReserve);
  proxyOptions.upstreamMark = config_.proxy.upstreamMark;
  DaemonPrograms* programsForLookup = programs_.get();
  ProxyCallbacks callbacks;
  callbacks.lookup = [programsForLookup](int fd) -> std::optional<OriginalDestination> {
    auto recorded = programsForLookup->takeOriginalDestination(fd);
    if (!recorded) return std::nullopt;
    return OriginalDestination{recorded->address, recorded->port, recorded->cgroupId, recorded->pid, nullptr};
  };
  ConnectionRouterSettings routerSettings;
  routerSettings.noSniCatalogAddress = config_.noSniCatalogAddress;
  routerSettings.interceptionEnabled = interceptor_ != nullptr;
  router_ = std::make_unique<ConnectionRouter>(catalog_, dnsNames_, resolvedNames_, routerSettings, alerter_,
                                               readProcessIdentity);
  ConnectionRouter* router = router_.get();
  callbacks.decide = [router](const ConnectionFacts& facts) { return router->decide(facts); };
  callbacks.connectEarly = [router](const OriginalDestination& destination) { return router->mayConnectEarly(destination); };
  callbacks.onEvent = [this](const ProxyEvent& event) { onProxyEvent(event); };
  callbacks.interceptor = interceptor_;
  auto proxy = ProxyServer::start(proxyOptions, std::move(callbacks));
  if (!proxy) return makeError("cannot start the proxy: " + proxy.error().describe());
  proxy_ = std::move(*proxy);
  auto ownNetns = ownNamespace();
  if (!ownNetns) return ownNetns.error();
  ownNetns_ = *ownNetns;
  netnsListeners_ = std::make_unique<NetnsListeners>(
      *proxy_, [this](const EnforcedNamespace& where, const std::string& reason) { onNamespaceFailed(where, reason); },
      [](const std::string& line) { std::fprintf(stderr, "shadowaid: %s\n", line.c_str()); },
      [this](uint64_t cookie, std::optional<NetnsListeners::State> state) {
        std::optional<DaemonPrograms::NetnsState> kernelState;
        if (state) {
          kernelState = *state == NetnsListeners::State::kServed ? DaemonPrograms::NetnsState::kServed
                                                                   : DaemonPrograms::NetnsState::kCannotServe;
        }
        if (auto set = programs_->setNetnsState(cookie, kernelState); !set) {
          std::fprintf(stderr, "shadowaid: %s\n", set.error().describe().c_str());
        }
      });
  syncNamespaceListeners();

  ControlServerOptions controlOptions;
  controlOptions.socketPath = config_.controlSocket;
  controlOptions.controlGroup = config_.controlGroup;
  controlOptions.cgroup2Root = cgroup2Root_;
  controlOptions.governedCgroup = attach->relative;
  controlOptions.log = [](std::string_view line) { std::fprintf(stderr, "shadowaid: %.*s\n", static_cast<int>(line.size()), line.data()); };
  auto control = ControlServer::start(controlOptions, *this);
  if (!control) return control.error();
  control_ = std::move(*control);
  return {};
}

Status Daemon::startInterceptor() {
  if (!config_.intercept.enabled) {
    credentialsSummary_ = "interception disabled";
    return {};
  }
  // The CA is made on first start and kept: workloads and trust stores that trust it keep working.
  auto ca = LocalCa::loadOrCreate(config_.stateDir);
  if (!ca) return makeError("cannot set up the local CA: " + ca.error().describe());
  auto credentials = CredentialStore::load(config_.credentialsFile);
  if (!credentials) return credentials.error();
  credentialsSummary_ = credentials->describe();
  std::fprintf(stderr, "shadowaid: managed credentials: %s\n", credentialsSummary_.c_str());

  LlmInterceptorOptions options;
  const InterceptConfig& intercept = config_.intercept;
  options.upstreamCaBundle = intercept.upstreamCaBundle;
  options.settings.maxRequestBodyBytes = intercept.maxRequestBodyBytes;
  options.settings.maxRequestHeaderBytes = intercept.maxRequestHeaderBytes;
  options.settings.maxMaskCpu = intercept.maxMaskCpu;
  options.settings.maxBufferedBytes =
      intercept.maxBufferedBytes != 0
          ? intercept.maxBufferedBytes
          : BodyBudget::defaultLimit(static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                     static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)));
  options.settings.responseTimeout = intercept.responseTimeout;
  options.settings.idleTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(intercept.clientIdleTimeout);
  options.settings.upstream.idleTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(intercept.upstreamIdleTimeout);
  options.settings.upstream.connect.connectTimeout = config_.proxy.connectTimeout;
  options.settings.upstream.connect.handshakeTimeout = config_.proxy.connectTimeout;
  options.settings.upstream.connect.mark = config_.proxy.upstreamMark;
  options.onCall = [this](const InterceptedCall& call) {
    calls_.record(call);  // first: whoever reads the alert finds it counted
    (void)alertInterceptedCall(alerter_, call);
  };
  auto key = PseudonymKey::loadOrCreate(std::filesystem::path(config_.stateDir) / "pseudonym.key");
  if (!key) return makeError("cannot set up the pseudonym key: " + key.error().describe());
  pseudonymKey_ = std::make_shared<const PseudonymKey>(std::move(*key));
  auto runtime = loadPolicy();
  if (!runtime) return runtime.error();
  std::fprintf(stderr, "shadowaid: policy: %zu rules from %zu files in %s\n", (*runtime)->policy().ruleCount(),
               (*runtime)->policy().files().size(), config_.policyDir.c_str());
  policy_ = std::make_shared<PolicyHolder>(std::move(*runtime));
  options.policy = policy_;
  auto interceptor = LlmInterceptor::create(std::move(*ca), std::make_shared<const CredentialStore>(std::move(*credentials)),
                                            std::move(options));
  if (!interceptor) return makeError("cannot set up TLS interception: " + interceptor.error().describe());
  interceptor_ = std::move(*interceptor);
  return {};
}

Result<std::shared_ptr<const PolicyRuntime>> Daemon::loadPolicy() const {
  std::vector<PolicyProblem> problems;
  auto policy = Policy::load(config_.policyDir, builtinDetectors_, &problems);
  if (!policy) {
    std::string message = "invalid policy: " + policy.error().describe();
    if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more problems)";
    return makeError(message + "; run `shadowai policy check " + config_.policyDir + "` for the list");
  }
  return PolicyRuntime::create(std::move(*policy), pseudonymKey_);
}

nlohmann::json Daemon::policyStatus(const PolicyRuntime& runtime) const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : runtime.policy().files()) files.push_back(file.string());
  return {{"dir", config_.policyDir},
          {"files", files},
          {"rules", runtime.policy().ruleCount()},
          {"detectors", runtime.detectors().detectors().size()}};
}

Result<nlohmann::json> Daemon::reloadPolicy(const PeerCredentials& who) {
  if (!policy_) return makeError("interception is disabled: there is no policy to reload");
  std::lock_guard lock(reloadMutex_);
  const std::shared_ptr<const PolicyRuntime> previous = policy_->current();
  AlertFields fields;
  if (who.pid != 0) fields.add(AlertField::kRequesterUid, who.uid).add(AlertField::kRequesterPid, who.pid);
  auto runtime = loadPolicy();
  if (!runtime) {
    fields.add(AlertField::kPolicyFiles, previous->policy().files().size())
        .add(AlertField::kPolicyRules, previous->policy().ruleCount())
        .add(AlertField::kReason, runtime.error().describe());
    (void)alerter_.send(AlertKind::kPolicyRejected,
                        "policy reload rejected, the previous policy stays in force: " + runtime.error().describe(),
                        fields);
    return runtime.error();
  }
  fields.add(AlertField::kPolicyFiles, (*runtime)->policy().files().size())
      .add(AlertField::kPolicyRules, (*runtime)->policy().ruleCount());
  (void)alerter_.send(AlertKind::kPolicyReloaded,
                      "policy reloaded: " + std::to_string((*runtime)->policy().ruleCount()) + " rules from " +
                          std::to_string((*runtime)->policy().files().size()) + " files in " + config_.policyDir,
                      fields);
  nlohmann::json reply = policyStatus(**runtime);
  policy_->replace(std::move(*runtime));
  return nlohmann::json{{"policy", reply}};
}

Status Daemon::applyStoredModes() {
  // The store is the truth; the pinned map may hold entries of cgroups removed since, or miss
  // entries if the pins were cleared.
  std::map<uint64_t, shadowai_mode> wanted;
  for (const auto& [path, mode] : modes_->all()) {
    auto id = cgroupIdOfPath(joinCgroupPath(cgroup2Root_, path));
    if (!id) {
      // Only "no such cgroup" means gone (a stopped unit; applied again once it is back). Any
      // other failure (EMFILE when a workload exhausts our descriptors, EACCES...) must change
      // nothing: dropping an enforce entry on a transient error would fail open.
      if (id.error().errnum == ENOENT) continue;
      return makeError("cannot look up cgroup " + path + "; modes left as they were", id.error().errnum);
    }
    wanted[*id] = toBpfMode(mode);
  }
  for (const auto& [id, mode] : programs_->modes()) {
    if (!wanted.count(id)) {
      if (auto cleared = programs_->setMode(id, std::nullopt); !cleared) return cleared;
    }
  }
  const auto current = programs_->modes();
  for (const auto& [id, mode] : wanted) {
    auto found = current.find(id);
    if (found != current.end() && found->second == mode) continue;
    if (auto set = programs_->setMode(id, mode); !set) return set;
  }
  return {};
}

void Daemon::syncPathModes() {
  // The store is the truth here too: the pinned map may hold paths of a previous configuration.
  std::map<std::string, shadowai_mode> wanted;
  for (const auto& [path, mode] : modes_->all()) {
    if (!DaemonPrograms::fitsPathModes(path)) {
      std::fprintf(stderr,
                   "shadowaid: cgroup path %s is too long for the kernel-side mode table (%d bytes at most): "
                   "once it is re-created it gets its mode within a second, not at once\n",
                   path.c_str(), SHADOWAI_CGROUP_PATH_MAX - 2);
      continue;
    }
    wanted[path] = toBpfMode(mode);
  }
  auto report = [](const Status& status) {
    if (!status) std::fprintf(stderr, "shadowaid: %s\n", status.error().describe().c_str());
  };
  for (const auto& [path, mode] : programs_->pathModes()) {
    if (!wanted.count(path)) report(programs_->setPathMode(path, std::nullopt));
  }
  for (const auto& [path, mode] : wanted) report(programs_->setPathMode(path, mode));
}

Daemon::~Daemon() {
  const bool open = config_.failureMode == FailureMode::kOpen;
  (void)alerter_.send(AlertKind::kDaemonStopping,
                      open ? "shadowaid stopping; enforced cgroups' traffic flows directly once the heartbeat expires"
                           : "shadowaid stopping; enforced cgroups' LLM calls fail until it is back (fail closed)",
                      AlertFields()
                          .add(AlertField::kVersion, SHADOWAI_VERSION)
                          .add(AlertField::kReason, stopReason_.empty() ? std::string("stop requested") : stopReason_)
                          .add(AlertField::kFailureMode, std::string(toString(config_.failureMode))));
  if (control_) control_->stop();
  if (proxy_) proxy_->stop();
  if (resolver_) resolver_->stop();
}

Status Daemon::run(const std::atomic<bool>& stop, std::atomic<bool>* reload) {
  (void)alerter_.send(AlertKind::kDaemonStarted, "shadowaid started",
                      AlertFields()
                          .add(AlertField::kVersion, SHADOWAI_VERSION)
                          .add(AlertField::kCgroup, governedCgroup_)
                          .add(AlertField::kFailureMode, std::string(toString(config_.failureMode))));
  sd_notify(0, "READY=1");
  uint64_t watchdogUsec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdogUsec) > 0;

  auto nextPeriodic = std::chrono::steady_clock::now();
  while (!stop.load()) {
    auto polled = programs_->events().poll(kPollIntervalMs);
    if (!polled) {
      stopReason_ = "event loop failed: " + polled.error().describe();
      return polled.error();
    }
    tracker_->expire();
    if (reload && reload->exchange(false)) {
      if (auto reloaded = reloadPolicy(PeerCredentials{}); !reloaded) {
        std::fprintf(stderr, "shadowaid: SIGHUP: %s\n", reloaded.error().describe().c_str());
      } else {
        std::fprintf(stderr, "shadowaid: SIGHUP: policy reloaded\n");
      }
    }
    if (std::chrono::steady_clock::now() >= nextPeriodic) {
      periodicWork();
      if (watchdog) sd_notify(0, "WATCHDOG=1");
      nextPeriodic = std::chrono::steady_clock::now() + kPeriodicInterval;
    }
  }
  sd_notify(0, "STOPPING=1");
  return {};
}

void Daemon::scanEnvironments() {
  std::optional<std::string> filter;
  if (governedCgroup_ != "/") filter = governedCgroup_;
  detectionAlerts_.envScanFinished(scanEnvKeys(envKeyNames_, filter).findings);
}

void Daemon::checkProcessEnvironment(uint32_t pid) {
  auto findings = findEnvKeys(static_cast<int>(pid), envKeyNames_);
  if (!findings) return;  // gone already
  detectionAlerts_.envKeysFound(*findings);
}

void Daemon::syncNamespaceListeners() {
  if (!netnsListeners_) return;
  netnsListeners_->sync(findEnforcedNamespaces(cgroup2Root_, modes_->all(), ownNetns_));
}

void Daemon::onNetnsUnserved(const shadowai_event_header& header) {
  if (!netnsListeners_) return;
  const pid_t pid = static_cast<pid_t>(header.pid);
  auto cgroupPath = cgroupPathOfProcess(pid);
  if (!cgroupPath) return;  // gone already: its connect went with it
  auto where = enforcedNamespaceOf(pid, *cgroupPath, ownNetns_);
  if (!where) return;
  netnsListeners_->serve(where->first, where->second, header.socket_cookie);
}

bool Daemon::stillEnforcedThere(const EnforcedNamespace& where) const {
  auto cgroupPath = cgroupPathOfProcess(where.pid);
  if (!cgroupPath) return false;
  {
    std::lock_guard lock(mutex_);
    if (modes_->modeOf(*cgroupPath) != Mode::kEnforce) return false;
  }
  if (where.inode == 0) return true;  // unreadable: the walk tells
  auto inode = NetworkNamespace::inodeOfProcess(where.pid);
  return inode && *inode == where.inode;
}

void Daemon::onNamespaceFailed(const EnforcedNamespace& where, const std::string& reason) {
  ProcessIdentity process = readProcessIdentity(static_cast<uint32_t>(where.pid), 0);
  AlertFields fields;
  if (where.inode != 0) fields.add(AlertField::kNetns, where.inode);
  fields.add(AlertField::kReason, reason).addProcess(process);
  if (!process.cgroupPath.empty()) fields.addWorkload(workloadFromCgroupPath(process.cgroupPath));
  const std::string netns = where.inode != 0 ? "net:[" + std::to_string(where.inode) + "]" : "(unreadable)";
  (void)alerter_.send(AlertKind::kEnforceNetnsFailed,
                      "cannot enforce in network namespace " + netns + " of pid " +
                          std::to_string(where.pid) + " (cgroup " + where.cgroupPath +
                          "): its connections to redirected ports fail until the proxy listens there: " + reason,
                      fields);
}

void Daemon::periodicWork() {
  {
    // A unit restart (or a container re-creation) makes a new cgroup with a new id at the same
    // path; the mode belongs to the path, so carry it over to the new id.
    std::lock_guard lock(mutex_);
    if (auto applied = applyStoredModes(); !applied) {
      std::fprintf(stderr, "shadowaid: %s\n", applied.error().describe().c_str());
    }
  }
  // Listeners open on events (a mode change, the kernel holding a connect); the cgroup tree is
  // walked again only when a namespace's representative process has gone.
  if (netnsListeners_->representativeGone([this](const EnforcedNamespace& where) { return stillEnforcedThere(where); })) {
    syncNamespaceListeners();
  }
  netnsListeners_->retryFailed();
  if (std::chrono::steady_clock::now() >= nextEnvScan_) {
    scanEnvironments();
    nextEnvScan_ = std::chrono::steady_clock::now() + kEnvScanInterval;
  }
  if (std::chrono::steady_clock::now() >= nextHostsFileRead_) {
    learnCatalogHosts(catalog_, kSystemHostsFile, resolvedNames_, kHostsFileTtlSeconds);
    nextHostsFileRead_ = std::chrono::steady_clock::now() + kHostsFileInterval;
  }
  if (config_.failureMode == FailureMode::kOpen) {
    if (auto beat = programs_->beat(); !beat) std::fprintf(stderr, "shadowaid: %s\n", beat.error().describe().c_str());
  }
  if (auto synced = programs_->syncLlmAddresses(llmAddresses()); !synced) {
    std::fprintf(stderr, "shadowaid: %s\n", synced.error().describe().c_str());
  }
  dnsNames_.prune();
  router_->prune();
  const LostEventCounts lost = programs_->events().lostEvents();
  uint64_t totalLost = 0;
  for (uint64_t value : lost) totalLost += value;
  if (totalLost > lostReported_) {
    (void)alerter_.send(AlertKind::kEventsLost, "the kernel dropped observation events: detection may miss calls",
                        AlertFields().add(AlertField::kLostEvents, totalLost - lostReported_));
    lostReported_ = totalLost;
  }
  if (std::chrono::steady_clock::now() >= nextMemoryTrim_) {
    // Give freed heap pages back to the host: after a burst of connections or large calls glibc keeps
    // them in its arenas, and the daemon's RSS would stay at its peak. Here, never on a proxy thread.
    ::malloc_trim(0);
    nextMemoryTrim_ = std::chrono::steady_clock::now() + kMemoryTrimInterval;
  }
  std::lock_guard lock(mutex_);
  snapshot_.detection = tracker_->counters();
  snapshot_.lost = lost;
  snapshot_.quicRefused = quicRefused_;
}

std::vector<IpAddress> Daemon::llmAddresses() const {
  // The resolver only ever learns catalog names; names from DNS answers must match the catalog.
  std::vector<IpAddress> addresses;
  for (const auto& address : resolvedNames_.addresses()) {
    if (!resolvedNames_.namesOf(address).empty()) addresses.push_back(address);
  }
  for (const auto& address : dnsNames_.addresses()) {
    for (const auto& name : dnsNames_.namesOf(address)) {
      auto match = catalog_.matchHost(name, 443);
      if (match && match->entry->category == EndpointCategory::kHosted) {
        addresses.push_back(address);
        break;
      }
    }
  }
  return addresses;
}

void Daemon::onEvent(const RawEvent& event) {
  if (event.header->kind == SHADOWAI_EV_QUIC_REFUSED) {
    onQuicRefused(*event.header);
    return;
  }
  if (event.header->kind == SHADOWAI_EV_NETNS_UNSERVED) {
    onNetnsUnserved(*event.header);
    return;
  }
  if (event.header->kind == SHADOWAI_EV_EXEC) {
    // A new program, a new environment: read it now, not at the next 30-second pass.
    checkProcessEnvironment(event.header->pid);
    return;
  }
  tracker_->onEvent(event);
}

void Daemon::onDetection(const Detection& detection) {
  if (!detectionAlerts_.isFirstSighting(detection)) return;
  {
    // The counters status shows include this detection before its alert is out.
    std::lock_guard lock(mutex_);
    snapshot_.detection = tracker_->counters();
  }
  detectionAlerts_.callDetected(detection);
  // A process calling a provider may hold the key it calls with.
  if (detection.process.pid > 0) checkProcessEnvironment(static_cast<uint32_t>(detection.process.pid));
}

void Daemon::onQuicRefused(const shadowai_event_header& header) {
  {
    std::lock_guard lock(mutex_);
    snapshot_.quicRefused = ++quicRefused_;  // counted before the alert goes out
  }
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), header.remote.addr, 16);
  const IpAddress address(bytes);
  auto names = dnsNames_.namesOf(address);
  if (names.empty()) names = resolvedNames_.namesOf(address);
  detectionAlerts_.quicRefused(attributor_->identify(header), address,
                               names.empty() ? std::nullopt : std::optional(names.front()));
}

void Daemon::onProxyEvent(const ProxyEvent& event) {
  if (event.kind != ProxyEventKind::kRefusedNoDestination) return;  // the rest are counted
  AlertFields fields;
  fields.add(AlertField::kAddress, event.clientAddress.toString())
      .add(AlertField::kPort, event.clientPort)
      .add(AlertField::kAction, "refused");
  (void)alerter_.send(AlertKind::kProxyDirectConnectRefused,
                      "refused a connection from " + formatEndpoint(event.clientAddress, event.clientPort) +
                          " to the proxy port: it was not redirected by enforce mode",
                      fields);
}

Result<nlohmann::json> Daemon::setMode(const std::string& cgroupPath, std::optional<Mode> mode,
                                       const PeerCredentials& who) {
  auto id = cgroupIdOfPath(joinCgroupPath(cgroup2Root_, cgroupPath));
  if (!id) return makeError("unknown cgroup " + cgroupPath);
  std::lock_guard lock(mutex_);
  const Mode previous = modes_->modeOf(cgroupPath);
  Status stored = mode ? modes_->set(cgroupPath, *mode) : modes_->remove(cgroupPath);
  if (!stored) return stored.error();
  const std::optional<shadowai_mode> bpfMode = mode ? std::optional(toBpfMode(*mode)) : std::nullopt;
  // The path first: a restart of the unit from here on is covered in the kernel.
  if (auto applied = programs_->setPathMode(cgroupPath, bpfMode); !applied) return applied.error();
  if (auto applied = programs_->setMode(*id, bpfMode); !applied) return applied.error();
  const Mode effective = modes_->modeOf(cgroupPath);
  // Before the reply: once `shadowai enforce` returns, a container's workloads are served.
  syncNamespaceListeners();
  AlertFields fields;
  fields.add(AlertField::kCgroup, cgroupPath)
      .add(AlertField::kMode, std::string(mode ? toString(*mode) : "inherit"))
      .add(AlertField::kPreviousMode, std::string(toString(previous)))
      .add(AlertField::kRequesterUid, static_cast<uint64_t>(who.uid));
  if (who.pid > 0) fields.add(AlertField::kRequesterPid, static_cast<int64_t>(who.pid));
  (void)alerter_.send(AlertKind::kModeChanged,
                      "cgroup " + cgroupPath + " set to " + std::string(mode ? toString(*mode) : "inherit") +
                          " (effective " + std::string(toString(effective)) + ") by uid " + std::to_string(who.uid),
                      fields);
  return nlohmann::json{{"cgroup", cgroupPath},
                        {"mode", mode ? std::string(toString(*mode)) : std::string("inherit")},
                        {"effective_mode", std::string(toString(effective))}};
}

namespace {
// What became of the alerts (docs/daemon.md, "When journald is slow or down").
nlohmann::json alertsStatus(const AlertDeliveryCounts& counts) {
  return {{"delivered", counts.delivered},
          {"queued", counts.queued},
          {"lost_queue_full", counts.lostQueueFull},
          {"lost_refused", counts.lostRefused},
          {"lost_call_records", counts.lostCallRecords},
          {"loss_reports", counts.lostReports},
          {"rejected_malformed", counts.rejectedMalformed}};
}
}  // namespace

nlohmann::json Daemon::status() {
  const ProxyCounters proxy = proxy_->counters();
  std::lock_guard lock(mutex_);
  uint64_t lostTotal = 0;
  for (uint64_t value : snapshot_.lost) lostTotal += value;
  const auto& detection = snapshot_.detection;
  return {
      {"version", SHADOWAI_VERSION},
      {"pid", static_cast<int>(::getpid())},
      {"uptime_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - startedAt_).count()},
      {"cgroup", governedCgroup_},
      {"failure_mode", std::string(toString(config_.failureMode))},
      {"modes", modes_->toStatusJson()},
      {"intercept",
       {{"enabled", interceptor_ != nullptr},
        {"credentials", credentialsSummary_},
        {"ca", config_.stateDir + "/ca/ca.pem"},
        {"cached_certificates", interceptor_ ? interceptor_->cachedCertificates() : 0},
        {"buffered_bytes", interceptor_ ? interceptor_->bodyBudget().inUse() : 0},
        {"max_buffered_bytes", interceptor_ ? interceptor_->bodyBudget().limit() : 0},
        {"refused_over_budget", interceptor_ ? interceptor_->bodyBudget().refusals() : 0},
        {"calls", calls_.toJson()},
        {"policy", policy_ ? policyStatus(*policy_->current()) : nlohmann::json(nullptr)}}},
      {"proxy",
       {{"running", true},
        {"listen_ipv4", config_.proxy.listenIpv4 ? nlohmann::json(*config_.proxy.listenIpv4) : nlohmann::json(nullptr)},
        {"listen_ipv6", config_.proxy.listenIpv6 ? nlohmann::json(*config_.proxy.listenIpv6) : nlohmann::json(nullptr)},
        {"port", proxy_->port()},
        {"redirect_ports", config_.proxy.redirectPorts},
        {"network_namespaces", netnsListeners_->status()},
        {"accepted", proxy.accepted},
        {"spliced", proxy.spliced},
        {"early_connects", proxy.earlyConnects},
        {"intercepted_connections", proxy.intercepted},
        {"passed_through_llm_calls", router_->passedThroughCalls()},
        {"refused_no_destination", proxy.refusedNoDestination},
        {"refused_by_decision", proxy.refusedByDecision},
        {"refused_over_limit", proxy.refusedOverLimit},
        {"peek_timeouts", proxy.peekTimeouts},
        {"upstream_connect_failures", proxy.upstreamConnectFailures},
        {"escaped_exceptions", proxy.escapedExceptions},
        {"active", proxy.active},
        {"bytes_up", proxy.bytesUp},
        {"bytes_down", proxy.bytesDown}}},
      {"detection",
       {{"tcp_connects", detection.connects},
        {"detections", detection.detections},
        {"tls_hellos", detection.tlsHellos},
        {"dns_answers", detection.dnsAnswers},
        {"quic_refused", snapshot_.quicRefused},
        {"lost_events", lostTotal}}},
      {"alerts", alertsStatus(alerter_.deliveryCounts())},
  };
}

}  // namespace shadowai
