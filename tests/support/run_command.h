// runCommand: a program run to its end with its output captured, the way tests and benchmarks run
// the CLI, journalctl, openssl or a client and then look at what it said.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "support/child_process.h"

namespace shadowai::test {

struct RunResult {
  int exitCode = -1;  // 128 + N when signal N ended it; -1 when it was killed for taking too long
  std::string out;
  std::string err;
};

// Runs ARGV (OPTIONS: environment, cgroup, ...; its output is always captured) and waits up to
// TIMEOUT; a program still running then is killed, and its exit code is -1. An error only when it
// cannot be started.
Result<RunResult> runCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                             SpawnOptions options = {});

}  // namespace shadowai::test
