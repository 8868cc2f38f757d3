#include "cgroup/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/fd.h"
#include "common/file_util.h"

namespace shadowai {
namespace {

// kernfs encodes its node id as an 8-byte handle of this type (FILEID_KERNFS in linux/exportfs.h).
constexpr int kFileIdKernfs = 0xfe;

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescapeMountPath(std::string_view field) {
  auto isOctal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && isOctal(field[i + 1]) && isOctal(field[i + 2]) &&
        isOctal(field[i + 3])) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(field[i]);
  }
  return out;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    if (end > pos) fields.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return fields;
}

Result<uint64_t> cgroupIdOfFd(int fd, const std::string& what) {
  // struct file_handle ends in a flexible array, so it lives in a buffer with room for the largest.
  alignas(struct file_handle) unsigned char storage[sizeof(struct file_handle) + MAX_HANDLE_SZ] = {};
  auto* handle = reinterpret_cast<struct file_handle*>(storage);
  handle->handle_bytes = MAX_HANDLE_SZ;
  int mountId = 0;
  if (::name_to_handle_at(fd, "", handle, &mountId, AT_EMPTY_PATH) == 0 && handle->handle_type == kFileIdKernfs &&
      handle->handle_bytes == sizeof(uint64_t)) {
    uint64_t id = 0;
    std::memcpy(&id, handle->f_handle, sizeof(id));
    return id;
  }
  struct stat status {};
  if (::fstat(fd, &status) != 0) return errnoError("cannot stat " + what);
  return static_cast<uint64_t>(status.st_ino);
}

}  // namespace

Result<std::string> findCgroup2Mount(const std::string& mountinfoPath) {
  auto content = readFile(mountinfoPath);
  if (!content) return content.error();
  std::optional<std::string> subtreeMount;
  std::string_view rest = *content;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);

    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
    auto fields = splitFields(line);
    size_t separator = 6;
    while (separator < fields.size() && fields[separator] != "-") ++separator;
    if (separator + 1 >= fields.size() || fields[separator + 1] != "cgroup2") continue;
    std::string mountPoint = unescapeMountPath(fields[4]);
    if (fields[3] == "/") return mountPoint;
    if (!subtreeMount) subtreeMount = std::move(mountPoint);
  }
  if (subtreeMount) return *subtreeMount;
  return makeError("no cgroup v2 hierarchy is mounted");
}

Result<uint64_t> cgroupIdOfPath(const std::string& absolutePath) {
  Fd fd(::open(absolutePath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errnoError("cannot open cgroup " + absolutePath);
  return cgroupIdOfFd(fd.get(), absolutePath);
}

bool isCgroupPathWithin(std::string_view path, std::string_view ancestor) {
  while (ancestor.size() > 1 && ancestor.back() == '/') ancestor.remove_suffix(1);
  if (ancestor.empty() || ancestor == "/") return !path.empty() && path.front() == '/';
  if (path.size() < ancestor.size() || path.substr(0, ancestor.size()) != ancestor) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

Result<std::string> cgroupPathOfProcess(int pid, const std::string& procRoot) {
  const std::string file = procRoot + "/" + std::to_string(pid) + "/cgroup";
  auto content = readFile(file);
  if (!content) return content.error();
  std::string_view rest = *content;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (line.starts_with("0::")) return std::string(line.substr(3));
  }
  return makeError("no cgroup v2 entry in " + file);
}

CgroupPathCache::CgroupPathCache(std::string cgroup2Root, std::chrono::milliseconds minRewalkInterval,
                                 size_t maxVanished)
    : root_(std::move(cgroup2Root)), minRewalkInterval_(minRewalkInterval), maxVanished_(maxVanished) {
  std::lock_guard lock(mutex_);
  walkLocked();
}

std::optional<std::string> CgroupPathCache::pathOf(uint64_t cgroupId) {
  std::lock_guard lock(mutex_);
  auto lookup = [&]() -> std::optional<std::string> {
    if (auto it = live_.find(cgroupId); it != live_.end()) return it->second;
    if (auto it = vanished_.find(cgroupId); it != vanished_.end()) return it->second;
    return std::nullopt;
  };
  if (auto path = lookup()) return path;
  if (std::chrono::steady_clock::now() - lastWalk_ < minRewalkInterval_) return std::nullopt;
  walkLocked();
  return lookup();
}

void CgroupPathCache::walkLocked() {
  lastWalk_ = std::chrono::steady_clock::now();
  Fd rootFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd) return;  // leave what we knew; the next miss tries again

  std::unordered_map<uint64_t, std::string> found;
  // Directories are opened relative to the root one at a time, so a wide tree never holds more than
  // one directory descriptor open.
  std::vector<std::string> pending{""};
  while (!pending.empty()) {
    std::string relative = std::move(pending.back());
    pending.pop_back();
    Fd dirFd(relative.empty() ? ::dup(rootFd.get())
                              : ::openat(rootFd.get(), relative.c_str() + 1,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dirFd) continue;  // removed while we walked
    auto id = cgroupIdOfFd(dirFd.get(), root_ + relative);
    if (!id) continue;
    found.emplace(*id, relative.empty() ? "/" : relative);

    DirPtr dir(::fdopendir(dirFd.get()));
    if (!dir) continue;
    dirFd.release();  // the DIR owns it now
    while (struct dirent* entry = ::readdir(dir.get())) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      bool isDir = entry->d_type == DT_DIR;
      if (entry->d_type == DT_UNKNOWN) {
        struct stat status {};
        isDir = ::fstatat(::dirfd(dir.get()), entry->d_name, &status, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(status.st_mode);
      }
      if (isDir) pending.push_back(relative + "/" + entry->d_name);
    }
  }

  for (auto& [id, path] : live_) {
    if (found.contains(id) || vanished_.contains(id)) continue;
    vanished_.emplace(id, std::move(path));
    vanishedOrder_.push_back(id);
  }
  while (vanishedOrder_.size() > maxVanished_) {
    vanished_.erase(vanishedOrder_.front());
    vanishedOrder_.pop_front();
  }
  live_ = std::move(found);
}

}  // namespace shadowai

namespace shadowai {

unsigned cgroupLevelOf(std::string_view relativePath) {
  unsigned level = 0;
  bool inComponent = false;
  for (char c : relativePath) {
    if (c == '/') {
      inComponent = false;
    } else if (!inComponent) {
      inComponent = true;
      ++level;
    }
  }
  return level;
}

}  // namespace shadowai
