// Google Gemini generateContent and streamGenerateContent (/v1beta/models/<model>:generateContent), on
// the Gemini API and, with the same bodies, on Vertex AI (.../publishers/google/models/<model>:...).
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class GeminiAdapter : public ProviderAdapter {
 public:
  GeminiAdapter() : ProviderAdapter(ErrorShape::kGemini) {}

  ApiKind api() const override { return ApiKind::kGeminiGenerate; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  // A GenerateContentResponse, or the JSON array of them that streamGenerateContent sends without alt=sse.
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

// The model and method of a Gemini path: "/v1beta/models/gemini-2.0-flash:streamGenerateContent" gives
// {"gemini-2.0-flash", "streamGenerateContent"}; nullopt when the path is not "<...>models/<m>:<method>".
struct GeminiMethod {
  std::string_view model;
  std::string_view method;
};
std::optional<GeminiMethod> geminiMethod(std::string_view path);

}  // namespace shadowai
