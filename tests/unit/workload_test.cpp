#include "cgroup/workload.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace shadowai {
namespace {

const std::string kId = "fab0f603efcb172ab61d7f7bdcc37dadefbcd6d01acab6c8dd7182b8358878ca";
const std::string kOuterId = "311bd21fac69065d0bb119fbe6f1f790c552161575eff9d9dce28ab367bde496";
const std::string kPodSlice = "55c6c714_b240_4dec_9a45_57b61696ab6e";
const std::string kPodUid = "55c6c714-b240-4dec-9a45-57b61696ab6e";
const std::string kShortId = kId.substr(0, 12);

struct Case {
  std::string path;
  WorkloadKind kind;
  std::string name;
  std::string unit;
  std::string runtime;
  std::string containerId;
  std::string podUid;
  std::optional<uint32_t> uid;
  std::string display;
};

void expectWorkload(const Case& expected) {
  SCOPED_TRACE("cgroup path: " + expected.path);
  Workload workload = workloadFromCgroupPath(expected.path);
  EXPECT_EQ(toString(workload.kind), std::string(toString(expected.kind)));
  EXPECT_EQ(workload.name, expected.name);
  EXPECT_EQ(workload.unit, expected.unit);
  EXPECT_EQ(workload.containerRuntime, expected.runtime);
  EXPECT_EQ(workload.containerId, expected.containerId);
  EXPECT_EQ(workload.podUid, expected.podUid);
  EXPECT_EQ(workload.uid, expected.uid);
  EXPECT_EQ(workload.cgroupPath, expected.path);
  EXPECT_EQ(workload.displayName(), expected.display);
}

TEST(Workload, SystemdUnitsAndSessions) {
  const Case cases[] = {
      {"/system.slice/nginx.service", WorkloadKind::kService, "nginx.service", "nginx.service", "", "", "", {},
       "nginx.service"},
      // A service that delegates its own sub-cgroups is still that service.
      {"/system.slice/foo.service/sub", WorkloadKind::kService, "foo.service", "foo.service", "", "", "", {},
       "foo.service"},
      {"/system.slice/system-getty.slice/getty@tty1.service", WorkloadKind::kService, "getty@tty1.service",
       "getty@tty1.service", "", "", "", {}, "getty@tty1.service"},
      {"/system.slice/containerd.service", WorkloadKind::kService, "containerd.service", "containerd.service", "", "",
       "", {}, "containerd.service"},
      {"/system.slice/docker.service", WorkloadKind::kService, "docker.service", "docker.service", "", "", "", {},
       "docker.service"},
      {"/user.slice/user-1000.slice/session-3.scope", WorkloadKind::kUserSession, "session-3.scope",
       "session-3.scope", "", "", "", 1000u, "session-3.scope (uid 1000)"},
      {"/user.slice/user-1001.slice/session-c2.scope", WorkloadKind::kUserSession, "session-c2.scope",
       "session-c2.scope", "", "", "", 1001u, "session-c2.scope (uid 1001)"},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope", WorkloadKind::kScope,
       "app-foo.scope", "user@1000.service", "", "", "", 1000u, "app-foo.scope (uid 1000)"},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service", WorkloadKind::kService,
       "dbus.service", "user@1000.service", "", "", "", 1000u, "dbus.service (uid 1000)"},
      // The user manager's own init.scope is the manager.
      {"/user.slice/user-1000.slice/user@1000.service/init.scope", WorkloadKind::kService, "user@1000.service",
       "user@1000.service", "", "", "", 1000u, "user@1000.service"},
      {"/machine.slice/machine-qemu\\x2d1\\x2dubuntu.scope", WorkloadKind::kScope,
       "machine-qemu\\x2d1\\x2dubuntu.scope", "machine-qemu\\x2d1\\x2dubuntu.scope", "", "", "", {},
       "machine-qemu\\x2d1\\x2dubuntu.scope"},
      {"/machine.slice/systemd-nspawn@web.service/payload", WorkloadKind::kService, "systemd-nspawn@web.service",
       "systemd-nspawn@web.service", "", "", "", {}, "systemd-nspawn@web.service"},
      {"/init.scope", WorkloadKind::kScope, "init.scope", "init.scope", "", "", "", {}, "init.scope"},
      {"/system.slice/run-r3b2a1.scope", WorkloadKind::kScope, "run-r3b2a1.scope", "run-r3b2a1.scope", "", "", "",
       {}, "run-r3b2a1.scope"},
      {"/system.slice", WorkloadKind::kSlice, "system.slice", "system.slice", "", "", "", {}, "system.slice"},
      {"/user.slice/user-1000.slice", WorkloadKind::kSlice, "user-1000.slice", "user-1000.slice", "", "", "", 1000u,
       "user-1000.slice"},
  };
  for (const auto& c : cases) expectWorkload(c);
}

