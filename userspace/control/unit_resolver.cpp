#include "control/unit_resolver.h"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "cgroup/cgroup_path.h"
#include "common/printable_text.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxUnitNameBytes = 255;  // systemd's UNIT_NAME_MAX without the NUL

struct UnitSuffix {
  std::string_view suffix;
  const char* dbusInterface;  // where the unit's ControlGroup property lives
};
constexpr UnitSuffix kSuffixes[] = {
    {".service", "org.freedesktop.systemd1.Service"},
    {".scope", "org.freedesktop.systemd1.Scope"},
    {".slice", "org.freedesktop.systemd1.Slice"},
};

const UnitSuffix* suffixOf(std::string_view unit) {
  for (const UnitSuffix& entry : kSuffixes) {
    if (unit.size() > entry.suffix.size() && unit.ends_with(entry.suffix)) return &entry;
  }
  return nullptr;
}

bool isUnitNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
         c == '_' || c == '.' || c == '\\';
}

struct SdBusDeleter {
  void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
struct SdBusMessageDeleter {
  void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
struct FreeDeleter {
  void operator()(char* text) const { std::free(text); }
};
// sd_bus_error owns the strings it was filled with.
class SdBusError {
 public:
  SdBusError() = default;
  SdBusError(const SdBusError&) = delete;
  SdBusError& operator=(const SdBusError&) = delete;
  ~SdBusError() { sd_bus_error_free(&error_); }
  sd_bus_error* get() { return &error_; }
  bool hasName(const char* name) const { return sd_bus_error_has_name(&error_, name); }
  std::string message(int code) const {
    if (error_.message != nullptr) return error_.message;
    return std::strerror(-code);
  }

