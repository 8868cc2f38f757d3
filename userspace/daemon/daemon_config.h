// DaemonConfig: shadowaid's configuration file (docs/daemon.md is the reference; rules/shadowaid.json
// holds the defaults, spelled out). Every path is configurable so several isolated daemons can run
// side by side, as the integration tests do.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace shadowai {

// What happens to enforced connections when the proxy is not there.
enum class FailureMode {
  kClosed,  // they fail at once; nothing bypasses the proxy
  kOpen,    // the programs stop redirecting once the daemon's heartbeat is older than the timeout
};

// A connection without SNI (or not TLS) to an address the catalog names.
enum class NoSniCatalogAddressAction {
  kAlert,   // pass it through and alert
  kRefuse,  // close it
};

struct ProxyConfig {
  std::optional<std::string> listenIpv4 = "127.0.0.1";  // nullopt: no IPv4 listener
  std::optional<std::string> listenIpv6 = "::1";        // nullopt: no IPv6 listener
  uint16_t port = 15443;
  std::vector<uint16_t> redirectPorts{443, 80};
  unsigned threads = 0;  // 0: one per core
  std::chrono::milliseconds peekTimeout{5000};
  std::chrono::seconds idleTimeout{600};
  std::chrono::milliseconds connectTimeout{10000};
  uint32_t maxConnections = 10000;
  uint32_t upstreamMark = 0x5ea1;  // SO_MARK of upstream sockets, so they are never redirected

  bool operator==(const ProxyConfig&) const = default;
};

// TLS interception of enforced workloads' LLM calls.
struct InterceptConfig {
  bool enabled = true;  // false: LLM calls are spliced untouched, with an alert (as before interception)
  std::string upstreamCaBundle;  // PEM file provider certificates must chain to; empty: the system store
  uint64_t maxRequestBodyBytes = 32ull << 20;
  uint32_t maxRequestHeaderBytes = 64u << 10;
  // Memory all intercepted calls together may hold for bodies; 0: an eighth of the host's memory,
  // at least 256 MiB (BodyBudget::defaultLimit).
  uint64_t maxBufferedBytes = 0;
  // CPU time masking one call may take in all (prompt, answer, every streamed delta).
  std::chrono::milliseconds maxMaskCpu{5000};
  std::chrono::milliseconds responseTimeout{300000};
  std::chrono::seconds clientIdleTimeout{120};
  std::chrono::seconds upstreamIdleTimeout{60};

  bool operator==(const InterceptConfig&) const = default;
};

struct DaemonConfig {
  static constexpr const char* kDefaultPath = "/etc/shadowai/shadowaid.json";

  std::string stateDir = "/var/lib/shadowai";
  std::string runtimeDir = "/run/shadowai";
  std::string bpfPinDir = "/sys/fs/bpf/shadowai";
  std::string controlSocket = "/run/shadowai/control.sock";  // default: <runtimeDir>/control.sock
  // The group whose members may use the control socket besides root. nullopt, or a group that does
  // not exist on the host: root only.
  std::optional<std::string> controlGroup = "shadowai";
  std::string cgroup = "/";  // the subtree the programs attach to, relative to the cgroup v2 root
  std::string catalogFile;   // empty: the shipped catalog (Catalog::defaultShippedFile())
  std::vector<std::string> catalogDirs{"/etc/shadowai/endpoints.d"};
  ProxyConfig proxy;
  InterceptConfig intercept;
  std::string credentialsFile = "/etc/shadowai/credentials.json";  // managed keys; docs/credentials.md
  std::string policyDir = "/etc/shadowai/policy.d";  // mask and block rules, or one file; docs/policy.md
  FailureMode failureMode = FailureMode::kClosed;
  std::chrono::seconds heartbeatTimeout{10};
  NoSniCatalogAddressAction noSniCatalogAddress = NoSniCatalogAddressAction::kAlert;
  std::chrono::milliseconds sniWait{2000};

  // An explicitly named file (shadowaid --config FILE): a missing file is an error.
  static Result<DaemonConfig> fromFile(const std::string& path);
  // The default file: a missing one means all defaults; one that exists must be valid.
  static Result<DaemonConfig> fromDefaultFile(const std::string& path = kDefaultPath);
  // One document. Errors: "SOURCE:LINE:COLUMN: message" for bad JSON, "SOURCE: /json/pointer: message"
  // for a value that is wrong, "SOURCE: /key: unknown field" for a key this build does not know.
  static Result<DaemonConfig> parse(std::string_view json, const std::string& sourceName);

  // Every field, explicitly, in the file's own format: what the daemon runs with (for its start-up log
  // and status). parse(toJson().dump()) gives back an equal config.
  nlohmann::json toJson() const;

  bool operator==(const DaemonConfig&) const = default;
};

std::string_view toString(FailureMode mode);
std::string_view toString(NoSniCatalogAddressAction action);

}  // namespace shadowai
