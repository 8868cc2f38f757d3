#include "mask/strict_json.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "common/json_nesting.h"

namespace shadowai {

Result<nlohmann::json> parseJsonRefusingDuplicateKeys(std::string_view body, std::string_view what) {
  using Json = nlohmann::json;
  if (jsonNestsDeeperThan(body)) return makeError(jsonTooDeepMessage(what));
  // One set of keys per object being parsed; the parser's callback sees keys already decoded, so
  // "te\u0078t" and "text" count as the same key, as they do for every JSON reader.
  std::vector<std::unordered_set<std::string>> openObjects;
  bool duplicate = false;
  auto watchKeys = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: openObjects.emplace_back(); break;
      case Json::parse_event_t::object_end:
        if (!openObjects.empty()) openObjects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!openObjects.empty() && !openObjects.back().insert(parsed.get<std::string>()).second) duplicate = true;
        break;
      default: break;
    }
    return true;
  };
  try {
    Json json = Json::parse(body, watchKeys);
    if (duplicate) return makeError(std::string(what) + " has an object with a duplicate key");
    return json;
  } catch (const Json::parse_error& error) {
    return makeError(std::string(what) + " is not valid JSON (at byte " + std::to_string(error.byte) + ")");
  } catch (const Json::exception&) {
    return makeError(std::string(what) + " is not valid JSON (a number is out of range)");
  }
}

}  // namespace shadowai
