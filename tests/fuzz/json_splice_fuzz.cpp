// Fuzzes the in-place JSON string rewriting: arbitrary bytes as a body, every string value in it
// (to a bounded depth) replaced by a changed text. Besides crashes (simdjson and nlohmann disagreeing
// on some input), it checks that a rewrite that succeeds reads back, to nlohmann, as exactly the replacements.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mask/json_splice.h"
#include "mask/strict_json.h"

namespace {

using Json = nlohmann::json;

void check(bool condition) {
  if (!condition) std::abort();
}

void collect(const Json& value, const Json::json_pointer& at, int depth, std::vector<shadowai::JsonStringReplacement>& out) {
  if (depth > 32 || out.size() > 64) return;
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    out.push_back({at, text, "[" + std::to_string(text.size()) + "]\"\\\n"});
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.items()) collect(member, at / key, depth + 1, out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) collect(value[i], at / i, depth + 1, out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // The texts come from nlohmann, as the adapters read bodies; the rewrite reads the body with simdjson.
  auto parsed = shadowai::parseJsonRefusingDuplicateKeys(body, "body");
  // The rewrite's own reading (simdjson) may refuse more than nlohmann (which stops at a NUL byte and
  // ignores what follows): a refusal fails closed. What it accepts must read as nlohmann read it.
  if (!parsed) return 0;
  std::vector<shadowai::JsonStringReplacement> replacements;
  collect(*parsed, Json::json_pointer(), 0, replacements);
  auto spliced = shadowai::rewriteJsonStrings(body, replacements, "body");
  if (!spliced) return 0;
  // What a provider reads is exactly the body as the adapter read it with the replacements applied.
  Json expected = *parsed;
  for (const auto& replacement : replacements) expected[replacement.location] = replacement.replacement;
  const std::string out = spliced->has_value() ? **spliced : std::string(body);
  check(Json::parse(out) == expected);
  if (replacements.empty()) check(out == body);
  return 0;
}
