#include "proxy/proxy_counters.h"

namespace shadowai {

ProxyCounters ProxyCounterCells::snapshot() const {
  auto read = [](const std::atomic<uint64_t>& cell) { return cell.load(std::memory_order_relaxed); };
  ProxyCounters out;
  out.accepted = read(accepted);
  out.refusedNoDestination = read(refusedNoDestination);
  out.refusedOverLimit = read(refusedOverLimit);
  out.refusedByDecision = read(refusedByDecision);
  out.peekTimeouts = read(peekTimeouts);
  out.closedDuringPeek = read(closedDuringPeek);
  out.tlsConnections = read(tlsConnections);
  out.nonTlsConnections = read(nonTlsConnections);
  out.intercepted = read(intercepted);
  out.interceptUnavailable = read(interceptUnavailable);
  out.earlyConnects = read(earlyConnects);
  out.upstreamConnectFailures = read(upstreamConnectFailures);
  out.spliced = read(spliced);
  out.idleTimeouts = read(idleTimeouts);
  out.relayErrors = read(relayErrors);
  out.acceptErrors = read(acceptErrors);
  out.callbackErrors = read(callbackErrors);
  out.escapedExceptions = read(escapedExceptions);
  out.active = read(active);
  out.bytesUp = read(bytesUp);
  out.bytesDown = read(bytesDown);
  return out;
}

}  // namespace shadowai
