// `shadowai ca init|export|install`: the host's local CA (tls/local_ca.h), handled through its files
// in the daemon's state directory, so they work whether shadowaid runs or not.
//   init     create the CA if there is none (root), print its path and SHA-256 fingerprint
//   export   print its certificate (PEM), or write it to --out FILE
//   install  (create it if needed and) add it to the system trust store (root)
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "common/result.h"

namespace shadowai {

class CaCommands {
 public:
  // Adds the `ca` subcommand and its own subcommands to APP.
  explicit CaCommands(CLI::App& app);

  // True when the command line named `ca ...`.
  bool parsed() const;

  // Runs the subcommand that was parsed, on the state directory of the daemon configuration
  // CONFIG_PATH (empty: the default file, whose absence means the default state directory). Writes
  // its report to stdout; an error is one line for the caller to print.
  Status run(const std::string& configPath) const;

 private:
  CLI::App* ca_ = nullptr;
  CLI::App* init_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* install_ = nullptr;
  bool json_ = false;
  std::string outFile_;
};

}  // namespace shadowai
