#include "providers/provider_call.h"

namespace shadowai {

std::string_view apiKindName(ApiKind api) {
  switch (api) {
    case ApiKind::kOpenAiChat: return "openai-chat";
    case ApiKind::kOpenAiResponses: return "openai-responses";
    case ApiKind::kOpenAiCompletions: return "openai-completions";
    case ApiKind::kOpenAiEmbeddings: return "openai-embeddings";
    case ApiKind::kAnthropicMessages: return "anthropic-messages";
    case ApiKind::kGeminiGenerate: return "gemini-generate";
    case ApiKind::kUnknown: break;
  }
  return "unknown";
}

}  // namespace shadowai
