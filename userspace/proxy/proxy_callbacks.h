// ProxyCallbacks: what the owner of a ProxyServer plugs into it. The proxy only carries facts out
// and verdicts in; the policy (catalog, settings, alerts) stays with the caller.
//
// Every callback runs on a proxy worker thread, concurrently from several of them: each must be
// thread-safe, quick (it runs on the thread that serves other connections) and should not throw
// (a throw is counted in ProxyCounters::callbackErrors and fails closed).
#pragma once

#include <functional>

#include <memory>

#include "proxy/connection_decision.h"
#include "proxy/connection_interceptor.h"
#include "proxy/escaped_exceptions.h"
#include "proxy/original_destination.h"
#include "proxy/proxy_event.h"

namespace shadowai {

// Called at accept time, before the peek: may the proxy start the TCP connect to DESTINATION now,
// in parallel with reading the ClientHello? That takes a whole connect off a spliced handshake's
// critical path, at a cost: a connection the decider then refuses has reached its destination at
// the TCP level (a SYN, then a reset; no payload). Answer false for destinations that may be
// refused. A throw counts as false.
using EarlyConnectPolicy = std::function<bool(const OriginalDestination&)>;

struct ProxyCallbacks {
  OriginalDestinationLookup lookup;  // required
  ConnectionDecider decide;          // required
  EarlyConnectPolicy connectEarly;   // optional; empty: never connect before the decision
  ProxyEventSink onEvent;            // optional
  // Optional: where the proxy logs what went wrong inside it (EscapedExceptions). Empty: stderr,
  // without waiting for journald.
  ProxyLogSink log;
  // Optional: serves kIntercept connections. Without one they are spliced (kInterceptUnavailable).
  std::shared_ptr<ConnectionInterceptor> interceptor;
};

}  // namespace shadowai
