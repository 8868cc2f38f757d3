// ProxyContext: what every worker thread of a ProxyServer shares: the options, the injected
// callbacks (wrapped so that a throwing callback cannot take a worker down) and the counters.
// Created before the workers and destroyed after them.
#pragma once

#include "proxy/connection_decision.h"
#include "proxy/original_destination.h"
#include "proxy/proxy_counters.h"
#include "proxy/proxy_event.h"
#include "proxy/proxy_options.h"

namespace shadowai {

class ProxyContext {
 public:
  ProxyContext(ProxyOptions options, OriginalDestinationLookup lookup, ConnectionDecider decider,
               ProxyEventSink onEvent)
      : options_(std::move(options)),
        lookup_(std::move(lookup)),
        decider_(std::move(decider)),
        onEvent_(std::move(onEvent)) {}

  const ProxyOptions& options() const { return options_; }
  ProxyCounterCells& counters() { return counters_; }
  const ProxyCounterCells& counters() const { return counters_; }

  // A throwing lookup counts as "nothing recorded", a throwing decider as kRefuse: both fail closed.
  std::optional<OriginalDestination> lookup(int acceptedFd);
  ConnectionVerdict decide(const ConnectionFacts& facts);
  void report(const ProxyEvent& event);

 private:
  const ProxyOptions options_;
  const OriginalDestinationLookup lookup_;
  const ConnectionDecider decider_;
  const ProxyEventSink onEvent_;
  ProxyCounterCells counters_;
};

}  // namespace shadowai
