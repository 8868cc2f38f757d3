// What a set_mode request names: a cgroup path, or a systemd unit, turned into the one spelling the
// daemon keys modes by (relative to the cgroup v2 root, canonical) after checking the cgroup exists.
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai {

// ARGUMENT is relative to the cgroup v2 root ("/system.slice/x.service", "system.slice") or an absolute
// path under its mount point ("/sys/fs/cgroup/system.slice"). Errors: "unknown cgroup ARG: ...",
// "bad cgroup ARG: it leaves the cgroup v2 hierarchy at ROOT".
Result<std::string> resolveCgroupTarget(const std::string& argument, const std::string& cgroup2Root);

// A unit, through resolveUnitCgroup, then checked like a cgroup path.
Result<std::string> resolveUnitTarget(const std::string& unit, const std::string& cgroup2Root);

}  // namespace shadowai
