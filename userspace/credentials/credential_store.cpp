#include "credentials/credential_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"

namespace shadowai {
namespace {

std::string octalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// "readable", "readable or writable", ...: what group or others may do with the file.
std::string looseAccess(mode_t mode) {
  std::vector<std::string> verbs;
  if (mode & (S_IRGRP | S_IROTH)) verbs.push_back("readable");
  if (mode & (S_IWGRP | S_IWOTH)) verbs.push_back("writable");
  if (mode & (S_IXGRP | S_IXOTH)) verbs.push_back("executable");
  std::string text;
  for (size_t i = 0; i < verbs.size(); ++i) text += (i == 0 ? "" : " or ") + verbs[i];
  return text;
}

// Checks the file behind FD (what we will actually read, so a swap after the check changes nothing).
Status checkFileSafety(int fd, const std::string& path, const std::vector<uid_t>& trustedOwners, size_t& size) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return errnoError(path + ": cannot stat");
  if (!S_ISREG(info.st_mode)) return makeError(path + ": not a regular file");
  if (std::find(trustedOwners.begin(), trustedOwners.end(), info.st_uid) == trustedOwners.end()) {
    return makeError(path + ": owned by uid " + std::to_string(info.st_uid) +
                     ": must be owned by root (chown root:root)");
  }
  if (info.st_mode & (S_IRWXG | S_IRWXO)) {
    return makeError(path + ": mode " + octalMode(info.st_mode) + ": must not be " + looseAccess(info.st_mode) +
                     " by group or others (chmod 600)");
  }
  if (static_cast<uint64_t>(info.st_size) > CredentialStore::kMaxFileBytes) {
    return makeError(path + ": larger than 1 MiB");
  }
  size = static_cast<size_t>(info.st_size);
  return {};
}

// Reads all of FD into a buffer sized once, so no grown-out-of copy of a key is left behind.
Result<std::string> readSecretFile(int fd, const std::string& path, size_t expectedSize) {
  std::string text(expectedSize + 1, '\0');  // one spare byte to see a file that grew
  size_t used = 0;
  while (used < text.size()) {
    ssize_t got = ::read(fd, text.data() + used, text.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      Error error = errnoError(path + ": cannot read");
      wipeString(text);
      return error;
    }
    if (got == 0) break;
    used += static_cast<size_t>(got);
  }
  if (used > expectedSize) {
    wipeString(text);
    return makeError(path + ": changed while being read");
  }
  text.resize(used);
  return text;
}

// How deep the cgroup PATH is: "/" is 0, "/a" is 1, "/a/b" is 2.
size_t cgroupDepth(std::string_view path) {
  if (path == "/") return 0;
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

// The depth of the last component of CGROUPPATH named UNIT, or nullopt.
std::optional<size_t> unitDepthIn(std::string_view cgroupPath, std::string_view unit) {
  std::optional<size_t> found;
  size_t depth = 0;
  size_t start = 0;
  while (start < cgroupPath.size()) {
    if (cgroupPath[start] == '/') {
      ++start;
      continue;
    }
    size_t end = cgroupPath.find('/', start);
    if (end == std::string_view::npos) end = cgroupPath.size();
    ++depth;
    if (cgroupPath.substr(start, end - start) == unit) found = depth;
    start = end;
  }
  return found;
}

}  // namespace

Result<CredentialStore> CredentialStore::load(const std::string& path) {
  return loadTrusting(path, {0, ::geteuid()});
}

Result<CredentialStore> CredentialStore::loadWithTrustedOwnersForTest(const std::string& path,
                                                                      std::vector<uid_t> trustedOwners) {
  return loadTrusting(path, trustedOwners);
}

Result<CredentialStore> CredentialStore::loadTrusting(const std::string& path,
                                                      const std::vector<uid_t>& trustedOwners) {
  // O_NONBLOCK so a FIFO planted at the path cannot hang start-up before the regular-file check.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) {
      struct stat link {};
      if (::lstat(path.c_str(), &link) == 0) return makeError(path + ": a symbolic link to nothing");
      CredentialStore empty;
      empty.source_ = path;
      return empty;
    }
    return errnoError(path + ": cannot open");
  }
  size_t size = 0;
  if (auto safe = checkFileSafety(fd.get(), path, trustedOwners, size); !safe) return safe.error();
  auto text = readSecretFile(fd.get(), path, size);
  if (!text) return text.error();
  auto file = parseCredentialFile(*text, path);
  wipeString(*text);
  if (!file) return file.error();
  CredentialStore store(std::move(*file), path);
  return store;
}

CredentialStore::CredentialStore(CredentialFile file, std::string source)
    : file_(std::move(file)), source_(std::move(source)), fromFile_(true) {}

const ManagedKey* CredentialStore::lookup(std::string_view providerId, std::string_view cgroupPath,
                                          std::string_view unitName) const {
  // Rank: deeper cgroup first; at equal depth a cgroup selector (rank 1) before a unit selector (rank 0).
  const ManagedKey* best = nullptr;
  std::pair<size_t, int> bestRank{0, -1};
  const ManagedKey* providerWide = nullptr;
  for (const ManagedKey& key : file_.keys) {
    if (key.providerId != providerId) continue;
    std::optional<std::pair<size_t, int>> rank;
    switch (key.selector.kind) {
      case KeySelector::Kind::kProviderWide:
        providerWide = &key;
        break;
      case KeySelector::Kind::kCgroup:
        if (!cgroupPath.empty() && isCgroupPathWithin(cgroupPath, key.selector.value)) {
          rank = std::pair{cgroupDepth(key.selector.value), 1};
        }
        break;
      case KeySelector::Kind::kUnit:
        if (!unitName.empty() && key.selector.value == unitName) {
          // A unit we cannot place in the path is as near the workload as anything can be.
          rank = std::pair{unitDepthIn(cgroupPath, unitName).value_or(SIZE_MAX), 0};
        }
        break;
    }
    if (rank && (best == nullptr || *rank > bestRank)) {
      best = &key;
      bestRank = *rank;
    }
  }
  return best != nullptr ? best : providerWide;
}

CredentialMode CredentialStore::modeFor(std::string_view providerId) const {
  if (auto found = file_.providerModes.find(providerId); found != file_.providerModes.end()) return found->second;
  return file_.mode;
}

std::vector<std::string> CredentialStore::providerIds() const {
  std::set<std::string> ids;
  for (const ManagedKey& key : file_.keys) ids.insert(key.providerId);
  for (const auto& [id, mode] : file_.providerModes) ids.insert(id);
  return {ids.begin(), ids.end()};
}

std::string CredentialStore::describe() const {
  if (!fromFile_) {
    std::string text = source_.empty() ? "no credentials file" : "no credentials file (" + source_ + ")";
    return text + ": no managed keys, mode " + toString(file_.mode);
  }
  std::set<std::string> providers;
  for (const ManagedKey& key : file_.keys) providers.insert(key.providerId);
  std::string text = source_ + ": " + std::to_string(file_.keys.size()) + (file_.keys.size() == 1 ? " key" : " keys");
  if (!providers.empty()) {
    text += " (";
    bool first = true;
    for (const std::string& provider : providers) {
      text += (first ? "" : ", ") + provider;
      first = false;
    }
    text += ")";
  }
  return text + ", mode " + toString(file_.mode);
}

}  // namespace shadowai
