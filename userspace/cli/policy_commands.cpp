#include "cli/policy_commands.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "daemon/daemon_config.h"
#include "policy/builtin_detectors.h"
#include "policy/policy.h"

namespace shadowai {
namespace {

constexpr int kExitValid = 0;
constexpr int kExitInvalid = 2;

std::string counted(size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

bool writeOut(const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0;
}

}  // namespace

PolicyCommands::PolicyCommands(CLI::App& app) {
  policy_ = app.add_subcommand("policy", "The LLM policy: check its files, make shadowaid reload it (docs/policy.md)");
  policy_->require_subcommand(1);
  policy_->footer(
      "Examples:\n"
      "  shadowai policy check\n"
      "  shadowai policy check ./policy.d --json\n"
      "  shadowai policy check /etc/shadowai/policy.d/50-site.json\n"
      "  shadowai policy check --detectors ./rules/detectors.json\n"
      "  shadowai policy reload");
  check_ = policy_->add_subcommand(
      "check",
      "Validate a policy directory (every *.json, merged in name order) or one file, without the daemon. Prints "
      "every problem as FILE: LOCATION: MESSAGE and exits 2, or a summary and exits 0");
  check_->add_option("path", path_,
                     std::string("Policy directory or file (default: policy_dir of the daemon configuration, ") +
                         kDefaultPolicyDir + ")")
      ->type_name("DIR|FILE");
  check_->add_option("--detectors", detectorsFile_,
                     "The built-in detector file to check and resolve the policy against (default: the one shadowaid "
                     "reads, /usr/share/shadowai/detectors.json)")
      ->type_name("FILE");
  check_->add_flag("--json", json_, "Print {valid, files, problems: [{file, location, message}]} as JSON");
  reload_ = policy_->add_subcommand(
      "reload",
      "Make shadowaid read its policy directory again (as SIGHUP does). New calls get the new policy; calls in "
      "flight finish under the old one. An invalid policy is rejected and the one in force stays (exit 2)");
}

bool PolicyCommands::reloadParsed() const { return reload_->parsed(); }

bool PolicyCommands::checkParsed() const { return check_->parsed(); }

int PolicyCommands::runCheck(const std::string& configPath) const {
  std::string path = path_;
  if (path.empty()) {
    // The policy the daemon would load: what an operator means by "check the policy".
    auto config = configPath.empty() ? DaemonConfig::fromDefaultFile() : DaemonConfig::fromFile(configPath);
    if (!config) {
      std::fprintf(stderr, "shadowai: %s\n", config.error().describe().c_str());
      return kExitInvalid;
    }
    path = config->policyDir;
  }
  std::vector<PolicyProblem> problems;
  const std::string detectorsFile = detectorsFile_.empty() ? BuiltinDetectors::defaultFile() : detectorsFile_;
  auto builtins = BuiltinDetectors::load(detectorsFile, &problems);
  // Without the built-in detectors every reference to one would be reported as unknown: their own
  // problems say more.
  std::shared_ptr<const Policy> policy;
  if (builtins) {
    if (auto loaded = Policy::load(path, *builtins, &problems)) policy = std::move(*loaded);
  }
  // The files are listed even when the policy is invalid, so a user sees what was read.
  std::vector<PolicyProblem> ignored;
  std::vector<std::filesystem::path> files = Policy::policyFiles(path, ignored);
  const bool valid = policy && problems.empty();

  std::string text;
  if (json_) {
    // Ordered: "valid" first, for a reader who looks at the top.
    nlohmann::ordered_json document = {
        {"valid", valid},
        {"files", nlohmann::ordered_json::array()},
        {"detectors_file", detectorsFile},
        {"problems", nlohmann::ordered_json::array()}};
    for (const auto& file : files) document["files"].push_back(file.string());
    for (const PolicyProblem& problem : problems) {
      document["problems"].push_back(
          {{"file", problem.file}, {"location", problem.location}, {"message", problem.message}});
    }
    text = document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  } else if (valid) {
    text = "policy OK: " + counted(files.size(), "file") + ", " + counted(policy->ruleCount(), "rule") + ", " +
           counted(policy->customDetectorCount(), "custom detector") + ", " +
           counted(builtins->detectors().size(), "built-in detector") + "\n";
  } else {
    for (const PolicyProblem& problem : problems) text += problem.describe() + "\n";
  }
  if (!writeOut(text)) {
    std::fprintf(stderr, "shadowai: cannot write to standard output\n");
    return kExitInvalid;
  }
  return valid ? kExitValid : kExitInvalid;
}

}  // namespace shadowai
