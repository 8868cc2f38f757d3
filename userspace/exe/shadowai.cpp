// shadowai: the control CLI of shadowaid. Sets the mode of a cgroup subtree (enforce, detect, off, or
// inherit from its parent) by cgroup path or systemd unit, and shows the daemon's status. `shadowai ca`
// manages the host's local CA through its files (cli/ca_commands.h), with or without the daemon.
// Exit codes: 0 done, 2 error (one line on stderr).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "cli/ca_commands.h"
#include "cli/policy_commands.h"
#include "cli/status_view.h"
#include "common/printable_text.h"
#include "control/control_client.h"
#include "daemon/daemon_config.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

int fail(const std::string& message) {
  std::fprintf(stderr, "shadowai: %s\n", message.c_str());
  return kExitError;
}

// Without --socket: the socket of the daemon configuration (--config, or the default file when it
// exists), so a daemon configured elsewhere is still found.
shadowai::Result<std::string> controlSocketPath(const std::string& socketOption, const std::string& configOption) {
  if (!socketOption.empty()) return socketOption;
  if (!configOption.empty()) {
    auto config = shadowai::DaemonConfig::fromFile(configOption);
    if (!config) return config.error();
    return config->controlSocket;
  }
  auto config = shadowai::DaemonConfig::fromDefaultFile();
  // The daemon refuses to run with a broken default file anyway; say where we looked instead.
  return config ? config->controlSocket : std::string(shadowai::kDefaultControlSocket);
}

struct ModeCommand {
  std::string name;
  std::string help;
  CLI::App* app = nullptr;
  std::string cgroup;
  std::string unit;
};

