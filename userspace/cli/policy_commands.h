// `shadowai policy check [DIR|FILE]`: validates a policy directory (every *.json, merged in name
// order) or one file without the daemon, printing every problem as `FILE: LOCATION: MESSAGE`. The
// built-in detector file (rules/detectors.json, or --detectors FILE) is checked first: the policy is
// resolved against it, as shadowaid does.
//   exit 0  valid: one summary line ("policy OK: 2 files, 5 rules, 1 custom detector, 56 built-in detectors")
//   exit 2  invalid: one line per problem
// --json prints {"valid", "files", "problems": [{"file", "location", "message"}]} instead.
// `shadowai policy reload`: shadowaid reads its policy again (as on SIGHUP); an invalid policy is
// rejected with its first problem and the policy in force stays.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace shadowai {

// Where shadowaid reads its policy unless configured otherwise.
inline constexpr const char* kDefaultPolicyDir = "/etc/shadowai/policy.d";

class PolicyCommands {
 public:
  // Adds the `policy` subcommand and its own subcommands to APP.
  explicit PolicyCommands(CLI::App& app);

  // True when the command line named `policy check`.
  bool checkParsed() const;
  // True when it named `policy reload` (which the caller sends to the daemon).
  bool reloadParsed() const;

  // Runs `policy check`, writing its report to stdout; returns the exit status. Without a path it
  // checks the daemon's policy_dir: from CONFIG_PATH (shadowai --config) when given, else from the
  // default configuration file (defaults when there is none).
  int runCheck(const std::string& configPath) const;

 private:
  CLI::App* policy_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* reload_ = nullptr;
  std::string path_;  // empty: the daemon configuration's policy_dir
  std::string detectorsFile_;  // empty: BuiltinDetectors::defaultFile(), what shadowaid reads
  bool json_ = false;
};

}  // namespace shadowai
