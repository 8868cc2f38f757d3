// Who is on the other end of a control connection, from the kernel (SO_PEERCRED, SO_PEERGROUPS), and
// whether they may change modes: root, or a member of the control group.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace shadowai {

struct PeerCredentials {
  pid_t pid = 0;  // 0 when the peer is in a PID namespace we cannot see
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups as of connect()
};

// The credentials the kernel recorded for the peer of a connected Unix socket at connect() time, so a
// client cannot change identity after connecting. Supplementary groups come from SO_PEERGROUPS; on a
// kernel without it (before 4.13), from /proc/PID/status.
Result<PeerCredentials> peerCredentialsOf(int socketFd);

// The "Groups:" line of a /proc/PID/status text.
std::vector<gid_t> parseStatusGroups(const std::string& statusText);

// The control group, looked up by name once at start-up.
struct ControlGroup {
  std::string name;
  std::optional<gid_t> gid;  // nullopt: no group configured, or none of that name on this host
};
ControlGroup lookUpControlGroup(const std::optional<std::string>& name);

// Root, or GROUP as primary or supplementary group. Empty message when allowed; otherwise the
// one-line reason, ending with what to do about it.
std::string refusalReason(const PeerCredentials& peer, const ControlGroup& group);

}  // namespace shadowai
