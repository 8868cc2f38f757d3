// The path shapes the provider adapters route on; the path itself is net/request_target.h's requestPath.
#pragma once

#include <optional>
#include <string_view>

namespace shadowai {

// Whether `path` ends with `suffix` at a segment boundary ("/v1/chat/completions", "/chat/completions").
bool pathEndsWith(std::string_view path, std::string_view suffix);

// The deployment of an Azure OpenAI path "/openai/deployments/<name>/...", which is the model there.
std::optional<std::string_view> azureDeployment(std::string_view path);

}  // namespace shadowai
