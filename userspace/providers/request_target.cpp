#include "providers/request_target.h"

namespace shadowai {

RequestTarget splitTarget(std::string_view target) {
  size_t question = target.find('?');
  RequestTarget result;
  result.path = target.substr(0, question);
  if (question != std::string_view::npos) result.query = target.substr(question + 1);
  size_t fragment = result.query.find('#');
  result.query = result.query.substr(0, fragment);
  if (result.path.empty()) result.path = "/";
  return result;
}

std::optional<std::string_view> queryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t equals = pair.find('=');
    if (pair.substr(0, equals) == name) {
      return equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool pathEndsWith(std::string_view path, std::string_view suffix) {
  // A trailing slash is tolerated by the providers' routers, so tolerate it here too.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.ends_with(suffix) &&
         (suffix.starts_with('/') || path.size() == suffix.size() || path[path.size() - suffix.size() - 1] == '/');
}

std::optional<std::string_view> azureDeployment(std::string_view path) {
  constexpr std::string_view kPrefix = "/openai/deployments/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  size_t slash = path.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  return path.substr(0, slash);
}

}  // namespace shadowai
