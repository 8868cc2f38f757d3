// ConnectionRouter: where an enforced workload's connection goes once the proxy has peeked at it.
// The proxy carries the facts out (ConnectionFacts) and the verdict in (ConnectionDecision); the
// rules live here: a TLS connection whose SNI is a hosted catalog host is intercepted (or, with
// interception off, spliced with an llm-call-passed-through alert); one without SNI to an address
// the catalog names, and a plain-HTTP request to a provider, are refused or spliced as the no-SNI
// setting says, with an alert; everything else is spliced untouched.
//
// It needs no kernel: the daemon gives it the catalog and the names it learned for addresses, and
// hands its decide and mayConnectEarly to the proxy as callbacks. Both run on proxy worker
// threads, several at once; everything they read is immutable or internally locked.
#pragma once

#include <atomic>
#include <cstdint>

#include "audit/alert_sink.h"
#include "catalog/catalog.h"
#include "daemon/daemon_config.h"
#include "observe/address_names.h"
#include "observe/detection.h"
#include "observe/process_info.h"
#include "proxy/connection_decision.h"
#include "proxy/original_destination.h"

namespace shadowai {

struct ConnectionRouterSettings {
  // A connection without SNI (or plain HTTP) to a provider: DaemonConfig::noSniCatalogAddress.
  NoSniCatalogAddressAction noSniCatalogAddress = NoSniCatalogAddressAction::kAlert;
  // An LLM call is intercepted only when the daemon runs an interceptor; otherwise it is spliced.
  bool interceptionEnabled = true;
};

class ConnectionRouter {
 public:
  // CATALOG, DNS_NAMES, RESOLVED_NAMES and ALERTS must outlive the router. LOOKUP_PROCESS names
  // who connected, from proxy threads: the daemon's reads /proc (readProcessIdentity).
  ConnectionRouter(const Catalog& catalog, const AddressNames& dnsNames, const AddressNames& resolvedNames,
                   ConnectionRouterSettings settings, AlertSink& alerts, ProcessLookup lookupProcess);
  ConnectionRouter(const ConnectionRouter&) = delete;
  ConnectionRouter& operator=(const ConnectionRouter&) = delete;

  // ProxyCallbacks::connectEarly: may the proxy connect to DESTINATION before the verdict?
  bool mayConnectEarly(const OriginalDestination& destination) const;

  // ProxyCallbacks::decide: the verdict, with the InterceptTarget when it is kIntercept. Sends the
  // alert the verdict calls for (passed through, no SNI, plain HTTP); an intercepted call's own
  // alerts come from the interception.
  ConnectionDecision decide(const ConnectionFacts& facts);

  // LLM connections spliced because interception is off (status: proxy.passed_through_llm_calls).
  uint64_t passedThroughCalls() const { return passedThrough_.load(std::memory_order_relaxed); }

  // Forgets addresses that served intercepted calls long ago; from the daemon's periodic work.
  void prune() { interceptedNames_.prune(); }

 private:
  // An enforced plain-HTTP request whose Host is a hosted catalog endpoint.
  ConnectionDecision decidePlainHttp(const ConnectionFacts& facts, const std::string& host,
                                     const std::string& providerId);
  bool refusesWithoutSni() const { return settings_.noSniCatalogAddress == NoSniCatalogAddressAction::kRefuse; }

  const Catalog& catalog_;
  const AddressNames& dnsNames_;
  const AddressNames& resolvedNames_;
  const ConnectionRouterSettings settings_;
  AlertSink& alerts_;
  const ProcessLookup lookupProcess_;
  // Addresses whose enforced connections named a catalog host in their SNI: the proxy waits for
  // the verdict before connecting there (an early connect would go to waste, see mayConnectEarly).
  AddressNames interceptedNames_;
  std::atomic<uint64_t> passedThrough_{0};
};

}  // namespace shadowai
