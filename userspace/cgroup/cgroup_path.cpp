#include "cgroup/cgroup_path.h"

#include <sys/stat.h>

#include <filesystem>

#include "cgroup/cgroup_fs.h"
#include "common/printable_text.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

std::string withoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

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

Result<ResolvedCgroup> resolveCgroup(const std::string& cgroup2Root, const std::string& argument) {
  const std::string shown = printableText(argument);
  // stat() would stop at the NUL and check a shorter path than the one the message shows.
  if (argument.find('\0') != std::string::npos) return makeError("bad cgroup " + shown + ": it contains a NUL byte");
  const std::string root = withoutTrailingSlash(fs::path(cgroup2Root).lexically_normal().string());
  const fs::path given = fs::path(argument.empty() ? "/" : argument).lexically_normal();
  const bool underMount = given.is_absolute() && isCgroupPathWithin(withoutTrailingSlash(given.string()), root);
  const fs::path absolute = underMount ? given : fs::path(root) / given.relative_path();
  const std::string absoluteText = withoutTrailingSlash(absolute.lexically_normal().string());
  if (!isCgroupPathWithin(absoluteText, root)) {
    return makeError("bad cgroup " + shown + ": it leaves the cgroup v2 hierarchy at " + root);
  }
  // With the hierarchy mounted at "/" the whole absolute path is the relative one.
  const std::string relative =
      absoluteText.size() == root.size() ? "/" : absoluteText.substr(root == "/" ? 0 : root.size());
  struct stat info {};
  if (::stat((absoluteText + "/cgroup.procs").c_str(), &info) != 0) {
    return makeError("unknown cgroup " + shown + ": no cgroup " + printableText(relative) + " under " + root);
  }
  return ResolvedCgroup{absoluteText, relative};
}

}  // namespace shadowai