 private:
  sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

}  // namespace

Status validateUnitName(std::string_view unit) {
  const std::string shown = printableText(unit);
  if (unit.empty()) return makeError("bad unit name: it is empty");
  if (unit.size() > kMaxUnitNameBytes) {
    return makeError("bad unit name " + shown.substr(0, 64) + "...: longer than 255 bytes");
  }
  const UnitSuffix* suffix = suffixOf(unit);
  if (suffix == nullptr) {
    return makeError("bad unit name " + shown + ": expected NAME.service, NAME.scope or NAME.slice");
  }
  std::string_view prefix = unit.substr(0, unit.size() - suffix->suffix.size());
  size_t at = prefix.find('@');
  if (at != std::string_view::npos) {
    if (at == 0 || prefix.find('@', at + 1) != std::string_view::npos) {
      return makeError("bad unit name " + shown + ": '@' must separate a template name from its instance");
    }
    if (at + 1 == prefix.size()) {
      return makeError("bad unit name " + shown + ": a template has no cgroup; name an instance (NAME@INSTANCE" +
                       std::string(suffix->suffix) + ")");
    }
  }
  for (char c : prefix) {
    if (c != '@' && !isUnitNameChar(c)) {
      return makeError("bad unit name " + shown + ": character '" + printableText(std::string_view(&c, 1)) +
                       "' is not allowed in a systemd unit name");
    }
  }
  return {};
}

Result<std::string> findUnitCgroupInTree(const std::string& unit, const std::string& cgroup2Root,
                                         size_t maxDirectories) {
  if (auto valid = validateUnitName(unit); !valid) return valid.error();
  const std::string root = fs::path(cgroup2Root).lexically_normal().string();
  const std::string rootPrefix = root.size() > 1 && root.back() == '/' ? root.substr(0, root.size() - 1) : root;

  std::vector<std::string> matches;
  std::deque<fs::path> pending{fs::path(rootPrefix)};
  size_t visited = 0;
  while (!pending.empty()) {
    fs::path directory = std::move(pending.front());
    pending.pop_front();
    if (++visited > maxDirectories) {
      return makeError("cannot search for unit " + unit + ": more than " + std::to_string(maxDirectories) +
                       " cgroups under " + rootPrefix);
    }
    std::error_code error;
    // A cgroup may vanish while we walk (a container stopping): skip what cannot be read.
    fs::directory_iterator it(directory, fs::directory_options::skip_permission_denied, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error)) {
      std::error_code typeError;
      if (!it->is_directory(typeError) || it->is_symlink(typeError)) continue;
      if (it->path().filename() == unit) {
        matches.push_back(it->path().string().substr(rootPrefix == "/" ? 0 : rootPrefix.size()));
      }
      pending.push_back(it->path());
    }
  }
  if (matches.empty()) return makeError("unknown unit " + unit + ": no cgroup named " + unit + " under " + rootPrefix);
  if (matches.size() > 1) {
    std::sort(matches.begin(), matches.end());
    std::string list;
    for (const std::string& match : matches) list += (list.empty() ? "" : ", ") + match;
    return makeError("ambiguous unit " + unit + ": " + list);
  }
  return matches.front();
}

namespace {

// BUSUNREACHABLE tells the caller that the question could not even be asked.
Result<std::string> querySystemd(const std::string& unit, bool& busUnreachable) {
  busUnreachable = false;
  if (auto valid = validateUnitName(unit); !valid) return valid.error();
  const UnitSuffix* suffix = suffixOf(unit);

  sd_bus* rawBus = nullptr;
  int result = sd_bus_open_system(&rawBus);
  if (result < 0) {
    busUnreachable = true;
    return makeError("cannot reach systemd on the system bus", -result);
  }
  std::unique_ptr<sd_bus, SdBusDeleter> bus(rawBus);

  SdBusError error;
  sd_bus_message* rawReply = nullptr;
  // GetUnit, not LoadUnit: a unit that is not loaded has no cgroup, and loading it is not our business.
  result = sd_bus_call_method(bus.get(), "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "GetUnit", error.get(), &rawReply, "s",
                              unit.c_str());
  if (result < 0) {
    if (error.hasName("org.freedesktop.systemd1.NoSuchUnit")) {
      return makeError("unknown unit " + unit + ": systemd has no such unit loaded");
    }
    return makeError("cannot ask systemd about unit " + unit + ": " + error.message(result));
  }
  std::unique_ptr<sd_bus_message, SdBusMessageDeleter> reply(rawReply);
  const char* objectPath = nullptr;
  result = sd_bus_message_read(reply.get(), "o", &objectPath);
  if (result < 0) return makeError("cannot read systemd's reply about unit " + unit, -result);

  char* rawCgroup = nullptr;
  SdBusError propertyError;
  result = sd_bus_get_property_string(bus.get(), "org.freedesktop.systemd1", objectPath, suffix->dbusInterface,
                                      "ControlGroup", propertyError.get(), &rawCgroup);
  if (result < 0) {
    return makeError("cannot ask systemd for the cgroup of unit " + unit + ": " + propertyError.message(result));
  }
  std::unique_ptr<char, FreeDeleter> cgroup(rawCgroup);
  if (cgroup == nullptr || *cgroup == '\0') return makeError("unit " + unit + " has no cgroup: it is not running");
  return std::string(cgroup.get());
}

}  // namespace

Result<std::string> askSystemdForUnitCgroup(const std::string& unit) {
  bool busUnreachable = false;
  return querySystemd(unit, busUnreachable);
}

Result<std::string> resolveUnitCgroup(const std::string& unit, const std::string& cgroup2Root) {
  if (auto valid = validateUnitName(unit); !valid) return valid.error();
  std::error_code error;
  if (fs::is_directory("/run/systemd/system", error)) {
    bool busUnreachable = false;
    auto fromSystemd = querySystemd(unit, busUnreachable);
    // Only a bus that cannot be reached falls back to the search; systemd's "no such unit" stands.
    if (!busUnreachable) return fromSystemd;
  }
  return findUnitCgroupInTree(unit, cgroup2Root);
}

Result<std::string> resolveUnitTarget(const std::string& unit, const std::string& cgroup2Root) {
  auto path = resolveUnitCgroup(unit, cgroup2Root);
  if (!path) return path.error();
  auto checked = resolveCgroup(cgroup2Root, *path);
  if (!checked) return makeError("unknown unit " + unit + ": its cgroup " + *path + " does not exist");
  return checked->relative;
}

}  // namespace shadowai