TEST(Workload, DockerPodmanContainerdCrio) {
  const Case cases[] = {
      {"/system.slice/docker-" + kId + ".scope", WorkloadKind::kContainer, kId, "docker-" + kId + ".scope",
       "docker", kId, "", {}, "container docker:" + kShortId},
      {"/docker/" + kId, WorkloadKind::kContainer, kId, "", "docker", kId, "", {}, "container docker:" + kShortId},
      {"/machine.slice/libpod-" + kId + ".scope", WorkloadKind::kContainer, kId, "libpod-" + kId + ".scope",
       "podman", kId, "", {}, "container podman:" + kShortId},
      // Podman's split cgroups and containers running systemd put the payload one level down.
      {"/machine.slice/libpod-" + kId + ".scope/container", WorkloadKind::kContainer, kId,
       "libpod-" + kId + ".scope", "podman", kId, "", {}, "container podman:" + kShortId},
      {"/machine.slice/machine-libpod_pod_" + kOuterId + ".slice/libpod-" + kId + ".scope",
       WorkloadKind::kContainer, kId, "libpod-" + kId + ".scope", "podman", kId, "", {},
       "container podman:" + kShortId},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope",
       WorkloadKind::kContainer, kId, "libpod-" + kId + ".scope", "podman", kId, "", 1000u,
       "container podman:" + kShortId + " (uid 1000)"},
      {"/libpod_parent/libpod-" + kId, WorkloadKind::kContainer, kId, "", "podman", kId, "", {},
       "container podman:" + kShortId},
      // conmon monitors the container; it is not the container.
      {"/machine.slice/libpod-conmon-" + kId + ".scope", WorkloadKind::kScope, "libpod-conmon-" + kId + ".scope",
       "libpod-conmon-" + kId + ".scope", "", "", "", {}, "libpod-conmon-" + kId + ".scope"},
      {"/system.slice/nerdctl-" + kId + ".scope", WorkloadKind::kContainer, kId, "nerdctl-" + kId + ".scope",
       "containerd", kId, "", {}, "container containerd:" + kShortId},
      {"/system.slice/cri-containerd-" + kId + ".scope", WorkloadKind::kContainer, kId,
       "cri-containerd-" + kId + ".scope", "containerd", kId, "", {}, "container containerd:" + kShortId},
      {"/system.slice/crio-" + kId + ".scope", WorkloadKind::kContainer, kId, "crio-" + kId + ".scope", "cri-o",
       kId, "", {}, "container cri-o:" + kShortId},
      {"/system.slice/crio-conmon-" + kId + ".scope", WorkloadKind::kScope, "crio-conmon-" + kId + ".scope",
       "crio-conmon-" + kId + ".scope", "", "", "", {}, "crio-conmon-" + kId + ".scope"},
      // A user's own scope named like a runtime's is not a container.
      {"/system.slice/docker-build.scope", WorkloadKind::kScope, "docker-build.scope", "docker-build.scope", "", "",
       "", {}, "docker-build.scope"},
  };
  for (const auto& c : cases) expectWorkload(c);
}

