// How shadowai spells a cgroup: a path relative to the cgroup v2 root, as in /proc/PID/cgroup
// ("/system.slice/billing-etl.service"). Modes, the configuration and the credentials file key by it.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace shadowai {

// "/" or "/a/b": starts with '/', no empty, "." or ".." component, no trailing '/', no control bytes.
// The one spelling of a cgroup, so "/a/" and "/a" cannot become two entries.
bool isCanonicalCgroupPath(std::string_view path);

// A cgroup an operator named, checked to be a cgroup v2 directory.
struct ResolvedCgroup {
  std::string absolute;  // its directory, under the mount point: "/sys/fs/cgroup/system.slice"
  std::string relative;  // canonical, from the cgroup v2 root: "/system.slice" ("/" for the root)
};

// The one reading of a cgroup argument (shadowai enforce --cgroup, shadowai-scan --cgroup, the
// daemon's "cgroup" setting). ARGUMENT is relative to the cgroup v2 root ("/system.slice/x.service",
// "system.slice", "" for the root) or an absolute path under its mount point CGROUP2ROOT
// ("/sys/fs/cgroup/system.slice"); a trailing '/' on either is ignored and a CGROUP2ROOT of "/"
// works. Errors quote ARGUMENT through printableText: "bad cgroup ARG: it contains a NUL byte",
// "bad cgroup ARG: it leaves the cgroup v2 hierarchy at ROOT", "unknown cgroup ARG: no cgroup REL
// under ROOT". Callers that name the option prefix them ("bad --cgroup: ...").
Result<ResolvedCgroup> resolveCgroup(const std::string& cgroup2Root, const std::string& argument);

}  // namespace shadowai
