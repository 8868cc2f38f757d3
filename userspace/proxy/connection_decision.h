// What the proxy knows about a redirected connection once it has peeked at the first bytes, and
// what it should do with it. The policy lives with the caller (catalog match by SNI, the
// "no SNI to a catalog address" setting); the proxy only carries the facts out and the verdict in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/client_hello.h"
#include "net/ip_address.h"
#include "proxy/original_destination.h"

namespace shadowai {

struct ConnectionFacts {
  OriginalDestination destination;
  IpAddress clientAddress;
  uint16_t clientPort = 0;
  // The stream began with a TLS handshake record. True also when no whole ClientHello could be
  // read (helloStatus says why), since such a client still means to speak TLS to the destination.
  bool isTls = false;
  // kOk: a whole ClientHello was read. kTruncated: it did not fit in ProxyOptions::maxPeekBytes
  // (sni and alpn are still set when they came early). kMalformed / kNotClientHello: garbage that
  // starts like TLS. kNotTls: anything else (isTls false).
  ClientHelloStatus helloStatus = ClientHelloStatus::kNotTls;
  std::optional<std::string> sni;  // lower-case, no trailing dot; nullopt when the hello had none
  std::vector<std::string> alpn;   // in the client's order
  // Not TLS but a plain HTTP request: its Host header (lower-case, no port); nullopt otherwise.
  std::optional<std::string> httpHost;
};

enum class ConnectionVerdict {
  kSplice,     // relay the bytes untouched to the original destination
  kIntercept,  // terminate TLS and apply policy (ProxyCallbacks::interceptor; without one: spliced,
               // with a kInterceptUnavailable event)
  kRefuse,     // reset the client's connection
};

const char* toString(ConnectionVerdict verdict);

// What the interception needs to know of an LLM call's destination (provider, API family, the
// workload): defined by the interception (intercept/intercept_target.h), opaque to the proxy.
struct InterceptTarget;

struct ConnectionDecision {
  ConnectionDecision(ConnectionVerdict verdictIn = ConnectionVerdict::kRefuse,  // NOLINT: a bare verdict is a decision
                     std::shared_ptr<const InterceptTarget> targetIn = nullptr)
      : verdict(verdictIn), target(std::move(targetIn)) {}

  ConnectionVerdict verdict;
  std::shared_ptr<const InterceptTarget> target;  // set with kIntercept
};

// Called once per connection on a proxy worker thread, after the peek. Several worker threads
// call it concurrently: it must be thread-safe, quick (it runs on the thread that serves other
// connections) and must not throw (a throw is counted in ProxyCounters::callbackErrors and treated
// as kRefuse).
using ConnectionDecider = std::function<ConnectionDecision(const ConnectionFacts&)>;

}  // namespace shadowai