TEST(Workload, KubernetesPods) {
  const std::string burstable =
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodSlice + ".slice";
  const std::string besteffort =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodSlice + ".slice";
  const std::string inPod = " in pod " + kPodUid;
  const Case cases[] = {
      {burstable + "/cri-containerd-" + kId + ".scope", WorkloadKind::kContainer, kId,
       "cri-containerd-" + kId + ".scope", "containerd", kId, kPodUid, {},
       "container containerd:" + kShortId + inPod},
      {besteffort + "/cri-containerd-" + kId + ".scope", WorkloadKind::kContainer, kId,
       "cri-containerd-" + kId + ".scope", "containerd", kId, kPodUid, {},
       "container containerd:" + kShortId + inPod},
      // Guaranteed pods sit directly under kubepods.slice.
      {"/kubepods.slice/kubepods-pod" + kPodSlice + ".slice/cri-containerd-" + kId + ".scope",
       WorkloadKind::kContainer, kId, "cri-containerd-" + kId + ".scope", "containerd", kId, kPodUid, {},
       "container containerd:" + kShortId + inPod},
      // Static pods' uids are config hashes without dashes.
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8daa50c3a64c9ff60bb9eab7b44b56fd.slice/"
       "cri-containerd-" + kId + ".scope",
       WorkloadKind::kContainer, kId, "cri-containerd-" + kId + ".scope", "containerd", kId,
       "8daa50c3a64c9ff60bb9eab7b44b56fd", {},
       "container containerd:" + kShortId + " in pod 8daa50c3a64c9ff60bb9eab7b44b56fd"},
      {burstable + "/crio-" + kId + ".scope", WorkloadKind::kContainer, kId, "crio-" + kId + ".scope", "cri-o", kId,
       kPodUid, {}, "container cri-o:" + kShortId + inPod},
      // CRI-O's pod sandbox cgroup has no .scope.
      {burstable + "/crio-" + kId, WorkloadKind::kContainer, kId, "", "cri-o", kId, kPodUid, {},
       "container cri-o:" + kShortId + inPod},
      {burstable + "/crio-conmon-" + kId + ".scope", WorkloadKind::kScope, "crio-conmon-" + kId + ".scope",
       "crio-conmon-" + kId + ".scope", "", "", kPodUid, {}, "crio-conmon-" + kId + ".scope"},
      {burstable + "/docker-" + kId + ".scope", WorkloadKind::kContainer, kId, "docker-" + kId + ".scope", "docker",
       kId, kPodUid, {}, "container docker:" + kShortId + inPod},
      // The kubelet's cgroupfs driver: the path does not say which runtime.
      {"/kubepods/burstable/pod" + kPodUid + "/" + kId, WorkloadKind::kContainer, kId, "", "kubernetes", kId,
       kPodUid, {}, "container kubernetes:" + kShortId + inPod},
      {"/kubepods/besteffort/pod" + kPodUid + "/" + kId, WorkloadKind::kContainer, kId, "", "kubernetes", kId,
       kPodUid, {}, "container kubernetes:" + kShortId + inPod},
      {"/kubepods/pod" + kPodUid + "/" + kId, WorkloadKind::kContainer, kId, "", "kubernetes", kId, kPodUid, {},
       "container kubernetes:" + kShortId + inPod},
      // kind: a Kubernetes node inside a Docker container; the inner container is the workload.
      {"/system.slice/docker-" + kOuterId +
           ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
           "kubelet-kubepods-besteffort-pod" + kPodSlice + ".slice/cri-containerd-" + kId + ".scope",
       WorkloadKind::kContainer, kId, "cri-containerd-" + kId + ".scope", "containerd", kId, kPodUid, {},
       "container containerd:" + kShortId + inPod},
      // runc's "slice:prefix:id" taken literally when containerd and the kubelet disagree on the driver.
      {"/system.slice/containerd.service/kubepods-besteffort-pod" + kPodSlice + ".slice:cri-containerd:" + kId,
       WorkloadKind::kContainer, kId, "", "containerd", kId, kPodUid, {}, "container containerd:" + kShortId + inPod},
      // A pod's own cgroup, without a container.
      {burstable, WorkloadKind::kSlice, "kubepods-burstable-pod" + kPodSlice + ".slice",
       "kubepods-burstable-pod" + kPodSlice + ".slice", "", "", kPodUid, {},
       "kubepods-burstable-pod" + kPodSlice + ".slice"},
  };
  for (const auto& c : cases) expectWorkload(c);
}

