#include "splice/report.h"

#include <cstdio>
#include <vector>

#include "shared/report.h"
#include "shared/statistics.h"
#include "support/shadowaid_under_test.h"

namespace shadowai::bench::splice {
namespace {

using test::proxyCounter;

double handshakeMedianUs(const Summary& summary, size_t variant) {
  return percentile(summary.handshakes[variant].samples, 0.5) / 1000;
}
double handshakeRatio(const Summary& summary, size_t base) {
  const double baseline = handshakeMedianUs(summary, base);
  return baseline == 0 ? 0 : handshakeMedianUs(summary, kSpliced) / baseline;
}
double share(const std::vector<double>& spliced, const std::vector<double>& direct) {
  return medianRatio(spliced, direct);
}
double usPerHandshake(const HandshakeFigures& figures, uint64_t ns) {
  return figures.samples.empty() ? 0 : static_cast<double>(ns) / 1000 / static_cast<double>(figures.samples.size());
}
double secondsPerGib(const BulkFigures& figures, uint64_t ns) {
  // Both directions moved `bytes` each.
  return figures.bytes == 0 ? 0 : static_cast<double>(ns) / 1e9 / (2.0 * static_cast<double>(figures.bytes) / (1u << 30));
}
double cpuRatio(uint64_t ns, uint64_t baseNs) { return baseNs == 0 ? 0 : static_cast<double>(ns) / static_cast<double>(baseNs); }
// Per handshake or per byte alike: the variants of a phase ran the same number of each.
double handshakeCpuRatio(const Summary& summary) {
  return cpuRatio(summary.handshakes[kSpliced].cpu.totalNs() * summary.handshakes[kDirect].samples.size(),
                  summary.handshakes[kDirect].cpu.totalNs() * summary.handshakes[kSpliced].samples.size());
}

struct IdleMetrics {
  // Connections the daemon holds with all opened: the proxy's count, or, when it did not answer, its
  // open files over the two sockets each takes. Below what the client opened when connections went
  // past the proxy (the counters say so too).
  uint64_t held = 0;
  uint64_t heldAtHalf = 0;
  double kibPerConnection = 0;  // (all - before) / held
  double kibSlope = 0;          // (all - half) / (held - held at half): without the first ones' fixed costs
  double pssKibPerConnection = 0;
  double filesPerConnection = 0;
};

IdleMetrics idleMetrics(const IdleFigures& idle) {
  IdleMetrics metrics;
  auto delta = [](uint64_t after, uint64_t before) { return static_cast<double>(after) - static_cast<double>(before); };
  auto heldAt = [&](size_t moment) {
    if (idle.active[moment]) return *idle.active[moment];
    const uint64_t files = idle.memory[moment].openFiles;
    return files > idle.memory[0].openFiles ? (files - idle.memory[0].openFiles) / 2 : 0;
  };
  metrics.held = heldAt(2);
  metrics.heldAtHalf = heldAt(1);
  if (metrics.held == 0) return metrics;
  const double held = static_cast<double>(metrics.held);
  metrics.kibPerConnection = delta(idle.memory[2].rssKiB, idle.memory[0].rssKiB) / held;
  metrics.pssKibPerConnection = delta(idle.memory[2].pssKiB, idle.memory[0].pssKiB) / held;
  metrics.filesPerConnection = delta(idle.memory[2].openFiles, idle.memory[0].openFiles) / held;
  if (metrics.held > metrics.heldAtHalf) {
    metrics.kibSlope = delta(idle.memory[2].rssKiB, idle.memory[1].rssKiB) / static_cast<double>(metrics.held - metrics.heldAtHalf);
  }
  return metrics;
}

bool idleGoalMet(const IdleFigures& idle, const IdleMetrics& metrics) {
  return idle.opened == idle.requested && metrics.held == idle.requested && metrics.kibPerConnection <= kIdleKiBGoal;
}

// Every connection of the enforced worker passed the proxy, and no other did.
bool countersAgree(const Summary& summary) {
  const uint64_t accepted = proxyCounter(summary.proxyAfter, "accepted") - proxyCounter(summary.proxyBefore, "accepted");
  const uint64_t spliced = proxyCounter(summary.proxyAfter, "spliced") - proxyCounter(summary.proxyBefore, "spliced");
  return accepted == summary.splicedConnections && spliced == summary.splicedConnections;
}

}  // namespace

json toJson(const Options& options, const Summary& summary) {
  json out;
  out["kernel"] = summary.kernel;
  out["cpus"] = summary.cpus;
  out["load_average"] = {{"before", summary.loadBefore}, {"after", summary.loadAfter}};
  out["daemon"] = {{"threads", summary.daemonThreads},
                   {"open_files_soft", summary.daemonOpenFiles.soft},
                   {"open_files_hard", summary.daemonOpenFiles.hard},
                   {"max_connections", summary.maxConnections}};
  out["tls"] = {{"server_name", kServerName},
                {"protocol", summary.session.protocol},
                {"cipher", summary.session.cipher},
                {"group", summary.session.group}};

  json& handshake = out["handshake"];
  handshake["rounds"] = options.rounds;
  handshake["per_round"] = options.handshakes / options.rounds;
  handshake["warmup"] = options.warmup;
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const HandshakeFigures& figure = summary.handshakes[variant];
    handshake["variants"][kVariants[variant].key] = {
        {"name", kVariants[variant].name},
        {"handshakes", figure.samples.size()},
        {"median_us", percentile(figure.samples, 0.5) / 1000},
        {"p10_us", percentile(figure.samples, 0.1) / 1000},
        {"p90_us", percentile(figure.samples, 0.9) / 1000},
        {"p99_us", percentile(figure.samples, 0.99) / 1000},
        {"round_medians_us", [&] {
           std::vector<double> us;
           for (double ns : figure.roundMedians) us.push_back(ns / 1000);
           return us;
         }()},
        {"cpu_us_per_handshake",
         {{"client", usPerHandshake(figure, figure.cpu.clientNs)},
          {"server", usPerHandshake(figure, figure.cpu.serverNs)},
          {"daemon", usPerHandshake(figure, figure.cpu.daemonNs)},
          {"total", usPerHandshake(figure, figure.cpu.totalNs())}}},
    };
  }
  handshake["ratio"] = handshakeRatio(summary, kDirect);
  handshake["ratio_vs_outside"] = handshakeRatio(summary, kOutside);
  handshake["cpu_ratio"] = handshakeCpuRatio(summary);
  handshake["goal_ratio"] = kHandshakeRatioGoal;
  handshake["goal_met"] = handshakeRatio(summary, kDirect) <= kHandshakeRatioGoal;

