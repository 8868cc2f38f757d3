// The parts of an HTTP request target the adapters route on. Beast has already framed the request;
// this only splits "path?query" and reads the few query parameters and path shapes providers use.
#pragma once

#include <optional>
#include <string_view>

namespace shadowai {

struct RequestTarget {
  std::string_view path;   // without the query; "/" for an empty target
  std::string_view query;  // after '?', without it; empty when absent
};

RequestTarget splitTarget(std::string_view target);

// The raw (not percent-decoded) value of the first `name=` parameter of a query string.
std::optional<std::string_view> queryParameter(std::string_view query, std::string_view name);

// Whether `path` ends with `suffix` at a segment boundary ("/v1/chat/completions", "/chat/completions").
bool pathEndsWith(std::string_view path, std::string_view suffix);

// The deployment of an Azure OpenAI path "/openai/deployments/<name>/...", which is the model there.
std::optional<std::string_view> azureDeployment(std::string_view path);

}  // namespace shadowai
