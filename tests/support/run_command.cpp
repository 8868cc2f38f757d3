#include "support/run_command.h"

#include <utility>

namespace shadowai::test {

Result<RunResult> runCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout, SpawnOptions options) {
  options.captureOutput = true;
  options.outputFd = -1;
  auto child = ChildProcess::spawn(std::move(argv), std::move(options));
  if (!child) return child.error();
  auto status = child->wait(timeout);
  return RunResult{status ? *status : -1, child->stdoutText(), child->stderrText()};
}

}  // namespace shadowai::test
