#include "providers/api_paths.h"

namespace shadowai {

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
