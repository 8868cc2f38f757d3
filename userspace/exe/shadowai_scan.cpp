// shadowai-scan: observe a host (or one cgroup subtree) for a while and report which workloads
// talk to which LLM providers, and which processes hold LLM API keys in their environment.
// Exit codes: 0 no finding, 1 findings, 2 error.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>

#include "bpf/libbpf_log.h"
#include "common/duration_parse.h"
#include "catalog/catalog.h"
#include "common/file_util.h"
#include "scan/scan_session.h"

namespace {

constexpr int kExitNoFinding = 0;
constexpr int kExitFindings = 1;
constexpr int kExitError = 2;

std::atomic<bool> stopRequested{false};

void onStopSignal(int) { stopRequested.store(true); }

void installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the ring buffer wait must return at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "shadowai-scan: %s\n", message.c_str());
  return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Observe this host (or one cgroup subtree) and report which workloads call hosted LLM APIs,\n"
      "and which processes hold LLM API keys in their environment. Observation only: no traffic\n"
      "is changed. Needs root.\n\n"
      "Exit status: 0 nothing found, 1 findings, 2 error.",
      "shadowai-scan"};
  app.set_version_flag("--version", std::string("shadowai-scan ") + SHADOWAI_VERSION);

  std::string durationText = "30s";
  std::string cgroup;
  std::string format = "table";
  std::string outputFile;
  std::vector<std::string> catalogDirs;
  std::string catalogFile;
  std::string shadowaidPins = "/sys/fs/bpf/shadowai";
  bool verbose = false;
  app.add_option("--duration", durationText, "How long to observe, e.g. 30s, 2m, 500ms (default 30s)");
  app.add_option("--cgroup", cgroup,
                 "Observe only this cgroup v2 subtree: a path relative to the cgroup v2 root "
                 "(/system.slice/foo.service) or under its mount point (default: the whole host)");
  app.add_option("--format", format, "Report format: table or json (default table)")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--output", outputFile, "Write the report to FILE instead of standard output");
  app.add_option("--catalog-dir", catalogDirs,
                 "Extra endpoint catalog directory of *.json files (default /etc/shadowai/endpoints.d); "
                 "repeatable")
      ->default_str("/etc/shadowai/endpoints.d");
  app.add_option("--catalog", catalogFile, "The main endpoint catalog file (default: the shipped one)");
  app.add_option("--shadowaid-pins", shadowaidPins,
                 "Where a running shadowaid pins its BPF maps (its bpf_pin_dir), so the calls of the "
                 "workloads it enforces are reported with their real destination (default "
                 "/sys/fs/bpf/shadowai)");
  app.add_flag("--verbose", verbose, "Print libbpf's debug messages (verifier logs) to stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }

  auto duration = shadowai::parseDuration(durationText);
  if (!duration) return fail(duration.error().describe());
  if (catalogDirs.empty()) catalogDirs.push_back(shadowai::Catalog::defaultExtraDir());

  shadowai::routeLibbpfLog(verbose);
  installStopHandlers();

  shadowai::ScanOptions options;
  options.duration = *duration;
  options.cgroup = cgroup;
  options.shippedCatalog = catalogFile;
  options.catalogDirs = catalogDirs;
  options.shadowaidPinDir = shadowaidPins;

  const bool showProgress = isatty(STDERR_FILENO) == 1;
  auto progress = [showProgress](const shadowai::ScanProgress& status) {
    if (!showProgress) return;
    std::fprintf(stderr, "\r\033[Kscanning: %llds left, %zu finding(s) so far (Ctrl-C ends early)",
                 static_cast<long long>((status.remaining.count() + 999) / 1000), status.findings);
    std::fflush(stderr);
  };

  shadowai::ScanSession session(options);
  auto outcome = session.run(stopRequested, progress);
  if (showProgress) std::fputs("\r\033[K", stderr);
  if (!outcome) return fail(outcome.error().describe());

  const std::string rendered = format == "json" ? outcome->report.toJson(outcome->context).dump(2) + "\n"
                                                : outcome->report.toTable(outcome->context);
  if (outputFile.empty()) {
    std::fwrite(rendered.data(), 1, rendered.size(), stdout);
    std::fflush(stdout);
  } else if (auto written = shadowai::writeFileAtomic(outputFile, rendered); !written) {
    return fail(written.error().describe());
  }
  return outcome->report.hasFindings() ? kExitFindings : kExitNoFinding;
}
