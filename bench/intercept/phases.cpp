#include "intercept/phases.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "shared/bench_run.h"
#include "shared/statistics.h"

namespace shadowai::bench::intercept {
namespace {

Result<WorkerReply> callVariant(RunContext& run, size_t variant, WorkerRequest request) {
  const Variant& info = kVariants[variant];
  if (auto set = setJournald(run, info.journald); !set) return set.error();
  copyText(request.address, info.address);
  copyText(request.caFile, info.worker == WorkerRole::kEnforced ? run.daemonCa : run.benchCa);
  request.pids[kServerParty][0] = static_cast<int32_t>(::getpid());
  request.pids[kDaemonParty][0] = static_cast<int32_t>(run.daemon.pid());
  if (run.nginx != nullptr) {
    request.pids[kNginxParty][0] = static_cast<int32_t>(run.nginx->masterPid());
    for (size_t i = 0; i < run.nginx->workers().size() && i + 1 < kPidsPerParty; ++i) {
      request.pids[kNginxParty][i + 1] = static_cast<int32_t>(run.nginx->workers()[i]);
    }
  }
  if (run.journald) request.pids[kJournaldParty][0] = static_cast<int32_t>(run.journald->pid());

  Worker& worker = info.worker == WorkerRole::kEnforced ? run.enforcedWorker : run.directWorker;
  const ServerCounters before = run.server.counters();
  auto reply = worker.call(request);
  if (!reply) return reply.error();
  VariantFigures& figures = run.figures[variant];
  figures.server += run.server.counters() - before;
  figures.requestsSent += reply->header.requestsSent;
  figures.connections += reply->header.connections;
  if (variant == kShadowai) run.interceptedCallsWithJournald += reply->header.requestsSent;
  if (run.sessions[variant].protocol.empty()) run.sessions[variant] = {reply->header.protocol, reply->header.cipher};
  if (reply->header.failed > 0) return makeError(std::string(info.name) + ": " + reply->header.error);
  return reply;
}

// The variants of round ROUND, in rotating order.
std::vector<size_t> roundOrder(const RunContext& run, int round) {
  std::vector<size_t> order;
  for (size_t k = 0; k < kVariantCount; ++k) {
    const size_t variant = (static_cast<size_t>(round) + k) % kVariantCount;
    if (run.measured(variant)) order.push_back(variant);
  }
  return order;
}

}  // namespace

Status setJournald(RunContext& run, bool wanted) {
  if (!run.journald) return {};
  if (!wanted) {
    if (!run.journald->running()) return {};
    // The last calls' entries may still be on their way (each is sent once its answer is out).
    std::this_thread::sleep_for(200ms);
    run.journald->stopDaemon();
    return {};
  }
  if (run.journald->running()) return {};
  ++run.journaldRestarts;
  return run.journald->startDaemon();
}

Status measureLatency(RunContext& run) {
  for (int round = 0; round < run.options.rounds && !stopRequested.load(); ++round) {
    for (size_t variant : roundOrder(run, round)) {
      WorkerRequest request;
      request.command = WorkerCommand::kLatency;
      request.count = static_cast<uint32_t>(run.options.requests);
      request.warmup = static_cast<uint32_t>(run.options.warmup);
      auto reply = callVariant(run, variant, request);
      if (!reply) return reply.error();
      VariantFigures& figures = run.figures[variant];
      figures.latency.insert(figures.latency.end(), reply->samples.begin(), reply->samples.end());
      figures.latencyRoundP50Us.push_back(percentile(reply->samples, 0.5) / 1000);
      figures.latencyCpu.add(reply->header);
    }
  }
  return {};
}

Status measureStreams(RunContext& run) {
  for (int round = 0; round < run.options.rounds && !stopRequested.load(); ++round) {
    for (size_t variant : roundOrder(run, round)) {
      WorkerRequest request;
      request.command = WorkerCommand::kStream;
      request.count = static_cast<uint32_t>(run.options.streams);
      request.warmup = static_cast<uint32_t>(std::max(1, run.options.streams / 10));
      auto reply = callVariant(run, variant, request);
      if (!reply) return reply.error();
      VariantFigures& figures = run.figures[variant];
      figures.firstEvent.insert(figures.firstEvent.end(), reply->samples.begin(), reply->samples.end());
      figures.streamTotal.insert(figures.streamTotal.end(), reply->secondSamples.begin(), reply->secondSamples.end());
      figures.streamCpu.add(reply->header);
    }
  }
  return {};
}

Status measureThroughput(RunContext& run) {
  for (int round = 0; round < run.options.throughputRounds && !stopRequested.load(); ++round) {
    for (size_t variant : roundOrder(run, round)) {
      WorkerRequest request;
      request.command = WorkerCommand::kThroughput;
      request.connections = static_cast<uint32_t>(run.options.connections);
      request.threads = static_cast<uint32_t>(run.options.clientThreads);
      request.warmup = 20;
      request.durationMs = static_cast<uint32_t>(run.options.seconds * 1000);
      const uint64_t handshakesBefore = run.figures[variant].server.handshakes;
      auto reply = callVariant(run, variant, request);
      if (!reply) return reply.error();
      VariantFigures& figures = run.figures[variant];
      figures.throughputHandshakes += figures.server.handshakes - handshakesBefore;
      const double seconds = static_cast<double>(reply->header.windowNs) / 1e9;
      figures.rps.push_back(seconds > 0 ? static_cast<double>(reply->header.succeeded) / seconds : 0);
      figures.loadP50Us.push_back(static_cast<double>(reply->header.loadP50Ns) / 1000);
      figures.loadP99Us.push_back(static_cast<double>(reply->header.loadP99Ns) / 1000);
      figures.throughputCpu.add(reply->header);
      benchMessage("  " + std::string(kVariants[variant].name) + ": " + std::to_string(static_cast<long>(figures.rps.back())) +
               " requests/s");
    }
  }
  return {};
}

}  // namespace shadowai::bench::intercept
