// OpenAI Responses (/v1/responses): "instructions" and "input" (a string or a list of items) in the
// request; "output" items in the response; typed events (response.output_text.delta, ...) when streamed.
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class OpenAiResponsesAdapter : public ProviderAdapter {
 public:
  OpenAiResponsesAdapter() : ProviderAdapter(ErrorShape::kOpenAi) {}

  ApiKind api() const override { return ApiKind::kOpenAiResponses; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

}  // namespace shadowai
