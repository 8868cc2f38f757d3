#include "bpf/bpffs.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <filesystem>

namespace shadowai {

bool isOnBpffs(const std::string& path) {
  struct statfs info {};
  return ::statfs(path.c_str(), &info) == 0 && static_cast<unsigned long>(info.f_type) == BPF_FS_MAGIC;
}

namespace {
Status mountBpffs(const std::string& directory) {
  if (::mount("bpf", directory.c_str(), "bpf", 0, "mode=0700") != 0) {
    return errnoError("cannot mount a BPF filesystem on " + directory);
  }
  return {};
}
}  // namespace

Status ensureBpffsDirectory(const std::string& pinDir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(pinDir, error)) {
    return isOnBpffs(pinDir) ? Status{} : mountBpffs(pinDir);
  }
  const std::string parent = fs::path(pinDir).parent_path().string();
  if (fs::is_directory(parent, error) && !isOnBpffs(parent) && parent == "/sys/fs/bpf") {
    if (auto mounted = mountBpffs(parent); !mounted) return mounted;
  }
  if (!fs::create_directories(pinDir, error) && error) {
    return makeError("cannot create the BPF pin directory " + pinDir, error.value());
  }
  ::chmod(pinDir.c_str(), 0700);
  return isOnBpffs(pinDir) ? Status{} : mountBpffs(pinDir);
}

}  // namespace shadowai
