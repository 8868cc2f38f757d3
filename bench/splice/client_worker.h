// splice_bench's client workers: one process per variant, moved into its cgroup (a socket belongs to
// the cgroup of the task that creates it), forked before any thread starts and driven over a
// WorkerChannel. What a request asks (handshakes, a bulk transfer, idle connections) and what its
// reply holds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "shared/worker_channel.h"

namespace shadowai::bench::splice {

enum class WorkerCommand : uint32_t { kHandshakes = 1, kBulk, kOpenIdle, kCloseIdle, kQuit };

struct WorkerRequest {
  WorkerCommand command = WorkerCommand::kQuit;
  uint32_t count = 0;  // handshakes, idle connections to add
  uint64_t bytes = 0;  // bulk: each way
};

// A reply is this header followed by `samples` uint32_t handshake times in nanoseconds.
struct WorkerReplyHeader {
  uint32_t succeeded = 0;
  uint32_t failed = 0;
  uint64_t upNs = 0;
  uint64_t downNs = 0;
  uint32_t samples = 0;
  uint32_t held = 0;  // idle connections held after the request
  char protocol[16] = {};
  char cipher[64] = {};
  char group[32] = {};
  char error[256] = {};
};

struct WorkerReply {
  WorkerReplyHeader header;
  std::vector<uint32_t> samples;

  std::vector<uint8_t> encode() const;
  static Result<WorkerReply> decode(const std::vector<uint8_t>& message);
};

using Worker = bench::Worker<WorkerRequest, WorkerReply>;

// Forks a worker (call while the process is single-threaded) whose clients trust CA_FILE.
Result<Worker> startWorker(const std::string& caFile);

}  // namespace shadowai::bench::splice
