#include "providers/openai_common.h"

#include "net/request_target.h"
#include "providers/api_paths.h"

namespace shadowai {

void readOpenAiModelAndStream(std::string_view target, const Json& body, ParsedRequest& request) {
  if (auto deployment = azureDeployment(requestPath(target))) {
    request.model = std::string(*deployment);
  } else {
    request.model = stringMember(body, "model");
  }
  request.streaming = trueMember(body, "stream");
}

std::string_view openAiRole(const Json& message) {
  std::string role = stringMember(message, "role");
  if (role == "system" || role == "developer") return "system";
  if (role == "assistant") return "assistant";
  if (role == "tool" || role == "function") return "tool";
  return "user";
}

Status addOpenAiContent(std::vector<TextSegment>& out, std::string_view role, const Json& content,
                        const JsonPointer& at, std::string_view what) {
  if (content.is_null()) return {};
  if (content.is_string()) {
    addText(out, role, content, at);
    return {};
  }
  if (!content.is_array()) return shapeError(what, at, "is not a string or an array of content parts");
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    if (!part.is_object()) return shapeError(what, child(at, i), "is not a content part object");
    addMember(out, role, part, "text", child(at, i));
    addMember(out, role, part, "refusal", child(at, i));
  }
  return {};
}

Result<const Json*> arrayMember(const Json& object, std::string_view key, const JsonPointer& at,
                                std::string_view what, bool required) {
  static const Json kEmptyArray = Json::array();
  auto found = object.find(key);
  if (found == object.end() || (!required && found->is_null())) {
    if (required) return shapeError(what, at, "has no \"" + std::string(key) + "\" array");
    return &kEmptyArray;
  }
  if (!found->is_array()) return shapeError(what, child(at, key), "is not an array");
  return &*found;
}

bool isOpenAiDone(const SseEvent& event) { return event.hasData && event.data == "[DONE]"; }


Status addStringOrStrings(std::vector<TextSegment>& out, std::string_view role, const Json& holder,
                          std::string_view key, std::string_view what) {
  const Json& value = memberOrNull(holder, key);
  JsonPointer at = child(JsonPointer(), key);
  if (value.is_string()) {
    addText(out, role, value, at);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string() && !value[i].is_number_integer() && !value[i].is_array()) {
        return shapeError(what, child(at, i), "is not a string or tokens");
      }
      addText(out, role, value[i], child(at, i));
    }
  } else if (!value.is_null()) {
    return shapeError(what, at, "is not a string or an array of strings");
  }
  return {};
}

}  // namespace shadowai
