// intercept_bench's measurements: latency, streams and throughput, each variant in turn in rounds
// of rotating order, and what each variant's figures hold.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "intercept/client_worker.h"
#include "intercept/nginx_instance.h"
#include "intercept/scenario.h"
#include "intercept/upstream_server.h"
#include "support/journald.h"
#include "support/shadowaid_under_test.h"

namespace shadowai::bench::intercept {

struct CpuTotals {
  std::array<uint64_t, kPartyCount> ns{};
  uint64_t requests = 0;  // timed requests these were read over

  void add(const WorkerReplyHeader& header) {
    for (size_t party = 0; party < kPartyCount; ++party) ns[party] += header.cpuNs[party];
    requests += header.succeeded;
  }
  double usPerRequest(size_t party) const {
    return requests == 0 ? 0 : static_cast<double>(ns[party]) / 1000 / static_cast<double>(requests);
  }
  double totalUsPerRequest() const {
    double total = 0;
    for (size_t party = 0; party < kPartyCount; ++party) total += usPerRequest(party);
    return total;
  }
};

struct VariantFigures {
  std::vector<uint32_t> latency;     // ns, all rounds
  std::vector<double> latencyRoundP50Us;
  CpuTotals latencyCpu;
  std::vector<uint32_t> firstEvent;  // ns
  std::vector<uint32_t> streamTotal;
  CpuTotals streamCpu;
  std::vector<double> rps;           // one per throughput round
  std::vector<double> loadP50Us, loadP99Us;
  CpuTotals throughputCpu;
  uint64_t throughputHandshakes = 0;  // TLS handshakes the provider completed during throughput runs
  ServerCounters server;             // what the provider saw while this variant ran
  uint64_t requestsSent = 0;         // by the client, warm-up included
  uint64_t connections = 0;          // opened by the client
};

struct Session {
  std::string protocol;
  std::string cipher;
};

struct RunContext {
  const Options& options;
  Worker& directWorker;
  Worker& enforcedWorker;
  UpstreamServer& server;
  test::ShadowaidUnderTest& daemon;
  NginxInstance* nginx;                // null with --nginx ''
  test::TestJournald* journald;        // null with --no-journald
  std::string benchCa;
  std::string daemonCa;
  std::array<VariantFigures, kVariantCount> figures;
  std::array<Session, kVariantCount> sessions;
  uint64_t journaldRestarts = 0;
  uint64_t interceptedCallsWithJournald = 0;  // shadowai calls made while journald ran

  bool measured(size_t variant) const {
    if (variant == kNginx) return nginx != nullptr;
    if (variant == kShadowaiNoJournal) return journald != nullptr;
    return true;
  }
};

// Starts or stops the private journald (if the run has one) as the next variant wants it.
Status setJournald(RunContext& run, bool wanted);

Status measureLatency(RunContext& run);
Status measureStreams(RunContext& run);
Status measureThroughput(RunContext& run);

}  // namespace shadowai::bench::intercept
