// Routing from (catalog apiFamily, request line) to an adapter.
#include "providers/provider_adapter.h"

#include <array>

#include "providers/anthropic_messages_adapter.h"
#include "providers/gemini_adapter.h"
#include "providers/openai_chat_adapter.h"
#include "providers/openai_completions_adapter.h"
#include "providers/openai_embeddings_adapter.h"
#include "providers/openai_responses_adapter.h"
#include "net/request_target.h"
#include "providers/api_paths.h"
#include "providers/unknown_api_adapter.h"

namespace shadowai {

namespace {

// Families whose hosts serve the OpenAI API shapes. Path prefixes differ between them
// ("/v1/", "/openai/v1/", "/api/v1/", "/openai/deployments/<d>/", none), so only the end is matched.
constexpr std::array kOpenAiFamilies = {std::string_view("openai-chat"), std::string_view("azure-openai"),
                                        std::string_view("azure-ai-inference"), std::string_view("ollama")};

bool isOpenAiFamily(std::string_view family) {
  for (auto known : kOpenAiFamilies) {
    if (family == known) return true;
  }
  return false;
}

ErrorShape errorShapeFor(std::string_view family) {
  if (family == "anthropic-messages") return ErrorShape::kAnthropic;
  if (family == "gemini" || family == "vertex-ai") return ErrorShape::kGemini;
  return ErrorShape::kOpenAi;
}

std::unique_ptr<ProviderAdapter> openAiAdapterFor(std::string_view path) {
  if (pathEndsWith(path, "/chat/completions")) return std::make_unique<OpenAiChatAdapter>();
  if (pathEndsWith(path, "/responses")) return std::make_unique<OpenAiResponsesAdapter>();
  if (pathEndsWith(path, "/completions")) return std::make_unique<OpenAiCompletionsAdapter>();
  if (pathEndsWith(path, "/embeddings")) return std::make_unique<OpenAiEmbeddingsAdapter>();
  return nullptr;
}

}  // namespace

std::unique_ptr<ProviderAdapter> adapterFor(std::string_view apiFamily, std::string_view /*host*/,
                                            std::string_view method, std::string_view target) {
  std::string_view path = requestPath(target);
  std::unique_ptr<ProviderAdapter> adapter;
  // Every API we parse is a POST with a JSON body; GETs (model lists, retrievals) carry no prompt.
  if (method == "POST") {
    if (isOpenAiFamily(apiFamily)) {
      adapter = openAiAdapterFor(path);
    } else if (apiFamily == "anthropic-messages" && pathEndsWith(path, "/v1/messages")) {
      adapter = std::make_unique<AnthropicMessagesAdapter>();
    } else if (apiFamily == "gemini" || apiFamily == "vertex-ai") {
      auto gemini = geminiMethod(path);
      if (gemini && (gemini->method == "generateContent" || gemini->method == "streamGenerateContent")) {
        adapter = std::make_unique<GeminiAdapter>();
      }
    }
  }
  if (!adapter) adapter = std::make_unique<UnknownApiAdapter>(errorShapeFor(apiFamily));
  return adapter;
}

}  // namespace shadowai
