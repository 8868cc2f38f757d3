// ProxyContext: what every worker thread of a ProxyServer shares: the options, the injected
// callbacks (wrapped so that a throwing callback cannot take a worker down), the counters, and
// where exceptions that escape a coroutine are reported.
// Created before the workers and destroyed after them.
#pragma once

#include "proxy/escaped_exceptions.h"
#include "proxy/proxy_callbacks.h"
#include "proxy/proxy_counters.h"
#include "proxy/proxy_options.h"

namespace shadowai {

class ProxyContext {
 public:
  ProxyContext(ProxyOptions options, ProxyCallbacks callbacks)
      : options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        escapedExceptions_(counters_.escapedExceptions, callbacks_.log) {}

  const ProxyOptions& options() const { return options_; }
  ProxyCounterCells& counters() { return counters_; }
  const ProxyCounterCells& counters() const { return counters_; }
  const EscapedExceptions& escapedExceptions() const { return escapedExceptions_; }

  // A throwing lookup counts as "nothing recorded", a throwing decider as kRefuse, a throwing
  // early-connect policy as "not early": all fail closed.
  std::optional<OriginalDestination> lookup(int acceptedFd);
  bool connectEarly(const OriginalDestination& destination);
  ConnectionDecision decide(const ConnectionFacts& facts);
  ConnectionInterceptor* interceptor() const { return callbacks_.interceptor.get(); }
  void report(const ProxyEvent& event);

 private:
  const ProxyOptions options_;
  const ProxyCallbacks callbacks_;
  ProxyCounterCells counters_;
  const EscapedExceptions escapedExceptions_;  // counts in counters_
};

}  // namespace shadowai
