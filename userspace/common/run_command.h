// runCommand: run a program to completion without a shell (fork + execve), for the few system
// tools shadowai calls (update-ca-certificates, update-ca-trust). Its output is captured, so a
// caller decides what reaches the user (a JSON caller's stdout must stay clean).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace shadowai {

struct CommandOutcome {
  int exitCode = 0;  // the program's exit status, or 128 + the signal that ended it
  bool signaled = false;
  std::string output;  // stdout and stderr interleaved, at most the last 64 KiB

  bool succeeded() const { return !signaled && exitCode == 0; }
  // "exit status N" or "killed by signal N" (with the signal's name).
  std::string describeStatus() const;
  // The last non-empty line of the output, with non-printable bytes as \xNN, at most 300 bytes.
  std::string lastOutputLine() const;
};

// ARGV[0] must be an absolute path (nothing is looked up in PATH). The program inherits the
// environment (with a default PATH added if there is none, since system scripts need one), gets
// /dev/null as stdin, and no file descriptor of ours other than its stdout and stderr. An error
// means it could not be started; a program that ran and failed is an outcome, not an error.
Result<CommandOutcome> runCommand(const std::vector<std::string>& argv);

}  // namespace shadowai
