#include "daemon/daemon_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <initializer_list>
#include <limits>

#include "cgroup/cgroup_path.h"
#include "common/file_util.h"
#include "common/json_document.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

// A JSON integer in [MIN, MAX], or nullopt (a float, a string, out of range).
std::optional<uint64_t> integerIn(const Json& value, uint64_t min, uint64_t max) {
  if (!value.is_number_integer()) return std::nullopt;
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    if (number < min || number > max) return std::nullopt;
    return number;
  }
  int64_t number = value.get<int64_t>();
  if (number < 0 || static_cast<uint64_t>(number) < min || static_cast<uint64_t>(number) > max) return std::nullopt;
  return static_cast<uint64_t>(number);
}

bool isIpv4Address(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool isIpv6Address(const std::string& text) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

// What getgrnam accepts and group files can hold: no ':', no whitespace, no control bytes.
bool isGroupName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

std::string hexText(uint32_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), kHex[value & 0xf]);
    value >>= 4;
  } while (value != 0);
  return "0x" + digits;
}

// "0x5ea1" -> 0x5ea1; nullopt unless it is 0x followed by 1..8 hex digits.
std::optional<uint32_t> parseHex(std::string_view text) {
  if (text.size() < 3 || text.size() > 10 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  uint32_t value = 0;
  for (char c : text.substr(2)) {
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    value = value << 4 | digit;
  }
  return value;
}

// Reads one document into a DaemonConfig, field by field, with the JSON pointer of the first bad one.
class ConfigReader : public JsonSchemaReader {
 public:
  explicit ConfigReader(const std::string& sourceName) : JsonSchemaReader(sourceName) {}

  Result<DaemonConfig> read(const Json& document) {
    DaemonConfig config;
    if (!document.is_object()) return fail("", "expected a JSON object");
    if (auto known = checkKnownFields(document, "",
                                      {"comment", "state_dir", "runtime_dir", "bpf_pin_dir", "control_socket",
                                       "control_group", "cgroup", "catalog_file", "catalog_dirs", "proxy",
                                       "intercept", "credentials_file", "policy_dir", "failure_mode", "heartbeat_timeout_s", "no_sni_catalog_address",
                                       "sni_wait_ms"});
        !known) {
      return known.error();
    }
    if (auto comment = checkComment(document, ""); !comment) return comment.error();

    Status status;
    auto check = [&status](Status step) {
      if (status.ok() && !step.ok()) status = std::move(step);
    };
    check(absolutePath(document, "", "state_dir", config.stateDir));
    check(absolutePath(document, "", "runtime_dir", config.runtimeDir));
    check(absolutePath(document, "", "bpf_pin_dir", config.bpfPinDir));
    // Derived from runtime_dir unless given, so moving the runtime dir moves the socket with it.
    config.controlSocket = config.runtimeDir + "/control.sock";
    check(nullablePath(document, "", "control_socket", [&config](std::optional<std::string> path) {
      if (path) config.controlSocket = std::move(*path);
    }));
    check(controlGroup(document, config.controlGroup));
    check(cgroupPath(document, config.cgroup));
    check(nullablePath(document, "", "catalog_file",
                       [&config](std::optional<std::string> path) { config.catalogFile = path.value_or(""); }));
    check(pathList(document, "", "catalog_dirs", config.catalogDirs));
    if (status.ok() && document.contains("proxy")) check(readProxy(document["proxy"], "/proxy", config.proxy));
    if (status.ok() && document.contains("intercept")) {
      check(readIntercept(document["intercept"], "/intercept", config.intercept));
    }
    check(absolutePath(document, "", "credentials_file", config.credentialsFile));
    check(absolutePath(document, "", "policy_dir", config.policyDir));
    check(choice(document, "", "failure_mode", {{"closed", FailureMode::kClosed}, {"open", FailureMode::kOpen}},
                 config.failureMode));
    check(integer(document, "", "heartbeat_timeout_s", 1, 3600, config.heartbeatTimeout));
    check(choice(document, "", "no_sni_catalog_address",
                 {{"alert", NoSniCatalogAddressAction::kAlert}, {"refuse", NoSniCatalogAddressAction::kRefuse}},
                 config.noSniCatalogAddress));
    check(integer(document, "", "sni_wait_ms", 0, 60000, config.sniWait));
    if (!status) return status.error();
    return config;
  }

 private:



  static bool isAbsolutePath(const Json& value) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    return text.size() > 1 ? text.front() == '/' && text.find('\0') == std::string::npos : text == "/";
  }

  Status absolutePath(const Json& object, const std::string& pointer, const char* key, std::string& out) const {
    if (!object.contains(key)) return {};
    const Json& value = object[key];
    if (!isAbsolutePath(value)) return fail(childPointer(pointer, key), "expected an absolute path");
    out = value.get<std::string>();
    return {};
  }

  template <typename Assign>
  Status nullablePath(const Json& object, const std::string& pointer, const char* key, Assign assign) const {
    if (!object.contains(key)) return {};
    const Json& value = object[key];
    if (value.is_null()) {
      assign(std::nullopt);
      return {};
    }
    if (!isAbsolutePath(value)) return fail(childPointer(pointer, key), "expected an absolute path or null");
    assign(value.get<std::string>());
    return {};
  }

  Status pathList(const Json& object, const std::string& pointer, const char* key,
                  std::vector<std::string>& out) const {
    if (!object.contains(key)) return {};
    const Json& value = object[key];
    const std::string listPointer = childPointer(pointer, key);
    if (!value.is_array()) return fail(listPointer, "expected an array of absolute paths");
    std::vector<std::string> paths;
    for (size_t i = 0; i < value.size(); ++i) {
      if (!isAbsolutePath(value[i])) return fail(listPointer + "/" + std::to_string(i), "expected an absolute path");
      paths.push_back(value[i].get<std::string>());
    }
    out = std::move(paths);
    return {};
  }

  Status controlGroup(const Json& object, std::optional<std::string>& out) const {
    if (!object.contains("control_group")) return {};
    const Json& value = object["control_group"];
    if (value.is_null()) {
      out.reset();
      return {};
    }
    if (!value.is_string() || !isGroupName(value.get_ref<const std::string&>())) {
      return fail("/control_group", "expected a group name or null");
    }
    out = value.get<std::string>();
    return {};
  }

  Status cgroupPath(const Json& object, std::string& out) const {
    if (!object.contains("cgroup")) return {};
    const Json& value = object["cgroup"];
    if (!value.is_string() || !isCanonicalCgroupPath(value.get_ref<const std::string&>())) {
      return fail("/cgroup", "expected a cgroup path from the cgroup v2 root, like \"/\" or \"/system.slice\"");
    }
    out = value.get<std::string>();
    return {};
  }

  template <typename T>
  Status integer(const Json& object, const std::string& pointer, const char* key, uint64_t min, uint64_t max,
                 T& out) const {
    if (!object.contains(key)) return {};
    auto number = integerIn(object[key], min, max);
    if (!number) {
      return fail(childPointer(pointer, key),
                  "expected an integer " + std::to_string(min) + ".." + std::to_string(max));
    }
    if constexpr (std::is_arithmetic_v<T>) {
      out = static_cast<T>(*number);
    } else {
      out = T(static_cast<typename T::rep>(*number));  // a std::chrono::duration
    }
    return {};
  }

  template <typename T>
  Status choice(const Json& object, const std::string& pointer, const char* key,
                std::initializer_list<std::pair<std::string_view, T>> choices, T& out) const {
    if (!object.contains(key)) return {};
    const Json& value = object[key];
    if (value.is_string()) {
      for (const auto& [name, choiceValue] : choices) {
        if (value.get_ref<const std::string&>() == name) {
          out = choiceValue;
          return {};
        }
      }
    }
    std::string expected = "expected ";
    size_t index = 0;
    for (const auto& entry : choices) {
      if (index > 0) expected += index + 1 == choices.size() ? " or " : ", ";
      expected += "\"" + std::string(entry.first) + "\"";
      ++index;
    }
    return fail(childPointer(pointer, key), expected);
  }

  Status listenAddress(const Json& object, const std::string& pointer, const char* key, bool ipv6,
                       std::optional<std::string>& out) const {
    if (!object.contains(key)) return {};
    const Json& value = object[key];
    if (value.is_null()) {
      out.reset();
      return {};
    }
    if (!value.is_string() || !(ipv6 ? isIpv6Address(value.get<std::string>()) : isIpv4Address(value.get<std::string>()))) {
      return fail(childPointer(pointer, key), ipv6 ? "expected an IPv6 address or null" : "expected an IPv4 address or null");
    }
    out = value.get<std::string>();
    return {};
  }

  Status upstreamMark(const Json& object, const std::string& pointer, uint32_t& out) const {
    if (!object.contains("upstream_mark")) return {};
    const Json& value = object["upstream_mark"];
    std::optional<uint64_t> mark;
    if (value.is_string()) {
      mark = parseHex(value.get_ref<const std::string&>());
    } else {
      mark = integerIn(value, 0, std::numeric_limits<uint32_t>::max());
    }
    // Mark 0 is every unmarked socket: it cannot tell the proxy's own connections apart.
    if (!mark || *mark == 0) {
      return fail(childPointer(pointer, "upstream_mark"),
                  "expected a non-zero 32-bit integer, or a string like \"0x5ea1\"");
    }
    out = static_cast<uint32_t>(*mark);
    return {};
  }

  Status readIntercept(const Json& object, const std::string& pointer, InterceptConfig& intercept) const {
    if (!object.is_object()) return fail(pointer, "expected an object");
    if (auto known = checkKnownFields(object, pointer,
                                      {"comment", "enabled", "upstream_ca_bundle", "max_request_body_bytes",
                                       "max_request_header_bytes", "max_buffered_bytes", "max_mask_cpu_ms",
                                       "response_timeout_ms",
                                       "client_idle_timeout_s",
                                       "upstream_idle_timeout_s"});
        !known) {
      return known;
    }
    if (auto comment = checkComment(object, pointer); !comment) return comment;
    if (object.contains("enabled")) {
      if (!object["enabled"].is_boolean()) return fail(pointer + "/enabled", "expected true or false");
      intercept.enabled = object["enabled"].get<bool>();
    }
    if (auto bundle = nullablePath(object, pointer, "upstream_ca_bundle",
                                   [&](std::optional<std::string> path) { intercept.upstreamCaBundle = path.value_or(""); });
        !bundle) {
      return bundle;
    }
    Status status;
    auto check = [&status](Status step) {
      if (status.ok() && !step.ok()) status = std::move(step);
    };
    check(integer(object, pointer, "max_request_body_bytes", 1024, 1ull << 32, intercept.maxRequestBodyBytes));
    check(integer(object, pointer, "max_request_header_bytes", 1024, 1u << 20, intercept.maxRequestHeaderBytes));
    check(integer(object, pointer, "max_buffered_bytes", 0, 1ull << 40, intercept.maxBufferedBytes));
    check(integer(object, pointer, "max_mask_cpu_ms", 10, 600000, intercept.maxMaskCpu));
    check(integer(object, pointer, "response_timeout_ms", 100, 3600000, intercept.responseTimeout));
    check(integer(object, pointer, "client_idle_timeout_s", 1, 86400, intercept.clientIdleTimeout));
    check(integer(object, pointer, "upstream_idle_timeout_s", 1, 3600, intercept.upstreamIdleTimeout));
    return status;
  }

  Status readProxy(const Json& object, const std::string& pointer, ProxyConfig& proxy) const {
    if (!object.is_object()) return fail(pointer, "expected an object");
    if (auto known = checkKnownFields(object, pointer,
                                      {"comment", "listen_ipv4", "listen_ipv6", "port", "redirect_ports", "threads",
                                       "peek_timeout_ms", "idle_timeout_s", "connect_timeout_ms", "max_connections",
                                       "upstream_mark"});
        !known) {
      return known;
    }
    if (auto comment = checkComment(object, pointer); !comment) return comment;
    if (auto v4 = listenAddress(object, pointer, "listen_ipv4", false, proxy.listenIpv4); !v4) return v4;
    if (auto v6 = listenAddress(object, pointer, "listen_ipv6", true, proxy.listenIpv6); !v6) return v6;
    if (!proxy.listenIpv4 && !proxy.listenIpv6) {
      return fail(pointer, "listen_ipv4 and listen_ipv6 are both null: the proxy needs at least one address");
    }
    if (auto port = integer(object, pointer, "port", 1, 65535, proxy.port); !port) return port;
    if (object.contains("redirect_ports")) {
      const Json& ports = object["redirect_ports"];
      const std::string portsPointer = pointer + "/redirect_ports";
      if (!ports.is_array() || ports.empty()) return fail(portsPointer, "expected a non-empty array of ports");
      std::vector<uint16_t> parsed;
      for (size_t i = 0; i < ports.size(); ++i) {
        auto port = integerIn(ports[i], 1, 65535);
        if (!port) return fail(portsPointer + "/" + std::to_string(i), "expected an integer 1..65535");
        if (std::find(parsed.begin(), parsed.end(), *port) != parsed.end()) {
          return fail(portsPointer + "/" + std::to_string(i), "duplicate port " + std::to_string(*port));
        }
        parsed.push_back(static_cast<uint16_t>(*port));
      }
      proxy.redirectPorts = std::move(parsed);
    }
    // Redirecting the proxy's own port to itself would loop every connection.
    if (std::find(proxy.redirectPorts.begin(), proxy.redirectPorts.end(), proxy.port) != proxy.redirectPorts.end()) {
      return fail(pointer + "/port", "the proxy port must not be one of redirect_ports");
    }
    if (auto threads = integer(object, pointer, "threads", 0, 1024, proxy.threads); !threads) return threads;
    if (auto peek = integer(object, pointer, "peek_timeout_ms", 1, 600000, proxy.peekTimeout); !peek) return peek;
    if (auto idle = integer(object, pointer, "idle_timeout_s", 1, 86400, proxy.idleTimeout); !idle) return idle;
    if (auto connect = integer(object, pointer, "connect_timeout_ms", 1, 600000, proxy.connectTimeout); !connect) {
      return connect;
    }
    if (auto max = integer(object, pointer, "max_connections", 1, 1000000, proxy.maxConnections); !max) return max;
    return upstreamMark(object, pointer, proxy.upstreamMark);
  }

};

}  // namespace

