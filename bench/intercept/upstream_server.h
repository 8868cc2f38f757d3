// intercept_bench's provider: an HTTPS keep-alive server for api.openai.com on 127.0.0.2:443 in the
// benchmark's own process (outside the daemon's cgroup, as a remote provider would be), Boost.Beast
// on a few threads, answering with the wire's bytes. It counts what it gets, by credential too: the
// key a request carries proves which way it went.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/result.h"
#include "intercept/wire.h"
#include "support/test_ca.h"

namespace shadowai::bench::intercept {

struct ServerCounters {
  uint64_t connections = 0;
  uint64_t handshakes = 0;
  uint64_t handshakeFailures = 0;
  uint64_t requests = 0;
  uint64_t streams = 0;
  uint64_t managedKey = 0;
  uint64_t clientKey = 0;
  uint64_t otherKey = 0;

  ServerCounters operator-(const ServerCounters& o) const {
    return {connections - o.connections, handshakes - o.handshakes, handshakeFailures - o.handshakeFailures,
            requests - o.requests,       streams - o.streams,       managedKey - o.managedKey,
            clientKey - o.clientKey,     otherKey - o.otherKey};
  }
  ServerCounters& operator+=(const ServerCounters& o) {
    connections += o.connections;
    handshakes += o.handshakes;
    handshakeFailures += o.handshakeFailures;
    requests += o.requests;
    streams += o.streams;
    managedKey += o.managedKey;
    clientKey += o.clientKey;
    otherKey += o.otherKey;
    return *this;
  }
};

class UpstreamServer {
 public:
  // Listens and serves on THREADS threads with LEAF's certificate; EVENT_GAP between two events of
  // a stream.
  static Result<std::unique_ptr<UpstreamServer>> start(const test::LeafFiles& leaf, const Wire& wire, int threads,
                                                       std::chrono::microseconds eventGap);
  virtual ~UpstreamServer() = default;
  virtual ServerCounters counters() const = 0;
};

}  // namespace shadowai::bench::intercept
