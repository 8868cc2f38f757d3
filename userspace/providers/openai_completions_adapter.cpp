#include "providers/openai_completions_adapter.h"

#include "providers/openai_common.h"

namespace shadowai {

namespace {

// In a stream, each choice's text is a channel named by its "index", ended by its finish_reason.
Result<ParsedResponseChunk> parseCompletion(std::string_view body, std::string_view what, bool streamed) {
  auto json = parseJsonObject(body, what);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  JsonPointer root;
  auto choices = arrayMember(*json, "choices", root, what, false);
  if (!choices) return choices.error();
  for (size_t i = 0; i < (*choices)->size(); ++i) {
    const Json& choice = (**choices)[i];
    size_t first = chunk.generated.size();
    addMember(chunk.generated, "assistant", choice, "text", child(child(root, "choices"), i));
    if (!streamed) continue;
    std::string channel = "choices/" + indexMember(choice, "index", std::to_string(i));
    setChannel(chunk.generated, first, channel + "/text");
    if (memberOrNull(choice, "finish_reason").is_string()) chunk.endedChannels.push_back(channel);
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
  auto chunk = parseCompletion(body, kResponseBody, false);
  if (chunk) chunk->done = true;
  return chunk;
}

Result<ParsedResponseChunk> OpenAiCompletionsAdapter::parseStreamEvent(const SseEvent& event) const {
  if (isOpenAiDone(event)) {
    ParsedResponseChunk chunk;
    chunk.done = true;
    chunk.endedChannels.push_back("");
    return chunk;
  }
  if (!event.hasData) return ParsedResponseChunk{};
  return parseCompletion(event.data, kStreamEvent, true);
}

}  // namespace shadowai
