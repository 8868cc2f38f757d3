#include "splice/phases.h"

#include <unistd.h>

#include <chrono>
#include <thread>
#include <tuple>
#include <utility>

#include "shared/bench_run.h"
#include "shared/statistics.h"

namespace shadowai::bench::splice {
namespace {

using test::proxyCounter;

CpuTimes cpuNow(pid_t worker, pid_t daemon) {
  auto read = [](pid_t pid) {
    auto cpu = processCpuNs(pid);
    return cpu ? *cpu : 0;
  };
  return {read(worker), read(::getpid()), read(daemon)};
}

// Runs REQUEST on VARIANT's worker, adding the CPU time spent meanwhile to CPU. A failed connection
// fails the request unless FAILURES_ARE_ERRORS is false (the reply then says how many).
Result<WorkerReply> callWorker(RunContext& run, size_t variant, const WorkerRequest& request, CpuTimes& cpu,
                               bool failuresAreErrors = true) {
  const pid_t worker = run.workers[variant]->pid();
  const CpuTimes before = cpuNow(worker, run.daemon.pid());
  auto reply = run.workers[variant]->call(request);
  const CpuTimes after = cpuNow(worker, run.daemon.pid());
  cpu += {after.clientNs - before.clientNs, after.serverNs - before.serverNs, after.daemonNs - before.daemonNs};
  if (!reply) return reply.error();
  if (variant == kSpliced) run.splicedConnections += reply->header.succeeded + reply->header.failed;
  if (failuresAreErrors && reply->header.failed > 0) {
    return makeError(std::string(kVariants[variant].name) + ": " + reply->header.error);
  }
  return reply;
}

double mibPerSecond(uint64_t bytes, uint64_t ns) {
  return ns == 0 ? 0 : static_cast<double>(bytes) / (1024.0 * 1024.0) / (static_cast<double>(ns) / 1e9);
}

// Waits until the proxy holds EXPECTED connections (the relays of connections the clients already
// completed a handshake over exist; a closed one may take a moment to be noticed), then reads the
// daemon's memory. A daemon that does not answer (out of file descriptors) is measured all the same.
Result<std::pair<MemoryFigures, std::optional<uint64_t>>> settledMemory(test::ShadowaidUnderTest& daemon, uint64_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
  std::optional<uint64_t> active;
  do {
    auto status = daemon.status(kStatusPollTimeout);
    if (!status) {
      benchMessage("the daemon did not answer: " + status.error().describe());
      break;
    }
    active = proxyCounter(*status, "active");
    if (active == expected) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  std::this_thread::sleep_for(200ms);  // let the workers finish what the last connections started
  auto memory = readMemoryFigures(daemon.pid());
  if (!memory) return memory.error();
  return std::pair{*memory, active};
}

}  // namespace

Result<std::array<HandshakeFigures, kVariantCount>> measureHandshakes(RunContext& run, TlsSession& session) {
  std::array<HandshakeFigures, kVariantCount> figures;
  const uint32_t perRound = static_cast<uint32_t>(run.options.handshakes / run.options.rounds);
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    CpuTimes ignoredCpu;
    auto warm = callWorker(run, variant, {WorkerCommand::kHandshakes, static_cast<uint32_t>(run.options.warmup), 0},
                           ignoredCpu);
    if (!warm) return warm.error();
    if (variant == kSpliced) {
      session = {warm->header.protocol, warm->header.cipher, warm->header.group};
      // Fail early and clearly if enforce mode did not take: the rest would measure nothing.
      auto status = run.daemon.status();
      if (!status) return status.error();
      if (proxyCounter(*status, "spliced") < static_cast<uint64_t>(run.options.warmup)) {
        return makeError("the enforced worker's connections did not pass the proxy (spliced " +
                         std::to_string(proxyCounter(*status, "spliced")) + ")");
      }
    }
  }
  for (int round = 0; round < run.options.rounds && !stopRequested.load(); ++round) {
    for (size_t k = 0; k < kVariantCount; ++k) {
      const size_t variant = (static_cast<size_t>(round) + k) % kVariantCount;
      HandshakeFigures& figure = figures[variant];
      auto reply = callWorker(run, variant, {WorkerCommand::kHandshakes, perRound, 0}, figure.cpu);
      if (!reply) return reply.error();
      figure.samples.insert(figure.samples.end(), reply->samples.begin(), reply->samples.end());
      figure.roundMedians.push_back(percentile(reply->samples, 0.5));
    }
  }
  return figures;
}

Result<std::array<BulkFigures, kVariantCount>> measureBulk(RunContext& run) {
  std::array<BulkFigures, kVariantCount> figures;
  const uint64_t perRound =
      static_cast<uint64_t>(run.options.bulkMib) * 1024 * 1024 / static_cast<uint64_t>(run.options.bulkRounds);
  for (int round = 0; round < run.options.bulkRounds && !stopRequested.load(); ++round) {
    for (size_t k = 0; k < kVariantCount; ++k) {
      const size_t variant = (static_cast<size_t>(round) + k) % kVariantCount;
      BulkFigures& figure = figures[variant];
      auto reply = callWorker(run, variant, {WorkerCommand::kBulk, 0, perRound}, figure.cpu);
      if (!reply) return reply.error();
      figure.upMiBps.push_back(mibPerSecond(perRound, reply->header.upNs));
      figure.downMiBps.push_back(mibPerSecond(perRound, reply->header.downNs));
      figure.bytes += perRound;
    }
  }
  return figures;
}

Result<IdleFigures> measureIdle(RunContext& run) {
  IdleFigures figures;
  figures.requested = static_cast<uint32_t>(run.options.idle);
  figures.half = figures.requested / 2;
  CpuTimes ignoredCpu;
  auto before = settledMemory(run.daemon, 0);
  if (!before) return before.error();
  std::tie(figures.memory[0], figures.active[0]) = *before;

  const uint64_t started = nowNs();
  uint32_t held = 0;
  const std::array<uint32_t, 2> steps = {figures.half, figures.requested - figures.half};
  for (size_t step = 0; step < steps.size(); ++step) {
    // A limit reached here (open files, max_connections) is a result to report, not a reason to stop.
    auto reply = callWorker(run, kSpliced, {WorkerCommand::kOpenIdle, steps[step], 0}, ignoredCpu, false);
    if (!reply) return reply.error();
    held = reply->header.held;
    figures.failed += reply->header.failed;
    if (figures.firstError.empty()) figures.firstError = reply->header.error;
    if (step == 1) figures.openSeconds = static_cast<double>(nowNs() - started) / 1e9;
    auto memory = settledMemory(run.daemon, held);
    if (!memory) return memory.error();
    std::tie(figures.memory[step + 1], figures.active[step + 1]) = *memory;
  }
  figures.opened = held;

  auto closed = callWorker(run, kSpliced, {WorkerCommand::kCloseIdle, 0, 0}, ignoredCpu);
  if (!closed) return closed.error();
  auto after = settledMemory(run.daemon, 0);
  if (!after) return after.error();
  std::tie(figures.memory[3], figures.active[3]) = *after;
  return figures;
}

}  // namespace shadowai::bench::splice
