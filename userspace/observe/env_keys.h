// Finds LLM API keys sitting in process environments (OPENAI_API_KEY=...), reporting which process
// holds which variable and a fingerprint of its value, so the same key can be recognised across
// processes and hosts without ever storing, logging or returning the key itself.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace shadowai {

struct EnvKeyFinding {
  int pid = 0;
  std::string variable;
  std::string fingerprint;
};

// "sha256:" + the first 12 hex digits of SHA-256(value). 48 bits tell keys apart in any real fleet
// and reveal nothing usable about a high-entropy key.
std::string keyFingerprint(std::string_view value);

// Variables of /proc/PID/environ whose name is in `names` and whose value is not empty. Every
// occurrence counts (a duplicated name is two findings if the values differ): getenv() sees the
// first, Python's os.environ the last. The buffer that held the environment is wiped before return.
// /proc/PID/environ is the environment the process was started with; later setenv() calls are
// invisible to it.
Result<std::vector<EnvKeyFinding>> findEnvKeys(int pid, const std::set<std::string>& names,
                                               const std::string& procRoot = "/proc");

struct EnvScanResult {
  std::vector<EnvKeyFinding> findings;
  size_t processesScanned = 0;
  size_t processesSkipped = 0;  // exited during the scan, or their environment was not ours to read
};

// findEnvKeys over every process in procRoot; with cgroupFilter, only processes whose cgroup v2
// path is that path or below it.
EnvScanResult scanEnvKeys(const std::set<std::string>& names, std::optional<std::string> cgroupFilter,
                          const std::string& procRoot = "/proc");

}  // namespace shadowai
