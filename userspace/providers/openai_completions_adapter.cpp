#include "providers/openai_completions_adapter.h"

#include "providers/openai_common.h"

namespace shadowai {

namespace {

Result<ParsedResponseChunk> parseCompletion(std::string_view body, std::string_view what) {
  auto json = parseJsonObject(body, what);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  JsonPointer root;
  auto choices = arrayMember(*json, "choices", root, what, false);
  if (!choices) return choices.error();
  for (size_t i = 0; i < (*choices)->size(); ++i) {
    addMember(chunk.generated, "assistant", (**choices)[i], "text", child(child(root, "choices"), i));
  }
  chunk.usage = usageFrom(memberOrNull(*json, "usage"), "prompt_tokens", "completion_tokens");
  return chunk;
}

}  // namespace

Result<ParsedRequest> OpenAiCompletionsAdapter::parseRequest(std::string_view target, std::string_view body) const {
  auto json = parseJsonObject(body, kRequestBody);
  if (!json) return json.error();
  ParsedRequest request;
  request.api = api();
  readOpenAiModelAndStream(target, *json, request);
  if (auto status = addStringOrStrings(request.prompt, "user", *json, "prompt", kRequestBody); !status) {
    return status.error();
  }
  addMember(request.prompt, "user", *json, "suffix", JsonPointer());
  return request;
}

Result<ParsedResponseChunk> OpenAiCompletionsAdapter::parseResponse(std::string_view body) const {
  auto chunk = parseCompletion(body, kResponseBody);
  if (chunk) chunk->done = true;
  return chunk;
}

Result<ParsedResponseChunk> OpenAiCompletionsAdapter::parseStreamEvent(const SseEvent& event) const {
  if (isOpenAiDone(event)) {
    ParsedResponseChunk chunk;
    chunk.done = true;
    return chunk;
  }
  if (!event.hasData) return ParsedResponseChunk{};
  return parseCompletion(event.data, kStreamEvent);
}

}  // namespace shadowai
