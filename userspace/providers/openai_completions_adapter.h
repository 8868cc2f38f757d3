// OpenAI legacy Completions (/v1/completions): "prompt" (and "suffix") in, choices[].text out.
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class OpenAiCompletionsAdapter : public ProviderAdapter {
 public:
  OpenAiCompletionsAdapter() : ProviderAdapter(ErrorShape::kOpenAi) {}

  ApiKind api() const override { return ApiKind::kOpenAiCompletions; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

}  // namespace shadowai
