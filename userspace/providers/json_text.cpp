#include "providers/json_text.h"

#include <string>
#include <utility>
#include <vector>

#include "common/json_nesting.h"

namespace shadowai {

namespace {
constexpr int kMaxLeafDepth = 64;

Status collectLeaves(std::vector<TextSegment>& out, std::string_view role, const Json& value, const JsonPointer& at,
                     std::string_view what, int depth) {
  if (depth > kMaxLeafDepth) return shapeError(what, at, "is nested too deeply to inspect");
  if (value.is_string()) {
    addText(out, role, value, at);
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (auto status = collectLeaves(out, role, member, at / key, what, depth + 1); !status) return status;
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto status = collectLeaves(out, role, value[i], at / i, what, depth + 1); !status) return status;
    }
  }
  return {};
}
}  // namespace

// Builds the value as Json::parse does (the last of duplicate keys wins), but moves each string out
// of the lexer's buffer instead of copying it: with the lexer's own copy of the token (kept for its
// error messages), Json::parse holds a prompt of 30 MiB three times over besides the body.
class MovingDomBuilder final : public nlohmann::json_sax<Json> {
 public:
  explicit MovingDomBuilder(Json& root) : root_(root) {}

  bool null() override { return place(Json(nullptr)) != nullptr; }
  bool boolean(bool value) override { return place(Json(value)) != nullptr; }
  bool number_integer(number_integer_t value) override { return place(Json(value)) != nullptr; }
  bool number_unsigned(number_unsigned_t value) override { return place(Json(value)) != nullptr; }
  bool number_float(number_float_t value, const string_t&) override { return place(Json(value)) != nullptr; }
  bool string(string_t& value) override { return place(Json(std::move(value))) != nullptr; }
  bool binary(binary_t& value) override { return place(Json::binary(std::move(value))) != nullptr; }
  bool start_object(std::size_t) override { return open(Json::object()); }
  bool key(string_t& name) override {
    member_ = &(*open_.back())[std::move(name)];
    return true;
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_array() override {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) override {
    errorAt = position;
    // out_of_range: a number too large for a double (1e400); the body is still not usable JSON.
    numberOutOfRange = dynamic_cast<const Json::out_of_range*>(&error) != nullptr;
    return false;
  }

  std::size_t errorAt = 0;
  bool numberOutOfRange = false;

 private:
  Json* place(Json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    if (open_.back()->is_array()) {
      open_.back()->push_back(std::move(value));
      return &open_.back()->back();
    }
    *member_ = std::move(value);
    return member_;
  }
  bool open(Json container) {
    Json* at = place(std::move(container));
    open_.push_back(at);
    return true;
  }

  Json& root_;
  std::vector<Json*> open_;
  Json* member_ = nullptr;
};

Result<Json> parseJson(std::string_view body, std::string_view what) {
  if (jsonNestsDeeperThan(body)) return makeError(jsonTooDeepMessage(what));
  // nlohmann's lexer takes a NUL byte for the end of its input and ignores what follows, where a
  // provider would read on (or refuse): no JSON text holds a raw NUL, so it is refused here.
  if (const size_t nul = body.find('\0'); nul != std::string_view::npos) {
    return makeError(std::string(what) + " is not valid JSON (at byte " + std::to_string(nul + 1) + ")");
  }
  Json root;
  MovingDomBuilder builder(root);
  if (Json::sax_parse(body, &builder)) return root;
  if (builder.numberOutOfRange) return makeError(std::string(what) + " is not valid JSON (a number is out of range)");
  return makeError(std::string(what) + " is not valid JSON (at byte " + std::to_string(builder.errorAt) + ")");
}

Result<Json> parseJsonObject(std::string_view body, std::string_view what) {
  auto json = parseJson(body, what);
  if (!json) return json;
  if (!json->is_object()) return makeError(std::string(what) + " is not a JSON object");
  return json;
}

Error shapeError(std::string_view what, const JsonPointer& at, std::string_view expectation) {
  std::string where = at.to_string();
  return makeError(std::string(what) + ": " + (where.empty() ? "/" : where) + " " + std::string(expectation));
}

void addText(std::vector<TextSegment>& out, std::string_view role, const Json& value, const JsonPointer& at) {
  if (!value.is_string()) return;
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty()) return;
  out.push_back(TextSegment{std::string(role), text, at, {}});
}

void addMember(std::vector<TextSegment>& out, std::string_view role, const Json& object, std::string_view key,
               const JsonPointer& at) {
  if (!object.is_object()) return;
  auto found = object.find(key);
  if (found != object.end()) addText(out, role, *found, child(at, key));
}

Status addStringLeaves(std::vector<TextSegment>& out, std::string_view role, const Json& value,
                       const JsonPointer& at, std::string_view what) {
  return collectLeaves(out, role, value, at, what, 0);
}

std::optional<uint64_t> unsignedMember(const Json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  auto found = object.find(key);
  if (found == object.end() || !found->is_number_unsigned()) return std::nullopt;
  return found->get<uint64_t>();
}

std::optional<Usage> usageFrom(const Json& object, std::string_view inputKey, std::string_view outputKey) {
  Usage usage{unsignedMember(object, inputKey), unsignedMember(object, outputKey)};
  if (!usage.inputTokens && !usage.outputTokens) return std::nullopt;
  return usage;
}

const Json& memberOrNull(const Json& object, std::string_view key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto found = object.find(key);
  return found == object.end() ? kNull : *found;
}

std::string stringMember(const Json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

void setChannel(std::vector<TextSegment>& out, size_t from, const std::string& channel) {
  for (size_t i = from; i < out.size(); ++i) out[i].channel = channel;
}

std::string indexMember(const Json& object, std::string_view key, std::string_view fallback) {
  auto value = unsignedMember(object, key);
  return value ? std::to_string(*value) : std::string(fallback);
}

bool trueMember(const Json& object, std::string_view key) {
  if (!object.is_object()) return false;
  auto found = object.find(key);
  return found != object.end() && found->is_boolean() && found->get<bool>();
}

}  // namespace shadowai
