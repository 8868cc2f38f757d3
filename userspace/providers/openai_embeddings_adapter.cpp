#include "providers/openai_embeddings_adapter.h"

#include "providers/openai_common.h"

namespace shadowai {

Result<ParsedRequest> OpenAiEmbeddingsAdapter::parseRequest(std::string_view target, std::string_view body) const {
  auto json = parseJsonObject(body, kRequestBody);
  if (!json) return json.error();
  ParsedRequest request;
  request.api = api();
  readOpenAiModelAndStream(target, *json, request);
  request.streaming = false;  // "stream" is not a parameter of this API
  if (auto status = addStringOrStrings(request.prompt, "user", *json, "input", kRequestBody); !status) {
    return status.error();
  }
  return request;
}

Result<ParsedResponseChunk> OpenAiEmbeddingsAdapter::parseResponse(std::string_view body) const {
  auto json = parseJsonObject(body, kResponseBody);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  chunk.done = true;
  chunk.usage = usageFrom(memberOrNull(*json, "usage"), "prompt_tokens", "completion_tokens");
  return chunk;
}

Result<ParsedResponseChunk> OpenAiEmbeddingsAdapter::parseStreamEvent(const SseEvent& /*event*/) const {
  // Embeddings never stream; an event here carries nothing generated.
  return ParsedResponseChunk{};
}

}  // namespace shadowai
