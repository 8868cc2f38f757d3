#include "daemon/mode_store.h"

#include <filesystem>
#include <system_error>

#include "cgroup/cgroup_path.h"
#include "common/file_util.h"
#include "common/json_document.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

constexpr int kModesSchemaVersion = 1;

// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string parentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

Status checkPath(const std::string& cgroupPath) {
  if (isCanonicalCgroupPath(cgroupPath)) return {};
  return makeError("bad cgroup path \"" + cgroupPath + "\": expected a path from the cgroup v2 root like /a/b");
}

}  // namespace

ModeStore::ModeStore(std::string stateDir)
    : stateDir_(std::move(stateDir)), filePath_(stateDir_ + "/" + kFileName) {}

ModeStore::ModeStore(ModeStore&& other) noexcept
    : stateDir_(std::move(other.stateDir_)), filePath_(std::move(other.filePath_)) {
  std::lock_guard lock(other.mutex_);
  modes_ = std::move(other.modes_);
}

Result<ModeStore> ModeStore::load(const std::string& stateDir) {
  ModeStore store(stateDir);
  auto text = readFile(store.filePath_);
  if (!text) {
    if (text.error().errnum == ENOENT) return store;
    return text.error();
  }
  auto document = parseJsonDocument(*text, store.filePath_);
  if (!document) return document.error();
  auto fail = [&store](const std::string& pointer, const std::string& message) {
    return makeError(store.filePath_ + ": " + pointer + ": " + message);
  };
  if (!document->is_object()) return makeError(store.filePath_ + ": expected a JSON object");
  for (const auto& [key, value] : document->items()) {
    if (key != "schema" && key != "modes") return fail(childPointer("", key), "unknown field");
  }
  const Json& schema = (*document)["schema"];
  if (!schema.is_number_integer() || schema.get<int64_t>() != kModesSchemaVersion) {
    return fail("/schema", "unsupported schema (this build reads schema " + std::to_string(kModesSchemaVersion) + ")");
  }
  const Json& modes = (*document)["modes"];
  if (!modes.is_object()) return fail("/modes", "expected an object");
  for (const auto& [path, modeValue] : modes.items()) {
    // Pointer escaping (RFC 6901): cgroup paths are full of '/'.
    std::string pointer = "/modes/";
    for (char c : path) pointer += c == '/' ? std::string("~1") : c == '~' ? std::string("~0") : std::string(1, c);
    if (!isCanonicalCgroupPath(path)) return fail(pointer, "not a cgroup path");
    std::optional<Mode> mode = modeValue.is_string() ? parseMode(modeValue.get<std::string>()) : std::nullopt;
    if (!mode) return fail(pointer, "expected \"off\", \"detect\" or \"enforce\"");
    store.modes_.emplace(path, *mode);
  }
  return store;
}

Status ModeStore::saveLocked(const std::map<std::string, Mode>& modes) const {
  std::error_code error;
  std::filesystem::create_directories(stateDir_, error);
  if (error) return makeError("cannot create state directory " + stateDir_, error.value());
  Json entries = Json::object();
  for (const auto& [path, mode] : modes) entries[path] = toString(mode);
  Json document = {{"schema", kModesSchemaVersion}, {"modes", entries}};
  return writeFileAtomic(filePath_, document.dump(2) + "\n");
}

Status ModeStore::set(const std::string& cgroupPath, Mode mode) {
  if (auto valid = checkPath(cgroupPath); !valid) return valid;
  std::lock_guard lock(mutex_);
  auto next = modes_;
  next[cgroupPath] = mode;
  if (auto saved = saveLocked(next); !saved) return saved;
  modes_ = std::move(next);
  return {};
}

Status ModeStore::remove(const std::string& cgroupPath) {
  if (auto valid = checkPath(cgroupPath); !valid) return valid;
  std::lock_guard lock(mutex_);
  if (!modes_.contains(cgroupPath)) return {};
  auto next = modes_;
  next.erase(cgroupPath);
  if (auto saved = saveLocked(next); !saved) return saved;
  modes_ = std::move(next);
  return {};
}

std::map<std::string, Mode> ModeStore::all() const {
  std::lock_guard lock(mutex_);
  return modes_;
}

std::optional<Mode> ModeStore::ownModeOf(const std::string& cgroupPath) const {
  std::lock_guard lock(mutex_);
  auto it = modes_.find(cgroupPath);
  if (it == modes_.end()) return std::nullopt;
  return it->second;
}

Mode ModeStore::modeOf(const std::string& cgroupPath) const {
  std::lock_guard lock(mutex_);
  return modeOfLocked(cgroupPath);
}

Mode ModeStore::modeOfLocked(const std::string& cgroupPath) const {
  if (!isCanonicalCgroupPath(cgroupPath)) return kRootDefault;
  std::string path = cgroupPath;
  for (;;) {
    if (auto it = modes_.find(path); it != modes_.end()) return it->second;
    if (path == "/") return kRootDefault;
    path = parentOf(path);
  }
}

nlohmann::json ModeStore::toStatusJson() const {
  std::lock_guard lock(mutex_);
  Json list = Json::array();
  if (!modes_.contains("/")) list.push_back({{"cgroup", "/"}, {"mode", toString(kRootDefault)}, {"own", false}});
  for (const auto& [path, mode] : modes_) list.push_back({{"cgroup", path}, {"mode", toString(mode)}, {"own", true}});
  return list;
}

}  // namespace shadowai