  json& bulk = out["throughput"];
  bulk["rounds"] = options.bulkRounds;
  bulk["mib_per_round"] = static_cast<double>(options.bulkMib) / options.bulkRounds;
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const BulkFigures& figure = summary.bulk[variant];
    bulk["variants"][kVariants[variant].key] = {
        {"name", kVariants[variant].name},
        {"up_mib_per_s", median(figure.upMiBps)},
        {"down_mib_per_s", median(figure.downMiBps)},
        {"up_rounds", figure.upMiBps},
        {"down_rounds", figure.downMiBps},
        {"cpu_s_per_gib",
         {{"client", secondsPerGib(figure, figure.cpu.clientNs)},
          {"server", secondsPerGib(figure, figure.cpu.serverNs)},
          {"daemon", secondsPerGib(figure, figure.cpu.daemonNs)},
          {"total", secondsPerGib(figure, figure.cpu.totalNs())}}},
    };
  }
  const double up = share(summary.bulk[kSpliced].upMiBps, summary.bulk[kDirect].upMiBps);
  const double down = share(summary.bulk[kSpliced].downMiBps, summary.bulk[kDirect].downMiBps);
  bulk["share_up"] = up;
  bulk["share_down"] = down;
  bulk["goal_share"] = kThroughputShareGoal;
  bulk["goal_met"] = up >= kThroughputShareGoal && down >= kThroughputShareGoal;

  if (summary.idle) {
    const IdleFigures& idle = *summary.idle;
    const IdleMetrics metrics = idleMetrics(idle);
    json memory = json::array();
    const char* moments[] = {"before", "half", "all", "closed"};
    for (size_t i = 0; i < idle.memory.size(); ++i) {
      memory.push_back({{"at", moments[i]},
                        {"rss_kib", idle.memory[i].rssKiB},
                        {"pss_kib", idle.memory[i].pssKiB},
                        {"open_files", idle.memory[i].openFiles},
                        {"proxy_active", idle.active[i] ? json(*idle.active[i]) : json(nullptr)}});
    }
    out["idle"] = {{"requested", idle.requested},
                   {"opened", idle.opened},
                   {"failed", idle.failed},
                   {"first_error", idle.firstError},
                   {"open_seconds", idle.openSeconds},
                   {"samples", memory},
                   {"held_by_daemon", metrics.held},
                   {"rss_kib_per_connection", metrics.kibPerConnection},
                   {"rss_kib_per_connection_second_half", metrics.kibSlope},
                   {"pss_kib_per_connection", metrics.pssKibPerConnection},
                   {"open_files_per_connection", metrics.filesPerConnection},
                   {"goal_kib", kIdleKiBGoal},
                   {"goal_met", idleGoalMet(idle, metrics)}};
  }
  out["proxy_counters"] = summary.proxyAfter.contains("proxy") ? summary.proxyAfter["proxy"] : json();
  out["enforced_connections"] = summary.splicedConnections;
  out["counters_agree"] = countersAgree(summary);
  out["server_handshake_failures"] = summary.serverHandshakeFailures;
  return out;
}

