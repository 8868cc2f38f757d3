// intercept_bench: what TLS interception costs an LLM call. A ~2 KiB OpenAI chat-completions request
// on a keep-alive connection, made directly to the provider, through nginx (a TLS-terminating,
// TLS-re-originating reverse proxy: the reference), and through shadowaid's interception (the
// workload's cgroup in enforce mode), side by side in one run: added latency (p50, p99), time to
// the first event of a streamed answer, and requests per second with concurrent connections. Root
// only; it builds its own network namespace, mount namespace (a private tmpfs for its files, a
// private bpffs for the daemon's pins, a private journald for the daemon's alerts) and cgroups, runs
// the real shadowaid, shadowai and nginx in them, and takes everything down again (also on Ctrl-C).
//
//   build/bench/intercept_bench [--rounds N] [--requests N] [--streams N] [--throughput-rounds N]
//                               [--seconds S] [--connections N] [--json] ...   (--help for all)
//
// Method (docs/benchmarks.md has the figures and what they mean):
//  * The provider: an HTTPS server for api.openai.com (a catalog host) on 127.0.0.2:443 in this
//    process (Boost.Beast + OpenSSL, certificate from a CA made for the run), answering POST
//    /v1/chat/completions with a ~1 KiB chat.completion, or, for "stream": true, a chunked
//    text/event-stream of chat.completion.chunk events a fixed gap apart, then a usage event and
//    [DONE]. It counts the requests it gets by credential.
//  * Variants: "direct" (the client, in a cgroup left in detect mode, to 127.0.0.2:443); "nginx"
//    (the same client to nginx on 127.0.0.3:443, which proxies to 127.0.0.2:443 over verified TLS
//    with pooled keep-alive connections, and sets the managed key); "shadowai" (a client in the
//    enforced cgroup to 127.0.0.2:443, redirected into shadowaid's proxy, which intercepts it:
//    the daemon's CA, HTTP/1.1 parsing, credential swap, pooled verified upstream, one journald
//    entry per call); and "shadowai, no journald" (the same, with the private journald stopped, so
//    each alert fails at once): the difference is what delivering the alerts costs.
//  * Clients are worker processes, forked before any thread starts and moved into their cgroup.
//    Each measurement opens its connection(s) (TLS handshake untimed), sends warm-up requests, then
//    the timed ones. Latency: one connection, requests one after another, each timed from its
//    first byte written to the last byte of the answer read. Streams: the same with "stream":
//    true, timed to the first whole event and to the end. Throughput: N connections (two client
//    threads) sending back to back for a fixed time; requests per second. Every answer is checked
//    (status, size, event count), and the server checks which credential each request carried.
//  * Variants run interleaved in rounds, in rotating order, so drift and other load hit all alike.
//    CPU time of every party (client, server, shadowaid, nginx, journald) is read over each timed
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/file_util.h"
#include "intercept/client_worker.h"
#include "intercept/nginx_instance.h"
#include "intercept/phases.h"
#include "intercept/report.h"
#include "intercept/scenario.h"
#include "intercept/upstream_server.h"
#include "intercept/wire.h"
#include "shared/bench_daemon.h"
#include "shared/bench_run.h"
#include "shared/report.h"
#include "support/journald.h"
#include "support/run_command.h"
#include "support/shadowaid_under_test.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace shadowai::bench::intercept {
namespace {

Result<uint64_t> countJournalEntries() {
  (void)test::runCommand({"/usr/bin/journalctl", "--sync"}, 20s);
  auto output = test::runCommand({"/usr/bin/journalctl", "--directory", test::TestJournald::kJournalDirectory, "--quiet",
                            "--output", "cat", "SHADOWAI_ALERT=llm-call-intercepted"},
                           120s);
  if (!output) return output.error();
  if (output->exitCode != 0) return makeError("journalctl: " + output->err);
  return static_cast<uint64_t>(std::count(output->out.begin(), output->out.end(), '\n'));
}

int run(const Options& options) {
  auto fail = [](const Error& error) {
    benchMessage(error.describe());
    return stopRequested.load() ? 130 : 1;
  };
  if (::geteuid() != 0) {
    benchMessage("needs root (namespaces, cgroups, and shadowaid loads BPF programs)");
    return 1;
  }
  for (const auto& binary : {options.daemonBinary, options.cliBinary}) {
    if (::access(binary.c_str(), X_OK) != 0) return fail(errnoError("cannot run " + binary + " (see --daemon, --cli)"));
  }
  const bool withNginx = !options.nginxBinary.empty();
  if (withNginx && ::access(options.nginxBinary.c_str(), X_OK) != 0) {
    return fail(errnoError("cannot run " + options.nginxBinary +
                           " (scripts/install-bench-deps.sh installs it; --nginx '' leaves nginx out)"));
  }
  if (options.journald) {
    if (auto available = test::TestJournald::available(); !available) {
      return fail(makeError(available.error().describe() + " (--no-journald runs without one)"));
    }
  }
  installStopHandlers();
  if (auto raised = raiseOpenFileLimit(4096); !raised) return fail(raised.error());
  // Single-threaded until the workers are forked below.
  if (auto entered = enterBenchWorld(); !entered) return fail(entered.error());

  Summary summary;
  summary.kernel = kernelRelease();
  summary.cpus = std::thread::hardware_concurrency();
  summary.loadBefore = loadAverage();
  if (withNginx) summary.nginxVersion = nginxVersion(options.nginxBinary);

  // The run's files, on the private scratch tmpfs of its namespaces.
  auto dir = test::TempDir::create("intercept-bench");
  if (!dir) return fail(dir.error());
  // The daemon's alerts go to a journald of this run, or nowhere: never to the host's journal.
  std::unique_ptr<test::TestJournald> journald;
  if (options.journald) {
    // Every entry stored (no per-service rate limit, which a benchmark's call rate would hit), in
    // the volatile journal of this namespace only.
    journald = std::make_unique<test::TestJournald>(
        "Storage=volatile\nRateLimitBurst=0\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\n"
        "ForwardToConsole=no\nForwardToWall=no\n");
  } else if (std::filesystem::exists("/run/systemd/journal")) {
    if (auto mounted = test::mountPrivateFilesystem("tmpfs", "/run/systemd/journal"); !mounted) {
      return fail(mounted.error());
    }
  }
  auto cgroup = test::TestCgroup::create("intercept-bench");
  if (!cgroup) return fail(cgroup.error());
  auto directCgroup = cgroup->createChild(kDirectCgroup);
  if (!directCgroup) return fail(directCgroup.error());
  auto enforcedCgroup = cgroup->createChild(kEnforcedCgroup);
  if (!enforcedCgroup) return fail(enforcedCgroup.error());
  std::error_code pkiError;
  std::filesystem::create_directories(dir->filePath("pki"), pkiError);
  if (pkiError) return fail(makeError("cannot create " + dir->filePath("pki") + ": " + pkiError.message()));
  auto ca = test::TestCa::create(dir->filePath("pki"));
  if (!ca) return fail(ca.error());
  auto leaf = ca->issueLeaf({kProviderHost});
  if (!leaf) return fail(leaf.error());
  // A managed key for the provider: the proxy swaps it in for the client's, as deployed.
  const std::string credentials = dir->filePath("credentials.json");
  const json credentialsFile = {{"schema", 1},
                                {"mode", "pass-through"},
                                {"keys", json::array({{{"provider", "openai"}, {"key", kManagedKey}, {"label", "bench"}}})}};
  if (auto written = writeFileAtomic(credentials, credentialsFile.dump(2)); !written) return fail(written.error());
  if (::chmod(credentials.c_str(), 0600) != 0) return fail(errnoError("chmod " + credentials));

  const Wire wire = makeWire(options.streamEvents);
  auto directWorker = startWorker(wire);
  if (!directWorker) return fail(directWorker.error());
  if (auto moved = directCgroup->addProcess(directWorker->pid()); !moved) return fail(moved.error());
  auto enforcedWorker = startWorker(wire);
  if (!enforcedWorker) return fail(enforcedWorker.error());
  if (auto moved = enforcedCgroup->addProcess(enforcedWorker->pid()); !moved) return fail(moved.error());

  // Threads from here on.
  auto server = UpstreamServer::start(*leaf, wire, options.serverThreads, std::chrono::microseconds(options.eventGapUs));
  if (!server) return fail(server.error());
  if (journald) {
    benchMessage("starting a private systemd-journald");
    if (auto started = journald->start(); !started) return fail(started.error());
  }
  std::unique_ptr<NginxInstance> nginx;
  if (withNginx) {
    benchMessage("starting nginx " + summary.nginxVersion + " on " + kNginxAddress + ":443");
    auto started = NginxInstance::start(options, dir->filePath("nginx"), ca->certPath(), *leaf);
    if (!started) return fail(started.error());
    nginx = std::move(*started);
  }

  // The daemon's stderr is its log file here; JOURNAL_STREAM naming that file makes it behave as
  // under systemd, where stderr is the journal and alerts are not copied to it a second time.
  test::ShadowaidSettings settings =
      benchDaemonSettings({options.daemonBinary, options.cliBinary, dir->path(), cgroup->relativePath()});
  settings.logIsJournalStream = true;
  auto daemon = test::ShadowaidUnderTest::create(std::move(settings));
  if (!daemon) return fail(daemon.error());
  json config = benchDaemonConfig(options.proxyThreads);
  config.update({
      {"intercept", {{"upstream_ca_bundle", ca->certPath()}}},
      {"credentials_file", credentials},
      {"policy_dir", std::filesystem::absolute(options.policyDir).string()},
  });
  if (auto written = (*daemon)->writeConfig(config); !written) return fail(written.error());
  benchMessage("starting shadowaid on cgroup " + cgroup->relativePath());
  if (auto started = (*daemon)->start(); !started) return fail(started.error());
  if (auto enforced = (*daemon)->enforce(enforcedCgroup->relativePath()); !enforced) return fail(enforced.error());
  if (auto before = (*daemon)->status(); before) summary.proxyBefore = *before;

  RunContext context{options, *directWorker, *enforcedWorker, **server, **daemon, nginx.get(), journald.get(),
                     ca->certPath(), (*daemon)->caPath(), {}, {}, 0, 0};
  for (size_t v = 0; v < kVariantCount; ++v) summary.measured[v] = context.measured(v);

  auto wanted = [&](const char* phase) {
    return std::find(options.phases.begin(), options.phases.end(), phase) != options.phases.end();
  };
  if (wanted("latency")) {
    benchMessage("latency: " + std::to_string(options.rounds) + " rounds");
    if (auto done = measureLatency(context); !done) return fail(done.error());
  }
  if (wanted("streams")) {
    benchMessage("streams: " + std::to_string(options.rounds) + " rounds");
    if (auto done = measureStreams(context); !done) return fail(done.error());
  }
  if (wanted("throughput")) {
    benchMessage("throughput: " + std::to_string(options.throughputRounds) + " rounds");
    if (auto done = measureThroughput(context); !done) return fail(done.error());
  }
  if (stopRequested.load()) return fail(makeError("interrupted"));

  if (journald) {
    if (auto set = setJournald(context, true); !set) return fail(set.error());
    auto entries = countJournalEntries();
    if (entries) {
      summary.journalEntries = *entries;
    } else {
      benchMessage("cannot count the journal's entries: " + entries.error().describe());
    }
  }
  auto after = (*daemon)->status();
  if (!after) return fail(after.error());
  summary.proxyAfter = std::move(*after);
  summary.figures = context.figures;
  summary.sessions = context.sessions;
  summary.journaldRestarts = context.journaldRestarts;
  summary.interceptedCallsWithJournald = context.interceptedCallsWithJournald;
  summary.loadAfter = loadAverage();
  printReport(
      options.json, [&] { return toJson(options, summary); }, [&] { printHuman(options, summary); });
  return 0;
}

}  // namespace
}  // namespace shadowai::bench::intercept

