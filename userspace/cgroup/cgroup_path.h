// How shadowai spells a cgroup: a path relative to the cgroup v2 root, as in /proc/PID/cgroup
// ("/system.slice/billing-etl.service"). Modes, the configuration and the credentials file key by it.
#pragma once

#include <string_view>

namespace shadowai {

// "/" or "/a/b": starts with '/', no empty, "." or ".." component, no trailing '/', no control bytes.
// The one spelling of a cgroup, so "/a/" and "/a" cannot become two entries.
bool isCanonicalCgroupPath(std::string_view path);

}  // namespace shadowai
