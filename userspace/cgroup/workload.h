// Names the workload behind a cgroup path the way its operator knows it: a systemd service, a login
// session, a container (and its Kubernetes pod), or else the bare cgroup. Pure string work on the
// conventions of systemd, Docker, Podman, containerd, CRI-O and the kubelet; no filesystem access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shadowai {

enum class WorkloadKind { kService, kScope, kUserSession, kContainer, kSlice, kCgroup };

// "service", "scope", "user-session", "container", "slice", "cgroup"
const char* toString(WorkloadKind kind);

struct Workload {
  WorkloadKind kind = WorkloadKind::kCgroup;
  // What a user recognises: "billing-etl.service", "session-3.scope", the full container id, or the
  // cgroup path. Inside a user manager this is the user's unit ("app-foo.scope").
  std::string name;
  // The systemd system unit when there is one: "nginx.service", "docker-<id>.scope",
  // "user@1000.service" (for anything run by that user's manager, unless it is a container).
  std::string unit;
  // "docker", "containerd", "cri-o", "podman"; "kubernetes" for a pod's container whose runtime the
  // path does not tell (the kubelet's cgroupfs layout); "" when not a container or unknown.
  std::string containerRuntime;
  std::string containerId;
  std::string podUid;  // Kubernetes pod uid with dashes, for kubepods paths
  std::optional<uint32_t> uid;  // the login user, from user-UID.slice or user@UID.service
  std::string cgroupPath;

  // "billing-etl.service", "session-3.scope (uid 1000)", "container docker:0123456789ab",
  // "container containerd:0123456789ab in pod 5f3c...", "cgroup /foo/bar".
  std::string displayName() const;
};

// Never fails: a path that follows no known convention (or is empty or "/") is a kCgroup.
Workload workloadFromCgroupPath(std::string_view cgroupPath);

}  // namespace shadowai
