// OpenAI Embeddings (/v1/embeddings): "input" text in, vectors and a prompt token count out. Nothing
// generated comes back, and the API does not stream.
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class OpenAiEmbeddingsAdapter : public ProviderAdapter {
 public:
  OpenAiEmbeddingsAdapter() : ProviderAdapter(ErrorShape::kOpenAi) {}

  ApiKind api() const override { return ApiKind::kOpenAiEmbeddings; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

}  // namespace shadowai