void printHuman(const Options& options, const Summary& summary) {
  std::printf("splice_bench: kernel %s, %u CPUs, load %s -> %s; own netns, mount ns and cgroups\n",
              summary.kernel.c_str(), summary.cpus, summary.loadBefore.c_str(), summary.loadAfter.c_str());
  std::printf("  server %s at %s:443, %s %s %s; shadowaid pid %d, %llu threads, RLIMIT_NOFILE %llu/%llu\n",
              kServerName, kServerAddress, summary.session.protocol.c_str(), summary.session.cipher.c_str(),
              summary.session.group.c_str(), summary.daemonPid,
              static_cast<unsigned long long>(summary.daemonThreads),
              static_cast<unsigned long long>(summary.daemonOpenFiles.soft),
              static_cast<unsigned long long>(summary.daemonOpenFiles.hard));

  std::printf("\nTLS handshake, client side (socket + connect + full handshake): %d rounds x %d per variant, "
              "interleaved, after %d warm-up\n",
              options.rounds, options.handshakes / options.rounds, options.warmup);
  std::printf("  CPU: microseconds per handshake of the client, the server, the daemon, and their total\n");
  std::printf("  %-30s %10s %8s %8s %8s %7s %8s %8s %8s %8s %7s\n", "variant", "median us", "p10 us", "p90 us",
              "p99 us", "ratio", "client", "server", "daemon", "CPU", "ratio");
  const HandshakeFigures& directHandshakes = summary.handshakes[kDirect];
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const HandshakeFigures& figure = summary.handshakes[variant];
    const double base = handshakeMedianUs(summary, kDirect);
    const double cpu = usPerHandshake(figure, figure.cpu.totalNs());
    const double baseCpu = usPerHandshake(directHandshakes, directHandshakes.cpu.totalNs());
    std::printf("  %-30s %10.1f %8.1f %8.1f %8.1f %7.3f %8.1f %8.1f %8.1f %8.1f %7.3f\n", kVariants[variant].name,
                percentile(figure.samples, 0.5) / 1000, percentile(figure.samples, 0.1) / 1000,
                percentile(figure.samples, 0.9) / 1000, percentile(figure.samples, 0.99) / 1000,
                base == 0 ? 0 : percentile(figure.samples, 0.5) / 1000 / base, usPerHandshake(figure, figure.cpu.clientNs),
                usPerHandshake(figure, figure.cpu.serverNs), usPerHandshake(figure, figure.cpu.daemonNs), cpu,
                baseCpu == 0 ? 0 : cpu / baseCpu);
  }
  const double ratio = handshakeRatio(summary, kDirect);
  std::printf("  goal: spliced / direct <= %.2f (median time): %.3f, %s (spliced / outside: %.3f; CPU ratio %.3f)\n",
              kHandshakeRatioGoal, ratio, verdict(ratio <= kHandshakeRatioGoal), handshakeRatio(summary, kOutside),
              handshakeCpuRatio(summary));

  std::printf("\nBulk throughput, one connection per round: %d rounds x %.0f MiB each way per variant, median of rounds\n",
              options.bulkRounds, static_cast<double>(options.bulkMib) / options.bulkRounds);
  std::printf("  CPU: seconds per GiB moved (both directions together) of the client, the server, the daemon, total\n");
  std::printf("  %-30s %9s %9s %7s %7s %7s %7s %7s %7s\n", "variant", "up MiB/s", "down", "up %", "down %", "client",
              "server", "daemon", "CPU");
  for (size_t variant = 0; variant < kVariantCount; ++variant) {
    const BulkFigures& figure = summary.bulk[variant];
    std::printf("  %-30s %9.0f %9.0f %7.1f %7.1f %7.2f %7.2f %7.2f %7.2f\n", kVariants[variant].name,
                median(figure.upMiBps), median(figure.downMiBps),
                100 * share(figure.upMiBps, summary.bulk[kDirect].upMiBps),
                100 * share(figure.downMiBps, summary.bulk[kDirect].downMiBps), secondsPerGib(figure, figure.cpu.clientNs),
                secondsPerGib(figure, figure.cpu.serverNs), secondsPerGib(figure, figure.cpu.daemonNs),
                secondsPerGib(figure, figure.cpu.totalNs()));
  }
  const double up = share(summary.bulk[kSpliced].upMiBps, summary.bulk[kDirect].upMiBps);
  const double down = share(summary.bulk[kSpliced].downMiBps, summary.bulk[kDirect].downMiBps);
  std::printf("  goal: spliced >= %.0f%% of direct both ways: up %.1f%%, down %.1f%%, %s\n", kThroughputShareGoal * 100,
              up * 100, down * 100, verdict(up >= kThroughputShareGoal && down >= kThroughputShareGoal));

  if (summary.idle) {
    const IdleFigures& idle = *summary.idle;
    const IdleMetrics metrics = idleMetrics(idle);
    std::printf("\nIdle spliced connections: the client opened %u of %u (%.1f s), the daemon holds %llu\n", idle.opened,
                idle.requested, idle.openSeconds, static_cast<unsigned long long>(metrics.held));
    if (idle.failed > 0) std::printf("  %u failed to open: %s\n", idle.failed, idle.firstError.c_str());
    if (metrics.held < idle.opened) {
      std::printf("  WARNING: %llu of the client's open connections are not held by the daemon: they went past the proxy\n",
                  static_cast<unsigned long long>(idle.opened - metrics.held));
    }
    std::printf("  %-10s %12s %12s %12s %14s\n", "", "VmRSS KiB", "Pss KiB", "open files", "proxy active");
    const char* moments[] = {"before", "half", "all", "closed"};
    for (size_t i = 0; i < idle.memory.size(); ++i) {
      std::printf("  %-10s %12llu %12llu %12llu %14s\n", moments[i],
                  static_cast<unsigned long long>(idle.memory[i].rssKiB),
                  static_cast<unsigned long long>(idle.memory[i].pssKiB),
                  static_cast<unsigned long long>(idle.memory[i].openFiles),
                  idle.active[i] ? std::to_string(*idle.active[i]).c_str() : "no answer");
    }
    std::printf("  per connection: %.2f KiB RSS (second half alone %.2f), %.2f KiB Pss, %.2f open files\n",
                metrics.kibPerConnection, metrics.kibSlope, metrics.pssKibPerConnection, metrics.filesPerConnection);
    std::printf("  goal: <= %.0f KiB per idle spliced connection: %s\n", kIdleKiBGoal,
                verdict(idleGoalMet(idle, metrics)));
    std::printf("  (max_connections %u needs %u open files; the daemon's limit here is %llu)\n", summary.maxConnections,
                2 * summary.maxConnections, static_cast<unsigned long long>(summary.daemonOpenFiles.soft));
  }

  const json& after = summary.proxyAfter;
  const uint64_t accepted = proxyCounter(after, "accepted") - proxyCounter(summary.proxyBefore, "accepted");
  std::printf("\nProxy counters: accepted %llu, spliced %llu, for %llu enforced connections: %s; upstream failures %llu, "
              "peek timeouts %llu, refused over limit %llu; server handshake failures %llu\n",
              static_cast<unsigned long long>(proxyCounter(after, "accepted")),
              static_cast<unsigned long long>(proxyCounter(after, "spliced")),
              static_cast<unsigned long long>(summary.splicedConnections),
              countersAgree(summary) ? "agree" : "DISAGREE",
              static_cast<unsigned long long>(proxyCounter(after, "upstream_connect_failures")),
              static_cast<unsigned long long>(proxyCounter(after, "peek_timeouts")),
              static_cast<unsigned long long>(proxyCounter(after, "refused_over_limit")),
              static_cast<unsigned long long>(summary.serverHandshakeFailures));
  if (accepted < summary.splicedConnections) {
    std::printf("WARNING: %llu connections from the enforced cgroup never reached the proxy (failed, or bypassed it)\n",
                static_cast<unsigned long long>(summary.splicedConnections - accepted));
  }
}

}  // namespace shadowai::bench::splice
