#include "providers/gemini_adapter.h"

#include "net/request_target.h"
#include "providers/json_text.h"

namespace shadowai {

namespace {

// A Content: {"role", "parts": [...]}. Text is in parts[].text; function calls carry JSON args the model
// wrote and function responses the JSON a tool returned, so every string in them counts.
// In a stream, `channel` is the candidate's: text parts continue each other across chunks (thought
// parts apart from the answer), while function calls always arrive whole and stay channel-less.
Status addContent(std::vector<TextSegment>& out, std::string_view role, const Json& content, const JsonPointer& at,
                  std::string_view what, const std::string& channel = {}) {
  if (content.is_null()) return {};
  if (!content.is_object()) return shapeError(what, at, "is not a content object");
  const Json& parts = memberOrNull(content, "parts");
  if (parts.is_null()) return {};
  if (!parts.is_array()) return shapeError(what, child(at, "parts"), "is not an array of parts");
  for (size_t i = 0; i < parts.size(); ++i) {
    JsonPointer partAt = child(child(at, "parts"), i);
    const Json& part = parts[i];
    if (!part.is_object()) return shapeError(what, partAt, "is not a part object");
    size_t first = out.size();
    addMember(out, role, part, "text", partAt);
    if (!channel.empty()) setChannel(out, first, channel + (trueMember(part, "thought") ? "/thought" : "/text"));
    for (std::string_view key : {"functionCall", "function_call"}) {
      auto status = addStringLeaves(out, "assistant", memberOrNull(memberOrNull(part, key), "args"),
                                    child(child(partAt, key), "args"), what);
      if (!status) return status;
    }
    for (std::string_view key : {"functionResponse", "function_response"}) {
      auto status = addStringLeaves(out, "tool", memberOrNull(memberOrNull(part, key), "response"),
                                    child(child(partAt, key), "response"), what);
      if (!status) return status;
    }
  }
  return {};
}

std::string_view geminiRole(const Json& content) {
  std::string role = stringMember(content, "role");
  if (role == "model") return "assistant";
  if (role == "function" || role == "tool") return "tool";
  return "user";
}

// The REST API accepts both the proto JSON names (camelCase) and the original field names.
const Json& memberEitherName(const Json& object, std::string_view camel, std::string_view snake, std::string& used) {
  const Json& value = memberOrNull(object, camel);
  used = camel;
  if (!value.is_null()) return value;
  used = snake;
  return memberOrNull(object, snake);
}

// `streamed`: an SSE chunk, whose texts go on per-candidate channels ended by its finishReason.
Status addCandidates(ParsedResponseChunk& chunk, const Json& response, const JsonPointer& at, std::string_view what,
                     bool streamed) {
  if (!response.is_object()) return shapeError(what, at, "is not a GenerateContentResponse object");
  const Json& candidates = memberOrNull(response, "candidates");
  if (!candidates.is_null() && !candidates.is_array()) {
    return shapeError(what, child(at, "candidates"), "is not an array");
  }
  for (size_t i = 0; candidates.is_array() && i < candidates.size(); ++i) {
    JsonPointer candidateAt = child(child(at, "candidates"), i);
    if (!candidates[i].is_object()) return shapeError(what, candidateAt, "is not a candidate object");
    std::string channel = streamed ? "candidates/" + indexMember(candidates[i], "index", std::to_string(i)) : "";
    auto status = addContent(chunk.generated, "assistant", memberOrNull(candidates[i], "content"),
                             child(candidateAt, "content"), what, channel);
    if (!status) return status;
    if (candidates[i].contains("finishReason")) {
      chunk.done = true;
      if (streamed) chunk.endedChannels.push_back(channel);
    }
  }
  std::string usageKey;
  const Json& usage = memberEitherName(response, "usageMetadata", "usage_metadata", usageKey);
  if (auto counted = usageFrom(usage, "promptTokenCount", "candidatesTokenCount")) {
    // Thinking tokens are billed as output but counted apart.
    if (auto thoughts = unsignedMember(usage, "thoughtsTokenCount")) {
      counted->outputTokens = counted->outputTokens.value_or(0) + *thoughts;
    }
    chunk.usage = counted;
  }
  return {};
}

}  // namespace

std::optional<GeminiMethod> geminiMethod(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view last = path.substr(slash + 1);
  size_t colon = last.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view before = path.substr(0, slash + 1);
  // "models/<m>" and "tunedModels/<m>" both name a model.
  if (!before.ends_with("/models/") && !before.ends_with("/tunedModels/")) return std::nullopt;
  return GeminiMethod{last.substr(0, colon), last.substr(colon + 1)};
}

Result<ParsedRequest> GeminiAdapter::parseRequest(std::string_view target, std::string_view body) const {
  auto json = parseJsonObject(body, kRequestBody);
  if (!json) return json.error();
  ParsedRequest request;
  request.api = api();
  if (auto method = geminiMethod(requestPath(target))) {
    request.model = std::string(method->model);
    request.streaming = method->method == "streamGenerateContent";
  }

  JsonPointer root;
  std::string systemKey;
  const Json& system = memberEitherName(*json, "systemInstruction", "system_instruction", systemKey);
  if (auto status = addContent(request.prompt, "system", system, child(root, systemKey), kRequestBody); !status) {
    return status.error();
  }
  const Json& contents = memberOrNull(*json, "contents");
  if (!contents.is_array()) return shapeError(kRequestBody, child(root, "contents"), "is not an array of contents");
  for (size_t i = 0; i < contents.size(); ++i) {
    JsonPointer at = child(child(root, "contents"), i);
    if (auto status = addContent(request.prompt, geminiRole(contents[i]), contents[i], at, kRequestBody); !status) {
      return status.error();
    }
  }
  return request;
}

Result<ParsedResponseChunk> GeminiAdapter::parseResponse(std::string_view body) const {
  auto json = parseJson(body, kResponseBody);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  if (json->is_array()) {
    for (size_t i = 0; i < json->size(); ++i) {
      ParsedResponseChunk part;
      if (auto status = addCandidates(part, (*json)[i], child(JsonPointer(), i), kResponseBody, false); !status) {
        return status.error();
      }
      chunk.generated.insert(chunk.generated.end(), part.generated.begin(), part.generated.end());
      if (part.usage) chunk.usage = part.usage;  // each element repeats the running totals
    }
  } else if (auto status = addCandidates(chunk, *json, JsonPointer(), kResponseBody, false); !status) {
    return status.error();
  }
  chunk.done = true;
  return chunk;
}

Result<ParsedResponseChunk> GeminiAdapter::parseStreamEvent(const SseEvent& event) const {
  ParsedResponseChunk chunk;
  if (!event.hasData) return chunk;
  auto json = parseJsonObject(event.data, kStreamEvent);
  if (!json) return json.error();
  // Gemini has no end-of-stream event: the last chunk is the one with a finishReason.
  if (auto status = addCandidates(chunk, *json, JsonPointer(), kStreamEvent, true); !status) return status.error();
  return chunk;
}

}  // namespace shadowai
