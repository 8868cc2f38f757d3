// ModeStore: the operator's mode choices, cgroup path -> Mode, kept in <state_dir>/modes.json so a
// daemon restart (or crash) keeps them. Paths are relative to the cgroup v2 root, as in
// /proc/PID/cgroup: "/system.slice/billing-etl.service". A cgroup without its own entry inherits its
// nearest ancestor's mode; the root's default is detect.
//
// modes.json: {"schema": 1, "modes": {"/system.slice/x.service": "enforce", ...}}
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cgroup/mode.h"
#include "common/result.h"

namespace shadowai {

class ModeStore {
 public:
  static constexpr Mode kRootDefault = Mode::kDetect;
  static constexpr const char* kFileName = "modes.json";

  // Reads <stateDir>/modes.json. A missing file is an empty store (first start); a file that is not
  // valid is an error naming it, never silently replaced: the operator's choices are in there.
  static Result<ModeStore> load(const std::string& stateDir);

  ModeStore(ModeStore&& other) noexcept;
  ModeStore& operator=(ModeStore&&) = delete;
  ModeStore(const ModeStore&) = delete;
  ModeStore& operator=(const ModeStore&) = delete;

  // Give CGROUPPATH a mode of its own, or drop it (remove: inherit again; removing a path without an
  // entry is fine). Both write the file atomically (creating the state dir if needed) before they
  // return; if writing fails the store is left as it was.
  Status set(const std::string& cgroupPath, Mode mode);
  Status remove(const std::string& cgroupPath);

  // Own entries only, sorted by path (an ancestor sorts before its descendants).
  std::map<std::string, Mode> all() const;
  // The entry of CGROUPPATH itself, if any.
  std::optional<Mode> ownModeOf(const std::string& cgroupPath) const;
  // The effective mode: its own entry, else its nearest ancestor's, else kRootDefault.
  Mode modeOf(const std::string& cgroupPath) const;

  // [{"cgroup": "/", "mode": "detect", "own": false}, {"cgroup": "/a", "mode": "enforce", "own": true}]:
  // the root's effective mode first, then every own entry; the shape `shadowai status` shows.
  nlohmann::json toStatusJson() const;

  const std::string& filePath() const { return filePath_; }

 private:
  explicit ModeStore(std::string stateDir);
  Mode modeOfLocked(const std::string& cgroupPath) const;
  Status saveLocked(const std::map<std::string, Mode>& modes) const;

  std::string stateDir_;
  std::string filePath_;
  mutable std::mutex mutex_;
  std::map<std::string, Mode> modes_;
};

}  // namespace shadowai
