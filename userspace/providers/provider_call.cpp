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

bool channelEndedBy(std::string_view channel, std::string_view ended) {
  if (!channel.starts_with(ended)) return false;
  return channel.size() == ended.size() || ended.empty() || channel[ended.size()] == '/';
}

}  // namespace shadowai
