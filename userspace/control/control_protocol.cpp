#include "control/control_protocol.h"

#include <algorithm>
#include <initializer_list>

#include "common/json_nesting.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr const char* kInherit = "inherit";

Result<std::string> stringField(const Json& object, const char* key) {
  const Json& value = object[key];
  if (!value.is_string()) return makeError(std::string("\"") + key + "\" must be a string");
  if (value.get_ref<const std::string&>().empty()) return makeError(std::string("\"") + key + "\" must not be empty");
  return value.get<std::string>();
}

Status checkFields(const Json& object, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return makeError("unknown field " + Json(key).dump(-1, ' ', true, Json::error_handler_t::replace));
    }
  }
  return {};
}

Result<ControlRequest> parseSetMode(const Json& object) {
  if (auto known = checkFields(object, {"command", "mode", "cgroup", "unit"}); !known) return known.error();
  if (!object.contains("mode")) return makeError("set_mode needs \"mode\"");
  auto modeText = stringField(object, "mode");
  if (!modeText) return modeText.error();
  auto mode = parseModeArgument(*modeText);
  if (!mode) return mode.error();

  SetModeRequest request;
  request.mode = *mode;
  const bool hasCgroup = object.contains("cgroup");
  const bool hasUnit = object.contains("unit");
  if (hasCgroup == hasUnit) return makeError("set_mode needs exactly one of \"cgroup\" and \"unit\"");
  if (hasCgroup) {
    auto cgroup = stringField(object, "cgroup");
    if (!cgroup) return cgroup.error();
    request.cgroup = std::move(*cgroup);
  } else {
    auto unit = stringField(object, "unit");
    if (!unit) return unit.error();
    request.unit = std::move(*unit);
  }
  return ControlRequest(std::move(request));
}

}  // namespace

std::string modeArgumentText(const std::optional<Mode>& mode) {
  return mode ? std::string(toString(*mode)) : std::string(kInherit);
}

Result<std::optional<Mode>> parseModeArgument(std::string_view text) {
  if (text == kInherit) return std::optional<Mode>();
  if (auto mode = parseMode(text)) return std::optional<Mode>(*mode);
  return makeError("bad mode: expected enforce, detect, off or inherit");
}

Result<ControlRequest> parseControlRequest(std::string_view line) {
  if (line.size() >= kMaxControlLineBytes) {
    return makeError("request too large (limit " + std::to_string(kMaxControlLineBytes) + " bytes)");
  }
  if (jsonNestsDeeperThan(line)) return makeError("malformed request: " + jsonTooDeepMessage("it"));
  Json object;
  try {
    object = Json::parse(line.begin(), line.end());
  } catch (const Json::exception&) {
    return makeError("malformed request: not a JSON document");
  }
  if (!object.is_object()) return makeError("malformed request: expected a JSON object");
  if (!object.contains("command")) return makeError("malformed request: no \"command\"");
  const Json& command = object["command"];
  if (!command.is_string()) return makeError("malformed request: \"command\" must be a string");
  if (command == "set_mode") return parseSetMode(object);
  if (command == "status") {
    if (auto known = checkFields(object, {"command"}); !known) return known.error();
    return ControlRequest(StatusRequest{});
  }
  if (command == "reload_policy") {
    if (auto known = checkFields(object, {"command"}); !known) return known.error();
    return ControlRequest(ReloadPolicyRequest{});
  }
  return makeError("unknown command " + command.dump(-1, ' ', true, Json::error_handler_t::replace));
}

std::string encodeControlRequest(const ControlRequest& request) {
  Json object = std::visit(Overloaded{
                               [](const SetModeRequest& setMode) {
                                 Json fields = {{"command", "set_mode"}, {"mode", modeArgumentText(setMode.mode)}};
                                 if (setMode.cgroup) fields["cgroup"] = *setMode.cgroup;
                                 if (setMode.unit) fields["unit"] = *setMode.unit;
                                 return fields;
                               },
                               [](const StatusRequest&) { return Json{{"command", "status"}}; },
                               [](const ReloadPolicyRequest&) { return Json{{"command", "reload_policy"}}; },
                           },
                           request);
  // Replacing invalid UTF-8 instead of throwing: a bad byte in a path gets an error reply, not a crash.
  return object.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string encodeOkReply(const nlohmann::json& fields) {
  Json reply = {{"ok", true}};
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      if (key != "ok") reply[key] = value;
    }
  }
  return reply.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string encodeErrorReply(const std::string& message) {
  return Json{{"ok", false}, {"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<nlohmann::json> parseControlReply(std::string_view line) {
  Json reply;
  try {
    reply = Json::parse(line.begin(), line.end());
  } catch (const Json::exception&) {
    return makeError("shadowaid sent a reply that is not JSON");
  }
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) {
    return makeError("shadowaid sent a reply without \"ok\"");
  }
  if (!reply["ok"].get<bool>()) {
    const Json& error = reply["error"];
    return makeError(error.is_string() ? error.get<std::string>() : std::string("shadowaid refused the request"));
  }
  return reply;
}

std::optional<std::string> ControlLineBuffer::takeLine() {
  size_t newline = pending_.find('\n');
  if (newline == std::string::npos || newline + 1 > maxLineBytes_) return std::nullopt;
  std::string line = pending_.substr(0, newline);
  pending_.erase(0, newline + 1);
  return line;
}

bool ControlLineBuffer::overflowed() const {
  size_t newline = pending_.find('\n');
  if (newline == std::string::npos) return pending_.size() >= maxLineBytes_;
  return newline + 1 > maxLineBytes_;
}

}  // namespace shadowai
