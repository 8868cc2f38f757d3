// ScanSession: one run of shadowai-scan. Loads the catalog, attaches the observation programs to a
// cgroup subtree for a while, decides which flows were LLM calls, looks for LLM keys in process
// environments, and returns the report. The binary's main only parses flags and prints.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"
#include "scan/scan_report.h"

namespace shadowai {

struct ScanOptions {
  std::chrono::milliseconds duration{std::chrono::seconds(30)};
  // The cgroup v2 subtree to observe: a path relative to the cgroup v2 root ("/system.slice") or an
  // absolute path under its mount point. Empty: the whole host (the root of the hierarchy).
  std::string cgroup;
  std::string shippedCatalog;          // empty: Catalog::defaultShippedFile()
  std::vector<std::string> catalogDirs;  // extra catalog directories
  std::chrono::milliseconds sniWait{std::chrono::seconds(2)};
  // Where a running shadowaid pins its maps (its bpf_pin_dir), and its proxy port: the calls of the
  // workloads it enforces are reported with their real destination and their SNI. Empty: not looked for.
  std::string shadowaidPinDir = "/sys/fs/bpf/shadowai";
  uint16_t shadowaidProxyPort = 15443;
};

struct ScanProgress {
  std::chrono::milliseconds remaining;
  size_t findings;
};

struct ScanOutcome {
  ScanReport report;
  ScanContext context;
};

class ScanSession {
 public:
  using ProgressCallback = std::function<void(const ScanProgress&)>;

  explicit ScanSession(ScanOptions options) : options_(std::move(options)) {}

  // Runs until the duration passes or `stop` becomes true (Ctrl-C), then builds the report. Every
  // program it attached is detached before it returns, on success and on error.
  Result<ScanOutcome> run(const std::atomic<bool>& stop, const ProgressCallback& progress);

 private:
  ScanOptions options_;
};

}  // namespace shadowai
