#include "intercept/report.h"

#include <cstdio>
#include <vector>

#include "shared/report.h"
#include "shared/statistics.h"
#include "support/shadowaid_under_test.h"

namespace shadowai::bench::intercept {
namespace {

using test::proxyCounter;

// The percentile at FRACTION of SAMPLES (ns), in microseconds.
double us(const std::vector<uint32_t>& samples, double fraction) { return percentile(samples, fraction) / 1000; }

struct Derived {
  double p50[kVariantCount]{}, p99[kVariantCount]{};
  double firstEventP50[kVariantCount]{}, firstEventP99[kVariantCount]{};
  double rps[kVariantCount]{};
  double addedP50 = 0, addedP99 = 0, addedFirstEvent = 0, addedFirstEventP99 = 0;
  double share = 0;  // shadowai / nginx requests per second
};

Derived derive(const Summary& summary) {
  Derived d;
  for (size_t v = 0; v < kVariantCount; ++v) {
    const VariantFigures& f = summary.figures[v];
    d.p50[v] = us(f.latency, 0.5);
    d.p99[v] = us(f.latency, 0.99);
    d.firstEventP50[v] = us(f.firstEvent, 0.5);
    d.firstEventP99[v] = us(f.firstEvent, 0.99);
    d.rps[v] = median(f.rps);
  }
  d.addedP50 = d.p50[kShadowai] - d.p50[kDirect];
  d.addedP99 = d.p99[kShadowai] - d.p99[kDirect];
  d.addedFirstEvent = d.firstEventP50[kShadowai] - d.firstEventP50[kDirect];
  d.addedFirstEventP99 = d.firstEventP99[kShadowai] - d.firstEventP99[kDirect];
  d.share = d.rps[kNginx] > 0 ? d.rps[kShadowai] / d.rps[kNginx] : 0;
  return d;
}

// The provider saw the credential each variant must send: the client's directly, the managed key
// through a proxy, and no request of the other kind.
bool credentialsAgree(const Summary& summary, size_t variant) {
  const ServerCounters& s = summary.figures[variant].server;
  const uint64_t sent = summary.figures[variant].requestsSent;
  if (variant == kDirect) return s.clientKey == sent && s.managedKey == 0 && s.otherKey == 0;
  return s.managedKey == sent && s.clientKey == 0 && s.otherKey == 0;
}

json cpuJson(const CpuTotals& cpu) {
  json out;
  for (size_t party = 0; party < kPartyCount; ++party) out[kPartyNames[party]] = cpu.usPerRequest(party);
  out["total"] = cpu.totalUsPerRequest();
  return out;
}

void printCpuHeader() {
  std::printf("  %-22s", "");
  for (const char* party : kPartyNames) std::printf(" %9s", party);
  std::printf(" %9s\n", "total");
}

void printCpuRow(const char* name, const CpuTotals& cpu) {
  std::printf("  %-22s", name);
  for (size_t party = 0; party < kPartyCount; ++party) std::printf(" %9.1f", cpu.usPerRequest(party));
  std::printf(" %9.1f\n", cpu.totalUsPerRequest());
}

}  // namespace

json toJson(const Options& options, const Summary& summary) {
  const Derived d = derive(summary);
  json out;
  out["kernel"] = summary.kernel;
  out["cpus"] = summary.cpus;
  out["load_average"] = {{"before", summary.loadBefore}, {"after", summary.loadAfter}};
  out["nginx_version"] = summary.nginxVersion;
  out["settings"] = {{"rounds", options.rounds},
                     {"requests_per_round", options.requests},
                     {"warmup", options.warmup},
                     {"streams_per_round", options.streams},
                     {"stream_events", options.streamEvents + 2},
                     {"event_gap_us", options.eventGapUs},
                     {"throughput_rounds", options.throughputRounds},
                     {"seconds", options.seconds},
                     {"connections", options.connections},
                     {"client_threads", options.clientThreads},
                     {"server_threads", options.serverThreads},
                     {"request_body_bytes", kRequestBodyBytes},
                     {"response_body_bytes", kResponseBodyBytes},
                     {"nginx_access_log", options.nginxAccessLog}};
  for (size_t v = 0; v < kVariantCount; ++v) {
    if (!summary.measured[v]) continue;
    const VariantFigures& f = summary.figures[v];
    out["variants"][kVariants[v].key] = {
        {"name", kVariants[v].name},
        {"tls", {{"protocol", summary.sessions[v].protocol}, {"cipher", summary.sessions[v].cipher}}},
        {"latency",
         {{"requests", f.latency.size()},
          {"p50_us", d.p50[v]},
          {"p90_us", us(f.latency, 0.9)},
          {"p99_us", d.p99[v]},
          {"round_p50_us", f.latencyRoundP50Us},
          {"cpu_us_per_request", cpuJson(f.latencyCpu)}}},
        {"stream",
         {{"streams", f.firstEvent.size()},
          {"first_event_p50_us", d.firstEventP50[v]},
          {"first_event_p99_us", d.firstEventP99[v]},
          {"end_p50_us", us(f.streamTotal, 0.5)},
          {"cpu_us_per_stream", cpuJson(f.streamCpu)}}},
        {"throughput",
         {{"requests_per_s", d.rps[v]},
          {"rounds", f.rps},
          {"load_p50_us", median(f.loadP50Us)},
          {"load_p99_us", median(f.loadP99Us)},
          {"provider_tls_handshakes", f.throughputHandshakes},
          {"cpu_us_per_request", cpuJson(f.throughputCpu)}}},
        {"provider_saw",
         {{"requests", f.server.requests},
          {"managed_key", f.server.managedKey},
          {"client_key", f.server.clientKey},
          {"other_key", f.server.otherKey},
          {"tls_handshakes", f.server.handshakes},
          {"failed_handshakes", f.server.handshakeFailures}}},
        {"client_requests", f.requestsSent},
        {"client_connections", f.connections},
        {"credentials_agree", credentialsAgree(summary, v)},
    };
  }
  out["goals"] = {
      {"added_p50_us", d.addedP50},
      {"added_p99_us", d.addedP99},
      {"added_p50_goal_us", kAddedP50GoalUs},
      {"added_p50_met", d.addedP50 <= kAddedP50GoalUs},
      {"throughput_share_of_nginx", d.share},
      {"throughput_share_goal", kThroughputShareGoal},
      {"throughput_share_met", summary.measured[kNginx] ? json(d.share >= kThroughputShareGoal) : json(nullptr)},
      {"added_first_event_p50_us", d.addedFirstEvent},
      {"added_first_event_p99_us", d.addedFirstEventP99},
      {"added_first_event_goal_us", kAddedFirstEventGoalUs},
      {"added_first_event_met", d.addedFirstEvent <= kAddedFirstEventGoalUs},
  };
  if (summary.measured[kNginx]) {
    out["nginx_added"] = {{"p50_us", d.p50[kNginx] - d.p50[kDirect]},
                          {"p99_us", d.p99[kNginx] - d.p99[kDirect]},
                          {"first_event_p50_us", d.firstEventP50[kNginx] - d.firstEventP50[kDirect]}};
  }
  if (summary.measured[kShadowaiNoJournal]) {
    out["alerts"] = {
        {"added_p50_us", d.p50[kShadowai] - d.p50[kShadowaiNoJournal]},
        {"throughput_share", d.rps[kShadowaiNoJournal] > 0 ? d.rps[kShadowai] / d.rps[kShadowaiNoJournal] : 0},
        {"journald_cpu_us_per_call", summary.figures[kShadowai].throughputCpu.usPerRequest(kJournaldParty)},
        {"journald_restarts", summary.journaldRestarts},
        {"calls_with_journald", summary.interceptedCallsWithJournald},
        {"entries_stored", summary.journalEntries ? json(*summary.journalEntries) : json(nullptr)},
    };
  }
  out["proxy_counters"] = summary.proxyAfter.contains("proxy") ? summary.proxyAfter["proxy"] : json();
  return out;
}

void printHuman(const Options& options, const Summary& summary) {
  const Derived d = derive(summary);
  std::printf("intercept_bench: kernel %s, %u CPUs, load %s -> %s; own netns, mount ns, cgroups%s\n",
              summary.kernel.c_str(), summary.cpus, summary.loadBefore.c_str(), summary.loadAfter.c_str(),
              options.journald ? " and journald" : "");
  std::printf("  provider %s at %s:443 (%d threads); nginx %s at %s:443 (%s workers, access log %s); shadowaid "
              "proxy threads %s\n",
              kProviderHost, kUpstreamAddress, options.serverThreads,
              summary.measured[kNginx] ? summary.nginxVersion.c_str() : "(not run)", kNginxAddress,
              options.nginxWorkers == 0 ? "auto" : std::to_string(options.nginxWorkers).c_str(),
              options.nginxAccessLog ? "on" : "off",
              options.proxyThreads == 0 ? "default" : std::to_string(options.proxyThreads).c_str());
  std::printf("  request: POST %s, %zu-byte JSON body, keep-alive; answer: %zu-byte JSON, or %d SSE events %d us apart\n",
              kPath, kRequestBodyBytes, kResponseBodyBytes, options.streamEvents + 2, options.eventGapUs);
  std::printf("  shadowaid policy: %s\n", options.policyDir.c_str());
  for (size_t v = 0; v < kVariantCount; ++v) {
    if (summary.measured[v]) {
      std::printf("  TLS as the client sees it, %s: %s %s\n", kVariants[v].name, summary.sessions[v].protocol.c_str(),
                  summary.sessions[v].cipher.c_str());
      break;
    }
  }

  if (!summary.figures[kDirect].latency.empty()) {
    std::printf("\nLatency, one keep-alive connection, requests one after another: %d rounds x %d per variant, "
                "interleaved, after %d warm-up\n",
                options.rounds, options.requests, options.warmup);
    std::printf("  %-22s %9s %9s %9s %11s %11s\n", "variant", "p50 us", "p90 us", "p99 us", "added p50", "added p99");
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (!summary.measured[v]) continue;
      const VariantFigures& f = summary.figures[v];
      std::printf("  %-22s %9.1f %9.1f %9.1f %11.1f %11.1f\n", kVariants[v].name, d.p50[v], us(f.latency, 0.9), d.p99[v],
                  d.p50[v] - d.p50[kDirect], d.p99[v] - d.p99[kDirect]);
    }
    std::printf("  CPU us per request:\n");
    printCpuHeader();
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (summary.measured[v]) printCpuRow(kVariants[v].name, summary.figures[v].latencyCpu);
    }
    std::printf("  goal: added p50 <= %.0f us: %.1f us, %s (added p99 %.1f us)\n", kAddedP50GoalUs, d.addedP50,
                verdict(d.addedP50 <= kAddedP50GoalUs), d.addedP99);
  }

  if (!summary.figures[kDirect].firstEvent.empty()) {
    std::printf("\nStreams (\"stream\": true): %d rounds x %d per variant; time to the first whole event, and to the end\n",
                options.rounds, options.streams);
    std::printf("  %-22s %13s %13s %13s %11s\n", "variant", "first p50 us", "first p99 us", "end p50 us", "added p50");
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (!summary.measured[v]) continue;
      const VariantFigures& f = summary.figures[v];
      std::printf("  %-22s %13.1f %13.1f %13.1f %11.1f\n", kVariants[v].name, d.firstEventP50[v], d.firstEventP99[v],
                  us(f.streamTotal, 0.5), d.firstEventP50[v] - d.firstEventP50[kDirect]);
    }
    std::printf("  goal: time to first event added <= %.0f us: %.1f us, %s (p99 %.1f us)\n", kAddedFirstEventGoalUs,
                d.addedFirstEvent, verdict(d.addedFirstEvent <= kAddedFirstEventGoalUs), d.addedFirstEventP99);
  }

  if (!summary.figures[kDirect].rps.empty()) {
    std::printf("\nThroughput: %d keep-alive connections (%d client threads), %.1f s per run, %d rounds, interleaved; "
                "median of rounds\n",
                options.connections, options.clientThreads, options.seconds, options.throughputRounds);
    std::printf("  %-22s %10s %9s %9s %12s %12s %12s  %s\n", "variant", "req/s", "of direct", "of nginx", "load p50 us",
                "load p99 us", "upstream TLS", "rounds");
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (!summary.measured[v]) continue;
      const VariantFigures& f = summary.figures[v];
      std::string rounds;
      for (double r : f.rps) rounds += (rounds.empty() ? "" : " ") + std::to_string(static_cast<long>(r));
      std::printf("  %-22s %10.0f %9.3f %9.3f %12.1f %12.1f %12llu  %s\n", kVariants[v].name, d.rps[v],
                  d.rps[kDirect] > 0 ? d.rps[v] / d.rps[kDirect] : 0, d.rps[kNginx] > 0 ? d.rps[v] / d.rps[kNginx] : 0,
                  median(f.loadP50Us), median(f.loadP99Us), static_cast<unsigned long long>(f.throughputHandshakes),
                  rounds.c_str());
    }
    std::printf("  (upstream TLS: full TLS handshakes the provider completed during these runs: the client's own for "
                "direct, the proxy's for nginx and shadowai; at most %d per run when connections are kept)\n",
                options.connections);
    std::printf("  CPU us per request:\n");
    printCpuHeader();
    for (size_t v = 0; v < kVariantCount; ++v) {
      if (summary.measured[v]) printCpuRow(kVariants[v].name, summary.figures[v].throughputCpu);
    }
    if (summary.measured[kNginx]) {
      std::printf("  goal: shadowai >= %.0f%% of nginx's requests/s: %.1f%%, %s\n", kThroughputShareGoal * 100,
                  d.share * 100, verdict(d.share >= kThroughputShareGoal));
    }
  }

  if (summary.measured[kShadowaiNoJournal]) {
    std::printf("\nAlerts (one journald entry per call): shadowai with journald against shadowai with journald stopped\n");
    std::printf("  added p50 %.1f us, throughput %.1f%% of the no-journald run, journald %.1f us CPU per call\n",
                d.p50[kShadowai] - d.p50[kShadowaiNoJournal],
                d.rps[kShadowaiNoJournal] > 0 ? 100 * d.rps[kShadowai] / d.rps[kShadowaiNoJournal] : 0,
                summary.figures[kShadowai].throughputCpu.usPerRequest(kJournaldParty));
    if (summary.journalEntries) {
      std::printf("  journald stored %llu llm-call-intercepted entries for %llu calls made while it ran\n",
                  static_cast<unsigned long long>(*summary.journalEntries),
                  static_cast<unsigned long long>(summary.interceptedCallsWithJournald));
    }
  }

  std::printf("\nChecks:\n");
  for (size_t v = 0; v < kVariantCount; ++v) {
    if (!summary.measured[v]) continue;
    const VariantFigures& f = summary.figures[v];
    std::printf("  %-22s %llu requests on %llu connections; the provider saw %llu with the managed key, %llu with the "
                "client's, %llu other: %s; %llu upstream TLS handshakes\n",
                kVariants[v].name, static_cast<unsigned long long>(f.requestsSent),
                static_cast<unsigned long long>(f.connections), static_cast<unsigned long long>(f.server.managedKey),
                static_cast<unsigned long long>(f.server.clientKey), static_cast<unsigned long long>(f.server.otherKey),
                credentialsAgree(summary, v) ? "as expected" : "UNEXPECTED",
                static_cast<unsigned long long>(f.server.handshakes));
  }
  const uint64_t intercepted =
      proxyCounter(summary.proxyAfter, "intercepted_connections") -
      proxyCounter(summary.proxyBefore, "intercepted_connections");
  const uint64_t enforcedConnections =
      summary.figures[kShadowai].connections + summary.figures[kShadowaiNoJournal].connections;
  const uint64_t early =
      proxyCounter(summary.proxyAfter, "early_connects") - proxyCounter(summary.proxyBefore, "early_connects");
  const uint64_t resets =
      summary.figures[kShadowai].server.handshakeFailures + summary.figures[kShadowaiNoJournal].server.handshakeFailures;
  std::printf("  proxy: %llu connections intercepted for %llu opened by the enforced client: %s; %llu early upstream "
              "connects (the provider saw %llu connections closed before a TLS handshake)\n",
              static_cast<unsigned long long>(intercepted), static_cast<unsigned long long>(enforcedConnections),
              intercepted == enforcedConnections ? "agree" : "DISAGREE", static_cast<unsigned long long>(early),
              static_cast<unsigned long long>(resets));
}

}  // namespace shadowai::bench::intercept
