#include "cgroup/cgroup_path.h"

namespace shadowai {

bool isCanonicalCgroupPath(std::string_view path) {
  if (path == "/") return true;
  if (path.empty() || path.front() != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") return false;
    for (unsigned char c : component) {
      if (c < 0x20 || c == 0x7f) return false;
    }
    start = end + 1;
  }
  return true;
}

}  // namespace shadowai