std::string describeModeChange(const nlohmann::json& reply) {
  const std::string cgroup = shadowai::printableText(reply.value("cgroup", std::string("?")));
  const std::string mode = reply.value("mode", std::string("?"));
  std::string target = cgroup;
  if (reply.contains("unit") && reply["unit"].is_string()) {
    target = shadowai::printableText(reply["unit"].get<std::string>()) + " (" + cgroup + ")";
  }
  std::string line = target + ": " + mode;
  if (reply.contains("effective_mode") && reply["effective_mode"].is_string()) {
    const std::string effective = reply["effective_mode"].get<std::string>();
    if (mode == "inherit") line += " (now " + effective + ", from its nearest ancestor with a mode)";
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Control shadowaid: put a cgroup subtree (a systemd unit, a container, a user session) in enforce,\n"
      "detect or off mode, or let it inherit its parent's mode again, and show the daemon's status.\n"
      "Needs root or membership in the daemon's control group (default: shadowai).\n"
      "`shadowai ca` creates, exports and installs the host's local CA; it reads the daemon\n"
      "configuration for the state directory and works whether shadowaid runs or not.\n"
      "`shadowai policy check` validates policy files (exit 2 when invalid); `shadowai policy reload`\n"
      "makes the daemon apply them.\n\n"
      "Exit status: 0 done, 2 error.",
      "shadowai"};
  app.set_version_flag("--version", std::string("shadowai ") + SHADOWAI_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  shadowai enforce --unit billing-etl.service\n"
      "  shadowai detect --cgroup /system.slice/billing-etl.service/worker\n"
      "  shadowai inherit --unit billing-etl.service\n"
      "  shadowai status --json\n"
      "  shadowai ca install\n"
      "  shadowai ca export --out /etc/shadowai/ca.pem\n"
      "  shadowai policy check /etc/shadowai/policy.d");
  // Global options may come after the subcommand too: `shadowai status --socket PATH`.
  app.fallthrough();

  std::string socketPath;
  std::string configPath;
  auto* socketOption = app.add_option(
      "--socket", socketPath,
      std::string("shadowaid's control socket (default: control_socket of the daemon configuration, ") +
          shadowai::kDefaultControlSocket + ")")
      ->type_name("PATH");
  app.add_option("--config", configPath,
                 std::string("Read the control socket path (for `ca`: the state directory; for `policy check`: "
                             "the policy directory) from this daemon configuration (default ") +
                     shadowai::DaemonConfig::kDefaultPath + ")")
      ->type_name("FILE")
      ->excludes(socketOption);

  ModeCommand modeCommands[] = {
      {"enforce", "Send the subtree's LLM calls through the local proxy and its policy", nullptr, {}, {}},
      {"detect", "Observe and alert only; traffic is untouched (the default)", nullptr, {}, {}},
      {"off", "Neither observe nor enforce", nullptr, {}, {}},
      {"inherit", "Drop the subtree's own mode: it inherits its nearest ancestor's again", nullptr, {}, {}},
  };
  for (ModeCommand& command : modeCommands) {
    command.app = app.add_subcommand(command.name, command.help);
    auto* cgroupOption = command.app->add_option(
        "--cgroup", command.cgroup,
        "A cgroup v2 path relative to the hierarchy's root (/system.slice/foo.service) or under its mount point")
        ->type_name("PATH");
    auto* unitOption = command.app->add_option("--unit", command.unit,
                                               "A systemd unit (foo.service, foo.scope, foo.slice)")
                          ->type_name("NAME");
    cgroupOption->excludes(unitOption);
  }
  bool statusJson = false;
  CLI::App* statusCommand = app.add_subcommand("status", "Show proxy state, counters and every cgroup's mode");
  statusCommand->add_flag("--json", statusJson, "Print the daemon's status object as JSON");
  shadowai::CaCommands caCommands(app);
  shadowai::PolicyCommands policyCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }

  // The CA commands act on files; they need neither the daemon nor its socket.
  if (caCommands.parsed()) {
    if (auto done = caCommands.run(configPath); !done) return fail(done.error().describe());
    return kExitOk;
  }

  // Checking a policy reads only its files.
  if (policyCommands.checkParsed()) return policyCommands.runCheck(configPath);

  auto socket = controlSocketPath(socketPath, configPath);
  if (!socket) return fail(socket.error().describe());

  if (policyCommands.reloadParsed()) {
    auto reply = shadowai::sendControlRequest(*socket, shadowai::ReloadPolicyRequest{});
    if (!reply) return fail("policy reload rejected: " + reply.error().describe());
    const nlohmann::json policy = reply->value("policy", nlohmann::json::object());
    std::printf("policy reloaded: %d rules from %zu files in %s\n", policy.value("rules", 0),
                policy.value("files", nlohmann::json::array()).size(), policy.value("dir", std::string("?")).c_str());
    return std::fflush(stdout) == 0 ? kExitOk : kExitError;
  }

  if (statusCommand->parsed()) {
    auto reply = shadowai::sendControlRequest(*socket, shadowai::StatusRequest{});
    if (!reply) return fail(reply.error().describe());
    const nlohmann::json status = reply->value("status", nlohmann::json::object());
    const std::string text = statusJson ? status.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                                        : shadowai::renderStatus(status);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitError;
  }

  for (const ModeCommand& command : modeCommands) {
    if (!command.app->parsed()) continue;
    if (command.cgroup.empty() && command.unit.empty()) {
      return fail(command.name + " needs --cgroup PATH or --unit NAME (see --help)");
    }
    shadowai::SetModeRequest request;
    auto mode = shadowai::parseModeArgument(command.name);
    if (!mode) return fail(mode.error().describe());
    request.mode = *mode;
    if (!command.unit.empty()) {
      request.unit = command.unit;
    } else {
      request.cgroup = command.cgroup;
    }
    auto reply = shadowai::sendControlRequest(*socket, request);
    if (!reply) return fail(reply.error().describe());
    std::printf("%s\n", describeModeChange(*reply).c_str());
    return std::fflush(stdout) == 0 ? kExitOk : kExitError;
  }
  return fail("no command given (see --help)");
}
