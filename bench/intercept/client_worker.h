// intercept_bench's client workers: one process per cgroup (a socket belongs to the cgroup of the
// task that creates it), forked before any thread starts and driven over a WorkerChannel. What a
// request asks (latency, streams, throughput against an address) and what its reply holds.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/result.h"
#include "intercept/scenario.h"
#include "intercept/wire.h"
#include "shared/worker_channel.h"

namespace shadowai::bench::intercept {

enum class WorkerCommand : uint32_t { kLatency = 1, kStream, kThroughput, kQuit };

inline constexpr size_t kPidsPerParty = 4;

struct WorkerRequest {
  WorkerCommand command = WorkerCommand::kQuit;
  uint32_t count = 0;        // timed requests or streams (one connection)
  uint32_t warmup = 0;       // untimed requests first, per connection
  uint32_t connections = 0;  // throughput
  uint32_t threads = 0;      // throughput
  uint32_t durationMs = 0;   // throughput
  char address[32] = {};
  char caFile[512] = {};
  // Whose CPU time to read over the timed part (0: none); the client party is the worker itself.
  int32_t pids[kPartyCount][kPidsPerParty] = {};
};

struct WorkerReplyHeader {
  uint32_t succeeded = 0;  // timed requests completed
  uint32_t failed = 0;
  uint32_t samples = 0;        // latency or time to first event, ns, follow the header
  uint32_t secondSamples = 0;  // stream: time to the end, ns, follow those
  uint32_t connections = 0;    // opened by this request
  uint32_t requestsSent = 0;   // warm-up included
  uint64_t windowNs = 0;       // the timed part
  uint64_t cpuNs[kPartyCount] = {};
  uint64_t loadP50Ns = 0;  // throughput: latency under load
  uint64_t loadP90Ns = 0;
  uint64_t loadP99Ns = 0;
  char protocol[16] = {};
  char cipher[64] = {};
  char error[256] = {};
};

struct WorkerReply {
  WorkerReplyHeader header;
  std::vector<uint32_t> samples;
  std::vector<uint32_t> secondSamples;

  std::vector<uint8_t> encode() const;
  static Result<WorkerReply> decode(const std::vector<uint8_t>& message);
};

template <size_t N>
inline void copyText(char (&into)[N], const std::string& text) {
  std::snprintf(into, N, "%s", text.c_str());
}

using Worker = bench::Worker<WorkerRequest, WorkerReply>;

// Forks a worker (call while the process is single-threaded) that sends WIRE's requests.
Result<Worker> startWorker(const Wire& wire);

}  // namespace shadowai::bench::intercept