int main(int argc, char** argv) {
  using namespace shadowai::bench;
  using namespace shadowai::bench::intercept;
  benchName() = "intercept_bench";
  Options options;
  options.daemonBinary = besideThisBinary("../userspace/shadowaid");
  options.cliBinary = besideThisBinary("../userspace/shadowai");
  CLI::App app{"Cost of TLS interception for an LLM call, against a direct call and nginx as a reverse proxy (root only)"};
  app.add_option("--rounds", options.rounds, "interleaved latency and stream rounds")->check(CLI::Range(1, 50));
  app.add_option("--requests", options.requests, "timed sequential requests per variant and round")
      ->check(CLI::Range(10, static_cast<int>(kMaxSamplesPerRequest)));
  app.add_option("--warmup", options.warmup, "untimed requests first, per connection")->check(CLI::Range(1, 10'000));
  app.add_option("--streams", options.streams, "timed streams per variant and round")
      ->check(CLI::Range(10, static_cast<int>(kMaxSamplesPerRequest)));
  app.add_option("--stream-events", options.streamEvents, "content events per stream")->check(CLI::Range(1, 200));
  app.add_option("--event-gap-us", options.eventGapUs, "microseconds between two events of a stream")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--throughput-rounds", options.throughputRounds, "interleaved throughput rounds")->check(CLI::Range(1, 20));
  app.add_option("--seconds", options.seconds, "duration of one throughput run")->check(CLI::Range(0.5, 60.0));
  app.add_option("--connections", options.connections, "concurrent keep-alive connections for throughput")
      ->check(CLI::Range(1, 1024));
  app.add_option("--client-threads", options.clientThreads, "client threads for throughput")->check(CLI::Range(1, 16));
  app.add_option("--server-threads", options.serverThreads, "threads of the provider server")->check(CLI::Range(1, 16));
  app.add_option("--proxy-threads", options.proxyThreads, "shadowaid's proxy threads (0: its default, one per CPU)")
      ->check(CLI::Range(0u, 64u));
  app.add_option("--nginx-workers", options.nginxWorkers, "nginx worker processes (0: auto, one per CPU)")
      ->check(CLI::Range(0u, 3u));
  app.add_flag("!--no-journald", options.journald, "no private journald: the daemon's alerts fail at once");
  app.add_flag("!--no-nginx-access-log", options.nginxAccessLog, "nginx without its access log");
  app.add_option("--daemon", options.daemonBinary, "shadowaid binary")->capture_default_str();
  app.add_option("--cli", options.cliBinary, "shadowai binary")->capture_default_str();
  app.add_option("--nginx", options.nginxBinary, "nginx binary ('': leave nginx out)")->capture_default_str();
  app.add_option("--phases", options.phases, "which measurements to make (default: all three)")
      ->check(CLI::IsMember({"latency", "streams", "throughput"}))
      ->delimiter(',');
  app.add_option("--policy-dir", options.policyDir,
                 "shadowaid's policy (a directory or one file; a policy without rules measures no masking)")
      ->capture_default_str();
  app.add_flag("--json", options.json, "print the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  const int status = run(options);  // its world is down when it returns
  shadowai::test::leaveTestScratch();
  return status;
}