TEST(Workload, UnrecognisedPathsAreBareCgroups) {
  const Case cases[] = {
      {"", WorkloadKind::kCgroup, "", "", "", "", "", {}, "cgroup (unknown)"},
      {"/", WorkloadKind::kCgroup, "/", "", "", "", "", {}, "cgroup /"},
      {"//", WorkloadKind::kCgroup, "//", "", "", "", "", {}, "cgroup //"},
      {"/foo/bar", WorkloadKind::kCgroup, "/foo/bar", "", "", "", "", {}, "cgroup /foo/bar"},
      {"/process_api/51bbb30ff5de2bb3dd086e1e7a24fb49", WorkloadKind::kCgroup,
       "/process_api/51bbb30ff5de2bb3dd086e1e7a24fb49", "", "", "", "", {},
       "cgroup /process_api/51bbb30ff5de2bb3dd086e1e7a24fb49"},
      {"/docker/" + kId.substr(1), WorkloadKind::kCgroup, "/docker/" + kId.substr(1), "", "", "", "", {},
       "cgroup /docker/" + kId.substr(1)},
      {"/foo.slice/bar", WorkloadKind::kCgroup, "/foo.slice/bar", "", "", "", "", {}, "cgroup /foo.slice/bar"},
      {"/.slice/.service", WorkloadKind::kCgroup, "/.slice/.service", "", "", "", "", {},
       "cgroup /.slice/.service"},
      {"/a:b:c", WorkloadKind::kCgroup, "/a:b:c", "", "", "", "", {}, "cgroup /a:b:c"},
      {"/x.slice:cri-containerd:" + kId.substr(0, 20), WorkloadKind::kCgroup,
       "/x.slice:cri-containerd:" + kId.substr(0, 20), "", "", "", "", {},
       "cgroup /x.slice:cri-containerd:" + kId.substr(0, 20)},
      {"/user.slice/user-99999999999.slice", WorkloadKind::kSlice, "user-99999999999.slice",
       "user-99999999999.slice", "", "", "", {}, "user-99999999999.slice"},
      {"/kubepods/burstable/pod!bad/x", WorkloadKind::kCgroup, "/kubepods/burstable/pod!bad/x", "", "", "", "", {},
       "cgroup /kubepods/burstable/pod!bad/x"},
  };
  for (const auto& c : cases) expectWorkload(c);
}

// Every prefix of a real path, and odd bytes, give a consistent answer.
TEST(Workload, TruncatedAndOddPathsKeepInvariants) {
  const std::string full = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodSlice +
                           ".slice/cri-containerd-" + kId + ".scope/\xff\x01:x";
  for (size_t length = 0; length <= full.size(); ++length) {
    Workload workload = workloadFromCgroupPath(std::string_view(full).substr(0, length));
    SCOPED_TRACE(workload.cgroupPath);
    EXPECT_EQ(workload.kind == WorkloadKind::kContainer, !workload.containerId.empty());
    EXPECT_FALSE(workload.displayName().empty());
    if (workload.kind != WorkloadKind::kCgroup) {
      EXPECT_FALSE(workload.name.empty());
      EXPECT_FALSE(workload.unit.empty() && workload.kind != WorkloadKind::kContainer);
    }
  }
}

TEST(Workload, KindNames) {
  EXPECT_STREQ(toString(WorkloadKind::kService), "service");
  EXPECT_STREQ(toString(WorkloadKind::kScope), "scope");
  EXPECT_STREQ(toString(WorkloadKind::kUserSession), "user-session");
  EXPECT_STREQ(toString(WorkloadKind::kContainer), "container");
  EXPECT_STREQ(toString(WorkloadKind::kSlice), "slice");
  EXPECT_STREQ(toString(WorkloadKind::kCgroup), "cgroup");
}

}  // namespace
}  // namespace shadowai
