// ProxyCounters: a snapshot of what the proxy has done since it started, for `shadowai status`,
// metrics and tests. Taken field by field while workers run, so fields are individually exact
// but not one atomic picture (active may be off by a connection that was starting meanwhile).
#pragma once

#include <atomic>
#include <cstdint>

namespace shadowai {

struct ProxyCounters {
  uint64_t accepted = 0;              // every accepted socket, refused ones included
  uint64_t refusedNoDestination = 0;  // no recorded original destination
  uint64_t refusedOverLimit = 0;      // maxConnections reached
  uint64_t refusedByDecision = 0;     // the decider said kRefuse
  uint64_t peekTimeouts = 0;          // silent client, or ClientHello not complete in time
  uint64_t closedDuringPeek = 0;      // the client went away before a decision
  uint64_t tlsConnections = 0;        // peeks that saw TLS (whether or not a whole hello)
  uint64_t nonTlsConnections = 0;     // peeks that saw something else
  uint64_t intercepted = 0;           // kIntercept verdicts handed to the interceptor
  uint64_t interceptUnavailable = 0;  // kIntercept verdicts spliced instead (no interceptor)
  uint64_t earlyConnects = 0;         // upstream connects started before the peek (EarlyConnectPolicy)
  uint64_t upstreamConnectFailures = 0;
  uint64_t spliced = 0;               // pairs that reached the relay
  uint64_t idleTimeouts = 0;          // spliced pairs closed for being quiet
  uint64_t relayErrors = 0;           // spliced pairs ended by a reset or I/O error (reset passed on)
  uint64_t acceptErrors = 0;          // accept() failures (EMFILE...), each followed by a back-off
  uint64_t callbackErrors = 0;        // lookup or decider threw
  uint64_t escapedExceptions = 0;     // exceptions that escaped a connection or an accept (logged; a bug)
  uint64_t active = 0;                // connections held now (peeking, connecting or spliced)
  uint64_t bytesUp = 0;               // client to destination, peeked bytes included
  uint64_t bytesDown = 0;             // destination to client
};

// The live counters behind the snapshot. Relaxed atomics: nothing is ordered by them.
struct ProxyCounterCells {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refusedNoDestination{0};
  std::atomic<uint64_t> refusedOverLimit{0};
  std::atomic<uint64_t> refusedByDecision{0};
  std::atomic<uint64_t> peekTimeouts{0};
  std::atomic<uint64_t> closedDuringPeek{0};
  std::atomic<uint64_t> tlsConnections{0};
  std::atomic<uint64_t> nonTlsConnections{0};
  std::atomic<uint64_t> intercepted{0};
  std::atomic<uint64_t> interceptUnavailable{0};
  std::atomic<uint64_t> earlyConnects{0};
  std::atomic<uint64_t> upstreamConnectFailures{0};
  std::atomic<uint64_t> spliced{0};
  std::atomic<uint64_t> idleTimeouts{0};
  std::atomic<uint64_t> relayErrors{0};
  std::atomic<uint64_t> acceptErrors{0};
  std::atomic<uint64_t> callbackErrors{0};
  std::atomic<uint64_t> escapedExceptions{0};
  std::atomic<uint64_t> active{0};
  // Written per relayed chunk from every worker: on lines of their own, away from the rest.
  alignas(64) std::atomic<uint64_t> bytesUp{0};
  alignas(64) std::atomic<uint64_t> bytesDown{0};

  ProxyCounters snapshot() const;
};

inline void bump(std::atomic<uint64_t>& cell, uint64_t by = 1) { cell.fetch_add(by, std::memory_order_relaxed); }

}  // namespace shadowai
