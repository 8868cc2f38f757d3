#include "control/peer_credentials.h"

#include <grp.h>
#include <sys/socket.h>

#include <algorithm>
#include <sstream>

#include "common/file_util.h"

namespace shadowai {

Result<PeerCredentials> peerCredentialsOf(int socketFd) {
  struct ucred credentials {};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(socketFd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return errnoError("cannot read the peer's credentials");
  }
  PeerCredentials peer;
  peer.pid = credentials.pid;
  peer.uid = credentials.uid;
  peer.gid = credentials.gid;

  std::vector<gid_t> groups(64);
  for (;;) {
    socklen_t size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(socketFd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size) == 0) {
      groups.resize(size / sizeof(gid_t));
      peer.groups = std::move(groups);
      return peer;
    }
    // ERANGE: SIZE now says how much is needed (NGROUPS_MAX bounds it).
    if (errno == ERANGE && size > groups.size() * sizeof(gid_t)) {
      groups.resize(size / sizeof(gid_t));
      continue;
    }
    if (errno != ENOPROTOOPT) return errnoError("cannot read the peer's groups");
    break;
  }
  // An old kernel: the process's groups now, which is what it connected with unless it changed them
  // since. A pid we cannot see gets no supplementary groups: refusing is the safe side.
  if (peer.pid > 0) {
    if (auto status = readFile("/proc/" + std::to_string(peer.pid) + "/status")) {
      peer.groups = parseStatusGroups(*status);
    }
  }
  return peer;
}

std::vector<gid_t> parseStatusGroups(const std::string& statusText) {
  std::vector<gid_t> groups;
  std::istringstream lines(statusText);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("Groups:")) continue;
    std::istringstream fields(line.substr(7));
    unsigned long gid = 0;
    while (fields >> gid) groups.push_back(static_cast<gid_t>(gid));
    break;
  }
  return groups;
}

ControlGroup lookUpControlGroup(const std::optional<std::string>& name) {
  ControlGroup group;
  if (!name) return group;
  group.name = *name;
  std::vector<char> buffer(16384);
  struct group entry {};
  struct group* found = nullptr;
  while (::getgrnam_r(name->c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
         buffer.size() < (1u << 24)) {
    buffer.resize(buffer.size() * 2);
  }
  if (found != nullptr) group.gid = found->gr_gid;
  return group;
}

std::string refusalReason(const PeerCredentials& peer, const ControlGroup& group) {
  if (peer.uid == 0) return {};
  if (group.gid) {
    if (peer.gid == *group.gid) return {};
    if (std::find(peer.groups.begin(), peer.groups.end(), *group.gid) != peer.groups.end()) return {};
  }
  std::string who = "uid " + std::to_string(peer.uid);
  if (peer.pid > 0) who += " (pid " + std::to_string(peer.pid) + ")";
  if (!group.gid) return "permission denied: " + who + " is not root (run as root)";
  return "permission denied: " + who + " is neither root nor in group " + group.name + " (run as root or as a member of group " + group.name + ")";
}

}  // namespace shadowai
