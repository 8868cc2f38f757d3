#include "daemon/daemon_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
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
  char digits[8];
  auto end = std::to_chars(std::begin(digits), std::end(digits), value, 16).ptr;
  return "0x" + std::string(digits, end);
}

// "0x5ea1" -> 0x5ea1; nullopt unless it is 0x followed by 1..8 hex digits.
std::optional<uint32_t> parseHex(std::string_view text) {
  if (text.size() < 3 || text.size() > 10 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data() + 2, end, value, 16);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

bool isAbsolutePath(const Json& value) {
  if (!value.is_string()) return false;
  const auto& text = value.get_ref<const std::string&>();
  return text.size() > 1 ? text.front() == '/' && text.find('\0') == std::string::npos : text == "/";
}

// Reports a field's errors as "SOURCE: /json/pointer: message".
class ConfigReader : public JsonSchemaReader {
 public:
  explicit ConfigReader(const std::string& sourceName) : JsonSchemaReader(sourceName) {}
  Error error(const std::string& pointer, std::string_view message) const { return fail(pointer, message); }
  using JsonSchemaReader::checkComment;
  using JsonSchemaReader::checkKnownFields;
};

// One field of the file: its name, how its value is read (it is present) and how it is written back
// (toJson). The tables below are the one list of the file's fields.
template <typename Object>
struct Field {
  std::string_view name;
  std::function<Status(const ConfigReader&, const Json& value, const std::string& pointer, Object&)> read;
  std::function<Json(const Object&)> write;
};

template <typename Object>
using Fields = std::vector<Field<Object>>;

template <typename Object>
Field<Object> absolutePath(std::string_view name, std::string Object::*member) {
  return {name,
          [member](const ConfigReader& reader, const Json& value, const std::string& pointer, Object& object) -> Status {
            if (!isAbsolutePath(value)) return reader.error(pointer, "expected an absolute path");
            object.*member = value.get<std::string>();
            return {};
          },
          [member](const Object& object) { return Json(object.*member); }};
}

// An absolute path or null, held as "" for null.
template <typename Object>
Field<Object> absolutePathOrNull(std::string_view name, std::string Object::*member) {
  return {name,
          [member](const ConfigReader& reader, const Json& value, const std::string& pointer, Object& object) -> Status {
            if (value.is_null()) {
              (object.*member).clear();
              return {};
            }
            if (!isAbsolutePath(value)) return reader.error(pointer, "expected an absolute path or null");
            object.*member = value.get<std::string>();
            return {};
          },
          [member](const Object& object) { return (object.*member).empty() ? Json(nullptr) : Json(object.*member); }};
}

template <typename Object>
Field<Object> absolutePaths(std::string_view name, std::vector<std::string> Object::*member) {
  return {name,
          [member](const ConfigReader& reader, const Json& value, const std::string& pointer, Object& object) -> Status {
            if (!value.is_array()) return reader.error(pointer, "expected an array of absolute paths");
            std::vector<std::string> paths;
            for (size_t i = 0; i < value.size(); ++i) {
              if (!isAbsolutePath(value[i])) return reader.error(childPointer(pointer, i), "expected an absolute path");
              paths.push_back(value[i].get<std::string>());
            }
            object.*member = std::move(paths);
            return {};
          },
          [member](const Object& object) { return Json(object.*member); }};
}

template <typename Object>
Field<Object> boolean(std::string_view name, bool Object::*member) {
  return {name,
          [member](const ConfigReader& reader, const Json& value, const std::string& pointer, Object& object) -> Status {
            if (!value.is_boolean()) return reader.error(pointer, "expected true or false");
            object.*member = value.get<bool>();
            return {};
          },
          [member](const Object& object) { return Json(object.*member); }};
}

// An integer in [MIN, MAX] into a number or a std::chrono::duration (the name says its unit).
template <typename Object, typename T>
Field<Object> integer(std::string_view name, uint64_t min, uint64_t max, T Object::*member) {
  return {name,
          [=](const ConfigReader& reader, const Json& value, const std::string& pointer, Object& object) -> Status {
            auto number = integerIn(value, min, max);
            if (!number) {
              return reader.error(pointer, "expected an integer " + std::to_string(min) + ".." + std::to_string(max));
            }
            if constexpr (std::is_arithmetic_v<T>) {
              object.*member = static_cast<T>(*number);
            } else {
              object.*member = T(static_cast<typename T::rep>(*number));
            }
            return {};
          },
          [member](const Object& object) {
            if constexpr (std::is_arithmetic_v<T>) {
              return Json(object.*member);
            } else {
              return Json((object.*member).count());
            }
          }};
}

template <typename T, size_t N>
using Choices = std::array<std::pair<std::string_view, T>, N>;

template <typename Object, typename T, size_t N>
Field<Object> choice(std::string_view name, const Choices<T, N>& choices, T Object::*member) {
  return {name,
          [&choices, member](const ConfigReader& reader, const Json& value, const std::string& pointer,
                             Object& object) -> Status {
            if (value.is_string()) {
              for (const auto& [text, choiceValue] : choices) {
                if (value.get_ref<const std::string&>() == text) {
                  object.*member = choiceValue;
                  return {};
                }
              }
            }
            std::string expected = "expected ";
            for (size_t i = 0; i < N; ++i) {
              if (i > 0) expected += i + 1 == N ? " or " : ", ";
              expected += "\"" + std::string(choices[i].first) + "\"";
            }
            return reader.error(pointer, expected);
          },
          [&choices, member](const Object& object) {
            for (const auto& [text, choiceValue] : choices) {
              if (object.*member == choiceValue) return Json(text);
            }
            return Json(nullptr);
          }};
}

template <typename Object>
Field<Object> listenAddress(std::string_view name, int family, std::optional<std::string> Object::*member) {
  return {name,
          [=](const ConfigReader& reader, const Json& value, const std::string& pointer, Object& object) -> Status {
            if (value.is_null()) {
              (object.*member).reset();
              return {};
            }
            const bool valid = value.is_string() && (family == AF_INET6 ? isIpv6Address(value.get<std::string>())
                                                                        : isIpv4Address(value.get<std::string>()));
            if (!valid) {
              return reader.error(pointer, family == AF_INET6 ? "expected an IPv6 address or null"
                                                              : "expected an IPv4 address or null");
            }
            object.*member = value.get<std::string>();
            return {};
          },
          [member](const Object& object) { return object.*member ? Json(*(object.*member)) : Json(nullptr); }};
}

// Reads the fields of OBJECT that JSON holds, in table order, stopping at the first error.
template <typename Object>
Status readFields(const ConfigReader& reader, const Fields<Object>& fields, const Json& json,
                  const std::string& pointer, Object& object) {
  if (!json.is_object()) return reader.error(pointer, pointer.empty() ? "expected a JSON object" : "expected an object");
  std::vector<std::string_view> known{"comment"};
  for (const Field<Object>& field : fields) known.push_back(field.name);
  if (auto status = reader.checkKnownFields(json, pointer, known); !status) return status;
  if (auto status = reader.checkComment(json, pointer); !status) return status;
  for (const Field<Object>& field : fields) {
    if (!json.contains(field.name)) continue;
    if (auto status = field.read(reader, json[std::string(field.name)], childPointer(pointer, field.name), object);
        !status) {
      return status;
    }
  }
  return {};
}

template <typename Object>
Json writeFields(const Fields<Object>& fields, const Object& object) {
  Json json = Json::object();
  for (const Field<Object>& field : fields) json[std::string(field.name)] = field.write(object);
  return json;
}

// A nested object, read with its own table, then checked as a whole by VALIDATE.
template <typename Nested>
using Validation = Status (*)(const ConfigReader&, const std::string& pointer, const Nested&);

template <typename Object, typename Nested>
Field<Object> nested(std::string_view name, Nested Object::*member, const Fields<Nested>& fields,
                     Validation<Nested> validate = nullptr) {
  return {name,
          [=, &fields](const ConfigReader& reader, const Json& value, const std::string& pointer,
                       Object& object) -> Status {
            if (auto status = readFields(reader, fields, value, pointer, object.*member); !status) return status;
            return validate ? validate(reader, pointer, object.*member) : Status{};
          },
          [member, &fields](const Object& object) { return writeFields(fields, object.*member); }};
}

constexpr Choices<FailureMode, 2> kFailureModes{{{"closed", FailureMode::kClosed}, {"open", FailureMode::kOpen}}};
constexpr Choices<NoSniCatalogAddressAction, 2> kNoSniActions{
    {{"alert", NoSniCatalogAddressAction::kAlert}, {"refuse", NoSniCatalogAddressAction::kRefuse}}};

const Fields<ProxyConfig>& proxyFields() {
  static const Fields<ProxyConfig> fields{
      listenAddress("listen_ipv4", AF_INET, &ProxyConfig::listenIpv4),
      listenAddress("listen_ipv6", AF_INET6, &ProxyConfig::listenIpv6),
      integer("port", 1, 65535, &ProxyConfig::port),
      {"redirect_ports",
       [](const ConfigReader& reader, const Json& value, const std::string& pointer, ProxyConfig& proxy) -> Status {
         if (!value.is_array() || value.empty()) return reader.error(pointer, "expected a non-empty array of ports");
         std::vector<uint16_t> ports;
         for (size_t i = 0; i < value.size(); ++i) {
           auto port = integerIn(value[i], 1, 65535);
           if (!port) return reader.error(childPointer(pointer, i), "expected an integer 1..65535");
           if (std::find(ports.begin(), ports.end(), *port) != ports.end()) {
             return reader.error(childPointer(pointer, i), "duplicate port " + std::to_string(*port));
           }
           ports.push_back(static_cast<uint16_t>(*port));
         }
         proxy.redirectPorts = std::move(ports);
         return {};
       },
       [](const ProxyConfig& proxy) { return Json(proxy.redirectPorts); }},
      integer("threads", 0, 1024, &ProxyConfig::threads),
      integer("peek_timeout_ms", 1, 600000, &ProxyConfig::peekTimeout),
      integer("idle_timeout_s", 1, 86400, &ProxyConfig::idleTimeout),
      integer("connect_timeout_ms", 1, 600000, &ProxyConfig::connectTimeout),
      integer("max_connections", 1, 1000000, &ProxyConfig::maxConnections),
      {"upstream_mark",
       [](const ConfigReader& reader, const Json& value, const std::string& pointer, ProxyConfig& proxy) -> Status {
         std::optional<uint64_t> mark = integerIn(value, 0, std::numeric_limits<uint32_t>::max());
         if (value.is_string()) mark = parseHex(value.get_ref<const std::string&>());
         // Mark 0 is every unmarked socket: it cannot tell the proxy's own connections apart.
         if (!mark || *mark == 0) {
           return reader.error(pointer, "expected a non-zero 32-bit integer, or a string like \"0x5ea1\"");
         }
         proxy.upstreamMark = static_cast<uint32_t>(*mark);
         return {};
       },
       [](const ProxyConfig& proxy) { return Json(hexText(proxy.upstreamMark)); }},
  };
  return fields;
}

Status validateProxy(const ConfigReader& reader, const std::string& pointer, const ProxyConfig& proxy) {
  if (!proxy.listenIpv4 && !proxy.listenIpv6) {
    return reader.error(pointer, "listen_ipv4 and listen_ipv6 are both null: the proxy needs at least one address");
  }
  // Redirecting the proxy's own port to itself would loop every connection.
  if (std::find(proxy.redirectPorts.begin(), proxy.redirectPorts.end(), proxy.port) != proxy.redirectPorts.end()) {
    return reader.error(pointer + "/port", "the proxy port must not be one of redirect_ports");
  }
  return {};
}

const Fields<InterceptConfig>& interceptFields() {
  static const Fields<InterceptConfig> fields{
      boolean("enabled", &InterceptConfig::enabled),
      absolutePathOrNull("upstream_ca_bundle", &InterceptConfig::upstreamCaBundle),
      integer("max_request_body_bytes", 1024, 1ull << 32, &InterceptConfig::maxRequestBodyBytes),
      integer("max_request_header_bytes", 1024, 1u << 20, &InterceptConfig::maxRequestHeaderBytes),
      integer("max_buffered_bytes", 0, 1ull << 40, &InterceptConfig::maxBufferedBytes),
      integer("max_mask_cpu_ms", 10, 600000, &InterceptConfig::maxMaskCpu),
      integer("response_timeout_ms", 100, 3600000, &InterceptConfig::responseTimeout),
      integer("client_idle_timeout_s", 1, 86400, &InterceptConfig::clientIdleTimeout),
      integer("upstream_idle_timeout_s", 1, 3600, &InterceptConfig::upstreamIdleTimeout),
  };
  return fields;
}

const Fields<DaemonConfig>& daemonFields() {
  static const Fields<DaemonConfig> fields{
      absolutePath("state_dir", &DaemonConfig::stateDir),
      absolutePath("runtime_dir", &DaemonConfig::runtimeDir),
      absolutePath("bpf_pin_dir", &DaemonConfig::bpfPinDir),
      // null (or absent): <runtime_dir>/control.sock, filled in once runtime_dir is known (parse).
      absolutePathOrNull("control_socket", &DaemonConfig::controlSocket),
      {"control_group",
       [](const ConfigReader& reader, const Json& value, const std::string& pointer, DaemonConfig& config) -> Status {
         if (value.is_null()) {
           config.controlGroup.reset();
           return {};
         }
         if (!value.is_string() || !isGroupName(value.get_ref<const std::string&>())) {
           return reader.error(pointer, "expected a group name or null");
         }
         config.controlGroup = value.get<std::string>();
         return {};
       },
       [](const DaemonConfig& config) { return config.controlGroup ? Json(*config.controlGroup) : Json(nullptr); }},
      {"cgroup",
       [](const ConfigReader& reader, const Json& value, const std::string& pointer, DaemonConfig& config) -> Status {
         if (!value.is_string() || !isCanonicalCgroupPath(value.get_ref<const std::string&>())) {
           return reader.error(pointer, "expected a cgroup path from the cgroup v2 root, like \"/\" or \"/system.slice\"");
         }
         config.cgroup = value.get<std::string>();
         return {};
       },
       [](const DaemonConfig& config) { return Json(config.cgroup); }},
      absolutePathOrNull("catalog_file", &DaemonConfig::catalogFile),
      absolutePaths("catalog_dirs", &DaemonConfig::catalogDirs),
      nested("proxy", &DaemonConfig::proxy, proxyFields(), validateProxy),
      nested("intercept", &DaemonConfig::intercept, interceptFields()),
      absolutePath("credentials_file", &DaemonConfig::credentialsFile),
      absolutePath("policy_dir", &DaemonConfig::policyDir),
      choice("failure_mode", kFailureModes, &DaemonConfig::failureMode),
      integer("heartbeat_timeout_s", 1, 3600, &DaemonConfig::heartbeatTimeout),
      choice("no_sni_catalog_address", kNoSniActions, &DaemonConfig::noSniCatalogAddress),
      integer("sni_wait_ms", 0, 60000, &DaemonConfig::sniWait),
  };
  return fields;
}

template <typename T, size_t N>
std::string_view nameOf(const Choices<T, N>& choices, T value) {
  for (const auto& [text, choiceValue] : choices) {
    if (choiceValue == value) return text;
  }
  return "";
}

}  // namespace

Result<DaemonConfig> DaemonConfig::parse(std::string_view json, const std::string& sourceName) {
  auto document = parseJsonDocument(json, sourceName);
  if (!document) return document.error();
  DaemonConfig config;
  config.controlSocket.clear();
  if (auto status = readFields(ConfigReader(sourceName), daemonFields(), *document, "", config); !status) {
    return status.error();
  }
  // Derived from runtime_dir unless given, so moving the runtime dir moves the socket with it.
  if (config.controlSocket.empty()) config.controlSocket = config.runtimeDir + "/control.sock";
  return config;
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

nlohmann::json DaemonConfig::toJson() const { return writeFields(daemonFields(), *this); }

std::string_view toString(FailureMode mode) { return nameOf(kFailureModes, mode); }

std::string_view toString(NoSniCatalogAddressAction action) { return nameOf(kNoSniActions, action); }

}  // namespace shadowai