Result<DaemonConfig> DaemonConfig::parse(std::string_view json, const std::string& sourceName) {
  auto document = parseJsonDocument(json, sourceName);
  if (!document) return document.error();
  return ConfigReader(sourceName).read(*document);
}

Result<DaemonConfig> DaemonConfig::fromFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return makeError("cannot read configuration " + path, text.error().errnum);
  return parse(*text, path);
}

Result<DaemonConfig> DaemonConfig::fromDefaultFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) {
    if (text.error().errnum == ENOENT) return DaemonConfig{};
    return makeError("cannot read configuration " + path, text.error().errnum);
  }
  return parse(*text, path);
}

nlohmann::json DaemonConfig::toJson() const {
  auto optionalText = [](const std::optional<std::string>& text) { return text ? Json(*text) : Json(nullptr); };
  Json proxyJson = {
      {"listen_ipv4", optionalText(proxy.listenIpv4)},
      {"listen_ipv6", optionalText(proxy.listenIpv6)},
      {"port", proxy.port},
      {"redirect_ports", proxy.redirectPorts},
      {"threads", proxy.threads},
      {"peek_timeout_ms", proxy.peekTimeout.count()},
      {"idle_timeout_s", proxy.idleTimeout.count()},
      {"connect_timeout_ms", proxy.connectTimeout.count()},
      {"max_connections", proxy.maxConnections},
      {"upstream_mark", hexText(proxy.upstreamMark)},
  };
  Json interceptJson = {
      {"enabled", intercept.enabled},
      {"upstream_ca_bundle", intercept.upstreamCaBundle.empty() ? Json(nullptr) : Json(intercept.upstreamCaBundle)},
      {"max_request_body_bytes", intercept.maxRequestBodyBytes},
      {"max_request_header_bytes", intercept.maxRequestHeaderBytes},
      {"max_buffered_bytes", intercept.maxBufferedBytes},
      {"max_mask_cpu_ms", intercept.maxMaskCpu.count()},
      {"response_timeout_ms", intercept.responseTimeout.count()},
      {"client_idle_timeout_s", intercept.clientIdleTimeout.count()},
      {"upstream_idle_timeout_s", intercept.upstreamIdleTimeout.count()},
  };
  return Json{
      {"state_dir", stateDir},
      {"runtime_dir", runtimeDir},
      {"bpf_pin_dir", bpfPinDir},
      {"control_socket", controlSocket},
      {"control_group", optionalText(controlGroup)},
      {"cgroup", cgroup},
      {"catalog_file", catalogFile.empty() ? Json(nullptr) : Json(catalogFile)},
      {"catalog_dirs", catalogDirs},
      {"proxy", proxyJson},
      {"intercept", interceptJson},
      {"credentials_file", credentialsFile},
      {"policy_dir", policyDir},
      {"failure_mode", toString(failureMode)},
      {"heartbeat_timeout_s", heartbeatTimeout.count()},
      {"no_sni_catalog_address", toString(noSniCatalogAddress)},
      {"sni_wait_ms", sniWait.count()},
  };
}

std::string_view toString(FailureMode mode) { return mode == FailureMode::kOpen ? "open" : "closed"; }

std::string_view toString(NoSniCatalogAddressAction action) {
  return action == NoSniCatalogAddressAction::kRefuse ? "refuse" : "alert";
}

}  // namespace shadowai
