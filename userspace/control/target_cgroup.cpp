#include "control/target_cgroup.h"

#include <sys/stat.h>

#include <filesystem>

#include "cgroup/cgroup_fs.h"
#include "common/printable_text.h"
#include "control/unit_resolver.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

std::string withoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

Result<std::string> resolveCgroupTarget(const std::string& argument, const std::string& cgroup2Root) {
  const std::string shown = printableText(argument);
  if (argument.find('\0') != std::string::npos) return makeError("bad cgroup " + shown + ": it contains a NUL byte");
  const std::string root = withoutTrailingSlash(fs::path(cgroup2Root).lexically_normal().string());
  const fs::path given = fs::path(argument.empty() ? "/" : argument).lexically_normal();
  const bool underMount = given.is_absolute() && isCgroupPathWithin(withoutTrailingSlash(given.string()), root);
  const fs::path absolute = underMount ? given : fs::path(root) / given.relative_path();
  const std::string absoluteText = withoutTrailingSlash(absolute.lexically_normal().string());
  if (!isCgroupPathWithin(absoluteText, root)) {
    return makeError("bad cgroup " + shown + ": it leaves the cgroup v2 hierarchy at " + root);
  }
  const std::string relative = absoluteText.size() == root.size() ? "/" : absoluteText.substr(root == "/" ? 0 : root.size());
  struct stat info {};
  if (::stat((absoluteText + "/cgroup.procs").c_str(), &info) != 0) {
    return makeError("unknown cgroup " + shown + ": no cgroup " + printableText(relative) + " under " + root);
  }
  return relative;
}

Result<std::string> resolveUnitTarget(const std::string& unit, const std::string& cgroup2Root) {
  auto path = resolveUnitCgroup(unit, cgroup2Root);
  if (!path) return path.error();
  auto checked = resolveCgroupTarget(*path, cgroup2Root);
  if (!checked) return makeError("unknown unit " + unit + ": its cgroup " + *path + " does not exist");
  return checked;
}

}  // namespace shadowai
