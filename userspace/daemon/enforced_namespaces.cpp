#include "daemon/enforced_namespaces.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "net/network_namespace.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

Result<uint64_t> procNetInode(const std::string& pid) {
  struct stat info{};
  const std::string path = "/proc/" + pid + "/net/dev";
  if (::stat(path.c_str(), &info) != 0) return errnoError("cannot read " + path);
  return static_cast<uint64_t>(info.st_ino);
}

void addProcessesOf(const fs::path& cgroupDir, const std::string& relativePath, const OwnNamespace& own,
                    std::map<uint64_t, EnforcedNamespace>& found) {
  std::ifstream procs(cgroupDir / "cgroup.procs");
  pid_t pid = 0;
  while (procs >> pid) {
    auto where = enforcedNamespaceOf(pid, relativePath, own);
    if (where && !found.count(where->first)) found.emplace(std::move(*where));
  }
}

}  // namespace

std::optional<std::pair<uint64_t, EnforcedNamespace>> enforcedNamespaceOf(pid_t pid, const std::string& cgroupPath,
                                                                           const OwnNamespace& own) {
  auto inode = NetworkNamespace::inodeOfProcess(pid);
  if (inode) {
    if (*inode == own.inode) return std::nullopt;
    return std::pair(*inode, EnforcedNamespace{*inode, pid, cgroupPath, ""});
  }
  if (inode.error().errnum != EACCES && inode.error().errnum != EPERM) return std::nullopt;  // gone meanwhile
  auto other = procNetInode(std::to_string(pid));
  if (!other || *other == own.procNetInode) return std::nullopt;
  return std::pair(*other, EnforcedNamespace{0, pid, cgroupPath,
                                             inode.error().describe() + " (needs CAP_SYS_ADMIN or CAP_SYS_PTRACE)"});
}

Result<OwnNamespace> ownNamespace() {
  auto inode = NetworkNamespace::ownInode();
  if (!inode) return inode.error();
  auto procNet = procNetInode("self");
  if (!procNet) return procNet.error();
  return OwnNamespace{*inode, *procNet};
}

std::map<uint64_t, EnforcedNamespace> findEnforcedNamespaces(const std::string& cgroup2Root,
                                                             const std::map<std::string, Mode>& modes,
                                                             const OwnNamespace& own) {
  std::map<uint64_t, EnforcedNamespace> found;
  for (const auto& [entryPath, mode] : modes) {
    if (mode != Mode::kEnforce) continue;
    const fs::path top = entryPath == "/" ? fs::path(cgroup2Root) : fs::path(cgroup2Root + entryPath);
    std::error_code error;
    if (!fs::is_directory(top, error)) continue;
    addProcessesOf(top, entryPath, own, found);
    fs::recursive_directory_iterator walk(top, fs::directory_options::skip_permission_denied, error);
    for (; !error && walk != fs::recursive_directory_iterator(); walk.increment(error)) {
      if (!walk->is_directory(error)) continue;
      const std::string relative = walk->path().string().substr(cgroup2Root.size());
      // A descendant with an entry of its own has the mode of that entry: an enforce entry is
      // walked on its own, any other mode takes its subtree out.
      if (modes.count(relative)) {
        walk.disable_recursion_pending();
        continue;
      }
      addProcessesOf(walk->path(), relative, own, found);
    }
  }
  return found;
}

}  // namespace shadowai
