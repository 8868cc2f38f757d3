// Turning a systemd unit name into its cgroup, for `shadowai enforce --unit NAME`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace shadowai {

// A systemd unit name with a suffix that has a cgroup of its own: NAME.service, NAME.scope or
// NAME.slice, at most 255 bytes, NAME made of systemd's unit name characters (letters, digits,
// ":-_.\" and one '@' for template instances). Errors say what is wrong: "bad unit name X: ...".
Status validateUnitName(std::string_view unit);

// The unit's cgroup relative to the cgroup v2 root ("/system.slice/x.service"). Where systemd is PID 1
// (/run/systemd/system exists) systemd is asked over D-Bus; elsewhere the cgroup tree under
// CGROUP2ROOT is searched for a directory named exactly UNIT (findUnitCgroupInTree).
Result<std::string> resolveUnitCgroup(const std::string& unit, const std::string& cgroup2Root);

// The tree search: a breadth-first walk of at most MAXDIRECTORIES directories (symbolic links are not
// followed). Errors: "unknown unit X: no cgroup named X under ROOT", "ambiguous unit X: /a/X, /b/X",
// and one when the tree is larger than the bound.
inline constexpr size_t kMaxUnitSearchDirectories = 200000;
Result<std::string> findUnitCgroupInTree(const std::string& unit, const std::string& cgroup2Root,
                                         size_t maxDirectories = kMaxUnitSearchDirectories);

// Asks systemd (org.freedesktop.systemd1 on the system bus) for the unit's ControlGroup property.
Result<std::string> askSystemdForUnitCgroup(const std::string& unit);

// What `shadowai enforce --unit NAME` names: the unit's cgroup (resolveUnitCgroup), checked to exist
// like a --cgroup argument (resolveCgroup), relative to the cgroup v2 root and canonical, the
// spelling modes are keyed by. Error when that cgroup is missing: "unknown unit X: its cgroup P does
// not exist".
Result<std::string> resolveUnitTarget(const std::string& unit, const std::string& cgroup2Root);

}  // namespace shadowai
