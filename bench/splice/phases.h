// splice_bench's measurements: handshakes and bulk throughput, each variant in turn in rounds of
// rotating order, and the daemon's memory with idle spliced connections; and what each one found.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "shared/process_figures.h"
#include "splice/client_worker.h"
#include "splice/scenario.h"
#include "support/shadowaid_under_test.h"

namespace shadowai::bench::splice {

struct RunContext {
  const Options& options;
  std::array<Worker*, kVariantCount> workers{};
  test::ShadowaidUnderTest& daemon;
  uint64_t splicedConnections = 0;  // made by the enforced worker: each must pass the proxy
};

// CPU time (user + system) of the three parties. Less sensitive than wall time to other load on the
// machine: it says what a connection costs, not how long it waited for a CPU. Kernel work done in
// softirq context is charged to whichever task was running, so the split is approximate; the sum is
// not far off.
struct CpuTimes {
  uint64_t clientNs = 0;  // the worker process
  uint64_t serverNs = 0;  // this process: the TLS server's thread (the main thread only waits)
  uint64_t daemonNs = 0;

  uint64_t totalNs() const { return clientNs + serverNs + daemonNs; }
  CpuTimes& operator+=(const CpuTimes& other) {
    clientNs += other.clientNs;
    serverNs += other.serverNs;
    daemonNs += other.daemonNs;
    return *this;
  }
};

struct TlsSession {
  std::string protocol;
  std::string cipher;
  std::string group;
};

struct HandshakeFigures {
  std::vector<uint32_t> samples;
  std::vector<double> roundMedians;
  CpuTimes cpu;
};

struct BulkFigures {
  std::vector<double> upMiBps;  // one per round
  std::vector<double> downMiBps;
  uint64_t bytes = 0;  // each way, all rounds
  CpuTimes cpu;
};

struct IdleFigures {
  uint32_t requested = 0;
  uint32_t half = 0;
  uint32_t opened = 0;
  uint32_t failed = 0;
  std::string firstError;  // why a connection could not be opened
  // The daemon before, with half, with all, and after closing them again.
  std::array<MemoryFigures, 4> memory{};
  // The proxy's "active" counter at the same moments; nullopt when the daemon did not answer.
  std::array<std::optional<uint64_t>, 4> active{};
  double openSeconds = 0;
};

// TLS handshakes, timed on the client; SESSION gets what the enforced worker negotiated.
Result<std::array<HandshakeFigures, kVariantCount>> measureHandshakes(RunContext& run, TlsSession& session);
// One connection per round and variant that uploads, then downloads.
Result<std::array<BulkFigures, kVariantCount>> measureBulk(RunContext& run);
// The daemon's memory before, with half and all of the idle connections, and after closing them.
Result<IdleFigures> measureIdle(RunContext& run);

}  // namespace shadowai::bench::splice
