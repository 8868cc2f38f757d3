// The limits and timeouts of intercepted connections (from the daemon's `intercept` configuration).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "intercept/upstream_pool.h"

namespace shadowai {

struct InterceptSettings {
  size_t maxRequestBodyBytes = 32 << 20;  // larger: 413 before the body is read
  size_t maxRequestHeaderBytes = 64 << 10;  // larger: 431
  // Memory all calls together may hold for bodies (BodyBudget); 0: no bound.
  uint64_t maxBufferedBytes = 0;
  // CPU time masking one call may take in all; past it the call is refused or its stream cut.
  std::chrono::milliseconds maxMaskCpu{5000};
  // The client's TLS handshake and each request read; a keep-alive connection with no request for
  // idleTimeout is closed.
  std::chrono::milliseconds clientHandshakeTimeout{10'000};
  std::chrono::milliseconds idleTimeout{120'000};
  // Waiting for the provider: its response header, and then each read of the body (so a stream
  // that pauses longer than this between events is cut). Models think for a while: be generous.
  std::chrono::milliseconds responseTimeout{300'000};
  UpstreamPoolOptions upstream;
};

}  // namespace shadowai
