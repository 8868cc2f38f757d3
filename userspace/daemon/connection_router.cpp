#include "daemon/connection_router.h"

#include "catalog/flow_classifier.h"
#include "cgroup/workload.h"
#include "intercept/intercept_target.h"

namespace shadowai {

namespace {

// How long an address is remembered as an LLM endpoint after an intercepted call to it (plus the
// AddressNames grace period).
constexpr uint32_t kInterceptedAddressTtlSeconds = 3600;

// What the interception and its policy need to know of the call's provider and workload.
std::shared_ptr<InterceptTarget> interceptTargetFor(const Classification& classification,
                                                    const ProcessIdentity& process, const Workload& workload,
                                                    AlertFields fields) {
  auto target = std::make_shared<InterceptTarget>();
  target->providerId = classification.match.entry->providerId;
  target->providerName = classification.match.entry->providerName;
  target->apiFamily = classification.match.entry->apiFamily;
  target->host = classification.host;
  target->cgroupPath = process.cgroupPath;
  target->unitName = workload.unit;
  target->workload.cgroupPath = process.cgroupPath;
  target->workload.unit = workload.unit;
  if (!workload.containerId.empty()) {
    target->workload.containerId = workload.containerRuntime.empty()
                                       ? workload.containerId
                                       : workload.containerRuntime + ":" + workload.containerId;
  }
  if (process.pid != 0) {
    target->workload.uid = process.uid;
    target->workload.user = process.userName;
    target->workload.exe = process.exe;
  }
  target->alertFields = std::move(fields);
  return target;
}

}  // namespace

ConnectionRouter::ConnectionRouter(const Catalog& catalog, const AddressNames& dnsNames,
                                   const AddressNames& resolvedNames, ConnectionRouterSettings settings,
                                   AlertSink& alerts, ProcessLookup lookupProcess)
    : catalog_(catalog),
      dnsNames_(dnsNames),
      resolvedNames_(resolvedNames),
      settings_(settings),
      alerts_(alerts),
      lookupProcess_(std::move(lookupProcess)) {}

bool ConnectionRouter::mayConnectEarly(const OriginalDestination& destination) const {
  // decide() can only refuse a connection to an address the catalog names: to any other address
  // the verdict is a splice, or an interception when the SNI is a catalog host. So those addresses
  // wait for the verdict before the proxy touches them, and so do addresses already seen serving
  // intercepted calls: there the early connect would mostly go to waste (an interception reuses
  // its pooled upstream connections) and touch the provider for nothing.
  if (!interceptedNames_.namesOf(destination.address).empty()) return false;
  FlowEvidence evidence;
  evidence.dnsNames = dnsNames_.namesOf(destination.address);
  evidence.resolvedNames = resolvedNames_.namesOf(destination.address);
  evidence.port = destination.port;
  auto classification = classifyFlow(catalog_, evidence);
  return !classification || classification->match.entry->category != EndpointCategory::kHosted;
}

ConnectionDecision ConnectionRouter::decide(const ConnectionFacts& facts) {
  const auto& destination = facts.destination;
  if (!facts.isTls && facts.httpHost) {
    // A provider called without TLS: its Host header names it whatever the address. Nothing to
    // intercept (no TLS to terminate): refused or passed as a connection without SNI would be.
    auto match = matchHttpHost(catalog_, *facts.httpHost, destination.port);
    if (match && match->entry->category == EndpointCategory::kHosted) {
      return decidePlainHttp(facts, *facts.httpHost, match->entry->providerId);
    }
  }
  FlowEvidence evidence;
  if (facts.sni) evidence.sni = *facts.sni;
  evidence.dnsNames = dnsNames_.namesOf(destination.address);
  evidence.resolvedNames = resolvedNames_.namesOf(destination.address);
  evidence.port = destination.port;
  auto classification = classifyFlow(catalog_, evidence);
  if (!classification || classification->match.entry->category != EndpointCategory::kHosted) {
    return ConnectionVerdict::kSplice;  // not an LLM call: untouched
  }
  const ProcessIdentity process = lookupProcess_(destination.pid, destination.cgroupId);
  AlertFields fields;
  fields.add(AlertField::kProvider, classification->match.entry->providerId)
      .add(AlertField::kHost, classification->host)
      .add(AlertField::kMatch, toString(classification->method))
      .add(AlertField::kAddress, destination.address.toString())
      .add(AlertField::kPort, destination.port)
      .add(AlertField::kProtocol, "tcp")
      .addProcess(process);
  const Workload workload = workloadFromCgroupPath(process.cgroupPath);
  if (!process.cgroupPath.empty()) fields.addWorkload(workload);

  if (classification->method == MatchMethod::kSni) {
    if (settings_.interceptionEnabled) {
      interceptedNames_.learn(destination.address, {classification->host}, kInterceptedAddressTtlSeconds);
      return ConnectionDecision(ConnectionVerdict::kIntercept,
                                interceptTargetFor(*classification, process, workload, std::move(fields)));
    }
    // Counted before the alert goes out: whoever reads the alert finds it in the status.
    passedThrough_.fetch_add(1, std::memory_order_relaxed);
    fields.add(AlertField::kAction, "passed");
    (void)alerts_.send(AlertKind::kLlmCallPassedThrough,
                       "enforced workload called " + classification->match.entry->providerName + " at " +
                           classification->host + "; passed through (interception is disabled)",
                       fields);
    return ConnectionVerdict::kSplice;
  }
  const bool refuse = refusesWithoutSni();
  fields.add(AlertField::kAction, refuse ? "refused" : "passed");
  (void)alerts_.send(AlertKind::kNoSniCatalogAddress,
                     std::string("enforced connection without SNI to ") + destination.address.toString() + " (" +
                         classification->host + "); " + (refuse ? "refused" : "passed through"),
                     fields);
  return refuse ? ConnectionVerdict::kRefuse : ConnectionVerdict::kSplice;
}

ConnectionDecision ConnectionRouter::decidePlainHttp(const ConnectionFacts& facts, const std::string& host,
                                                     const std::string& providerId) {
  const auto& destination = facts.destination;
  const ProcessIdentity process = lookupProcess_(destination.pid, destination.cgroupId);
  const bool refuse = refusesWithoutSni();
  AlertFields fields;
  fields.add(AlertField::kProvider, providerId)
      .add(AlertField::kHost, host)
      .add(AlertField::kMatch, "http-host")
      .add(AlertField::kAddress, destination.address.toString())
      .add(AlertField::kPort, destination.port)
      .add(AlertField::kProtocol, "http")
      .addProcess(process);
  if (!process.cgroupPath.empty()) fields.addWorkload(workloadFromCgroupPath(process.cgroupPath));
  fields.add(AlertField::kAction, refuse ? "refused" : "passed");
  (void)alerts_.send(AlertKind::kNoSniCatalogAddress,
                     "enforced plain-HTTP call (no TLS) to " + host + " at " +
                         formatEndpoint(destination.address, destination.port) + "; " +
                         (refuse ? "refused" : "passed through unmasked"),
                     fields);
  return refuse ? ConnectionVerdict::kRefuse : ConnectionVerdict::kSplice;
}

}  // namespace shadowai
