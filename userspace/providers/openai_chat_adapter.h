// OpenAI Chat Completions (/v1/chat/completions), also on Azure deployments and on every
// OpenAI-compatible provider of the catalog.
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class OpenAiChatAdapter : public ProviderAdapter {
 public:
  OpenAiChatAdapter() : ProviderAdapter(ErrorShape::kOpenAi) {}

  ApiKind api() const override { return ApiKind::kOpenAiChat; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

}  // namespace shadowai
