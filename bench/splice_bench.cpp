// splice_bench: what enforce mode costs a TLS connection that the proxy does not intercept (a host
// outside the catalog, spliced untouched), measured against the same connection made directly, in
// one run: TLS handshake time, bulk throughput both ways, and the daemon's memory per idle spliced
// connection. Root only; it builds its own network namespace, mount namespace (a private tmpfs for
// its files and a private bpffs for the daemon's pins) and cgroups, runs the real shadowaid in them,
// and takes everything down again (also on Ctrl-C).
//
//   build/bench/splice_bench [--handshakes N] [--rounds N] [--bulk-mib N] [--bulk-rounds N] [--idle N]
//                            [--proxy-threads N] [--daemon-nofile N] [--daemon PATH] [--cli PATH] [--json]
//
// Method (docs/benchmarks.md has the figures and what they mean):
//  * The world: a TLS server for www.bench.test (not in the catalog, so the proxy splices) on
//    127.0.0.2:443 in this process, with a certificate from a CA made for the run. shadowaid is
//    attached to the benchmark's cgroup (shadowai-test-PID-splice-bench, directly under the cgroup v2
//    root) with two children: "enforced" (`shadowai enforce --cgroup ...`) and "direct" (left in the
//    daemon's default, detect mode: what a workload has before it is enforced). The benchmark, its
//    server and the daemon stay outside that cgroup.
//  * Clients are worker processes, one per variant, forked before any thread starts and moved into
//    their cgroup (a socket belongs to the cgroup of the task that creates it). A third worker stays
//    outside the daemon's cgroup: no programs at all, for reference. Clients verify the server's
//    certificate and name, so a connection that was not spliced untouched would fail.
//  * Handshakes: socket + connect + full TLS handshake (no resumption, no tickets), timed on the
//    client, then close_notify and close. Variants run interleaved in rounds, in rotating order, so
//    drift and other load on the machine hit all of them alike; the figure is the median over all
//    handshakes of a variant.
//  * Throughput: per round and variant one connection that uploads, then downloads, a fixed amount
//    (timed from the first byte sent to the server's acknowledgement, or to the last byte received).
//  * Memory: the enforced worker opens idle TLS connections (handshake done, then silence) in two
//    halves; the daemon's VmRSS and Pss are read before, after each half and after closing them.
//  * Every connection of the enforced worker must show in the proxy's counters (accepted and
//    spliced), and none of the others: the run says whether they agree.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "shared/bench_daemon.h"
#include "shared/bench_run.h"
#include "shared/report.h"
#include "shared/process_figures.h"
#include "splice/bulk_server.h"
#include "splice/client_worker.h"
#include "splice/phases.h"
#include "splice/report.h"
#include "splice/scenario.h"
#include "support/shadowaid_under_test.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace shadowai::bench::splice {
namespace {

int run(const Options& options) {
  if (::geteuid() != 0) {
    benchMessage("needs root (namespaces, cgroups, and shadowaid loads BPF programs)");
    return 1;
  }
  auto fail = [](const Error& error) {
    benchMessage(error.describe());
    return stopRequested.load() ? 130 : 1;
  };
  for (const auto& binary : {options.daemonBinary, options.cliBinary}) {
    if (::access(binary.c_str(), X_OK) != 0) return fail(errnoError("cannot run " + binary + " (see --daemon, --cli)"));
  }
  installStopHandlers();
  // Each idle connection is a socket in the worker and in the server, two in the daemon.
  if (auto raised = raiseOpenFileLimit(static_cast<rlim_t>(options.idle) * 2 + 1024); !raised) {
    return fail(makeError(raised.error().describe() + " (lower --idle)"));
  }
  // Single-threaded until the workers are forked below.
  if (auto entered = enterBenchWorld(); !entered) return fail(entered.error());

  Summary summary;
  summary.kernel = kernelRelease();
  summary.cpus = std::thread::hardware_concurrency();
  summary.loadBefore = loadAverage();

  // The run's files, on the private scratch tmpfs of its namespaces.
  auto dir = test::TempDir::create("splice-bench");
  if (!dir) return fail(dir.error());
  // Alerts of a benchmark's daemon have no place in the host's journal.
  if (std::filesystem::exists("/run/systemd/journal")) {
    if (auto mounted = test::mountPrivateFilesystem("tmpfs", "/run/systemd/journal"); !mounted) {
      return fail(mounted.error());
    }
  }
  auto cgroup = test::TestCgroup::create("splice-bench");
  if (!cgroup) return fail(cgroup.error());
  std::vector<test::TestCgroup> children;
  for (const char* child : {kDirectCgroup, kEnforcedCgroup}) {
    auto created = cgroup->createChild(child);
    if (!created) return fail(created.error());
    children.push_back(std::move(*created));
  }
  auto childCgroup = [&](const char* name) { return &children[std::string(name) == kDirectCgroup ? 0 : 1]; };
  auto ca = test::TestCa::create(dir->path());
  if (!ca) return fail(ca.error());
  auto leaf = ca->issueLeaf({kServerName});
  if (!leaf) return fail(leaf.error());

  std::vector<Worker> workers;
  for (const Variant& variant : kVariants) {
    auto worker = startWorker(ca->certPath());
    if (!worker) return fail(worker.error());
    if (variant.cgroup != nullptr) {
      if (auto moved = childCgroup(variant.cgroup)->addProcess(worker->pid()); !moved) return fail(moved.error());
    }
    workers.push_back(std::move(*worker));
  }
  // Threads from here on.
  auto server = BulkServer::start(*leaf);
  if (!server) return fail(server.error());

  test::ShadowaidSettings settings =
      benchDaemonSettings({options.daemonBinary, options.cliBinary, dir->path(), cgroup->relativePath()});
  if (options.daemonOpenFiles != 0) settings.openFileLimit = options.daemonOpenFiles;
  auto created = test::ShadowaidUnderTest::create(std::move(settings));
  if (!created) return fail(created.error());
  test::ShadowaidUnderTest& daemon = **created;
  const json config = benchDaemonConfig(options.proxyThreads);
  if (auto written = daemon.writeConfig(config); !written) return fail(written.error());
  benchMessage("starting shadowaid on cgroup " + cgroup->relativePath());
  if (auto started = daemon.start(); !started) return fail(started.error());
  if (auto enforced = daemon.enforce(childCgroup(kEnforcedCgroup)->relativePath()); !enforced) {
    return fail(enforced.error());
  }
  summary.daemonPid = daemon.pid();
  if (auto limit = readOpenFileLimit(daemon.pid()); limit) summary.daemonOpenFiles = *limit;
  if (auto memory = readMemoryFigures(daemon.pid()); memory) summary.daemonThreads = memory->threads;
  if (auto before = daemon.status(); before) summary.proxyBefore = *before;

  RunContext context{options, {}, daemon};
  for (size_t i = 0; i < kVariantCount; ++i) context.workers[i] = &workers[i];

  benchMessage("handshakes");
  auto handshakes = measureHandshakes(context, summary.session);
  if (!handshakes) return fail(handshakes.error());
  summary.handshakes = std::move(*handshakes);
  benchMessage("bulk throughput");
  auto bulk = measureBulk(context);
  if (!bulk) return fail(bulk.error());
  summary.bulk = std::move(*bulk);
  if (options.idle > 0 && !stopRequested.load()) {
    benchMessage("idle connections");
    auto idle = measureIdle(context);
    if (!idle) return fail(idle.error());
    summary.idle = std::move(*idle);
  }
  if (stopRequested.load()) return fail(makeError("interrupted"));

  auto after = daemon.status();
  if (!after) return fail(after.error());
  summary.proxyAfter = std::move(*after);
  summary.splicedConnections = context.splicedConnections;
  summary.serverHandshakeFailures = (*server)->handshakeFailures();
  summary.loadAfter = loadAverage();
  printReport(
      options.json, [&] { return toJson(options, summary); }, [&] { printHuman(options, summary); });
  return 0;
}

}  // namespace
}  // namespace shadowai::bench::splice

int main(int argc, char** argv) {
  using namespace shadowai::bench;
  using namespace shadowai::bench::splice;
  benchName() = "splice_bench";
  Options options;
  options.daemonBinary = besideThisBinary("../userspace/shadowaid");
  options.cliBinary = besideThisBinary("../userspace/shadowai");
  CLI::App app{"Cost of enforce mode for a spliced (non-catalog) TLS connection, against a direct one (root only)"};
  app.add_option("--handshakes", options.handshakes, "timed handshakes per variant, over all rounds")
      ->check(CLI::Range(100, 50'000));
  app.add_option("--rounds", options.rounds, "interleaved handshake rounds")->check(CLI::Range(1, 20));
  app.add_option("--warmup", options.warmup, "untimed handshakes per variant first")->check(CLI::Range(1, 5'000));
  app.add_option("--bulk-mib", options.bulkMib, "MiB each way per variant, over all bulk rounds")
      ->check(CLI::Range(16, 8192));
  app.add_option("--bulk-rounds", options.bulkRounds, "interleaved bulk rounds")->check(CLI::Range(1, 16));
  app.add_option("--idle", options.idle, "idle spliced connections for the memory figure (0: skip)")
      ->check(CLI::Range(0, 9'000));
  app.add_option("--proxy-threads", options.proxyThreads, "the daemon's proxy threads (0: its default, one per CPU)")
      ->check(CLI::Range(0u, 64u));
  app.add_option("--daemon-nofile", options.daemonOpenFiles,
                 "RLIMIT_NOFILE (soft and hard) the daemon is started with (0: the benchmark's hard limit)")
      ->check(CLI::Range(rlim_t{0}, rlim_t{1'048'576}));
  app.add_option("--daemon", options.daemonBinary, "shadowaid binary")->capture_default_str();
  app.add_option("--cli", options.cliBinary, "shadowai binary")->capture_default_str();
  app.add_flag("--json", options.json, "print the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  if (options.handshakes / options.rounds > static_cast<int>(kMaxSamplesPerRequest)) {
    benchMessage("at most " + std::to_string(kMaxSamplesPerRequest) + " handshakes per round");
    return 1;
  }
  const int status = run(options);  // its world is down when it returns
  shadowai::test::leaveTestScratch();
  return status;
}
