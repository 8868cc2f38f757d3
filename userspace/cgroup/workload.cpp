#include "cgroup/workload.h"

#include <charconv>
#include <vector>

namespace shadowai {
namespace {

// Real runtimes use 64 hex digits; demanding at least 32 keeps "docker-build.scope" and the like
// (a user's own scope) from passing for a container.
constexpr size_t kMinPrefixedIdLength = 32;
constexpr size_t kBareIdLength = 64;

struct RuntimePrefix {
  std::string_view prefix;
  std::string_view runtime;
};
// "<prefix><id>.scope" under the systemd cgroup driver; CRI-O's pod sandbox and the cgroupfs drivers
// of Podman and CRI-O use "<prefix><id>" without the suffix. The monitors ("libpod-conmon-<id>",
// "crio-conmon-<id>") fail the hex test, which is right: conmon is not the container.
constexpr RuntimePrefix kRuntimePrefixes[] = {
    {"docker-", "docker"},         {"libpod-", "podman"}, {"cri-containerd-", "containerd"},
    {"crio-", "cri-o"},            {"nerdctl-", "containerd"},
};
// The runtime names in runc's "slice:prefix:id" cgroupsPath, which shows up verbatim as a directory
// when the runtime and the kubelet disagree about the cgroup driver.
constexpr RuntimePrefix kColonPrefixes[] = {
    {"docker", "docker"}, {"cri-containerd", "containerd"}, {"crio", "cri-o"}, {"libpod", "podman"}};

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    if (end > pos) parts.push_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return parts;
}

bool isLowerHex(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<uint32_t> parseUid(std::string_view digits) {
  uint32_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
  return value;
}

// "user-1000.slice" (logind's per-user slice) or "user@1000.service" (the user's manager).
std::optional<uint32_t> uidOfUserComponent(std::string_view part) {
  if (part.starts_with("user-") && part.ends_with(".slice")) {
    return parseUid(part.substr(5, part.size() - 5 - 6));
  }
  if (part.starts_with("user@") && part.ends_with(".service")) {
    return parseUid(part.substr(5, part.size() - 5 - 8));
  }
  return std::nullopt;
}

bool isSlice(std::string_view part) { return part.ends_with(".slice") && part.size() > 6; }

bool isProcessUnit(std::string_view part) {
  return (part.ends_with(".service") && part.size() > 8) || (part.ends_with(".scope") && part.size() > 6);
}

WorkloadKind kindOfUnit(std::string_view unit) {
  if (unit.starts_with("session-") && unit.ends_with(".scope")) return WorkloadKind::kUserSession;
  return unit.ends_with(".service") ? WorkloadKind::kService : WorkloadKind::kScope;
}

std::optional<std::string> podUidFromText(std::string_view uid) {
  if (uid.empty()) return std::nullopt;
  std::string out(uid);
  for (char& c : out) {
    bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-' || c == '_';
    if (!allowed) return std::nullopt;
    if (c == '_') c = '-';  // systemd slice names cannot hold '-' inside a level, so the kubelet uses '_'
  }
  return out;
}

// "kubepods-burstable-pod<uid>.slice", "kubepods-pod<uid>.slice" (guaranteed), kind's
// "kubelet-kubepods-...-pod<uid>.slice", or "pod<uid>" below a "kubepods" cgroup (cgroupfs driver).
std::optional<std::string> podUidOf(std::string_view part, bool underKubepods) {
  if (part.ends_with(".slice") && part.find("kubepods") != std::string_view::npos) {
    std::string_view stem = part.substr(0, part.size() - 6);
    size_t at = stem.rfind("-pod");
    if (at == std::string_view::npos) return std::nullopt;
    return podUidFromText(stem.substr(at + 4));
  }
  if (underKubepods && part.starts_with("pod")) return podUidFromText(part.substr(3));
  return std::nullopt;
}

struct ContainerMatch {
  std::string_view runtime;
  std::string_view id;
  std::optional<std::string> podUid;  // only from the "slice:prefix:id" form
};

std::optional<ContainerMatch> containerOf(std::string_view part, std::string_view parent, bool inPod) {
  std::string_view stem = part;
  if (stem.ends_with(".scope")) stem.remove_suffix(6);
  for (const auto& entry : kRuntimePrefixes) {
    if (!stem.starts_with(entry.prefix)) continue;
    std::string_view id = stem.substr(entry.prefix.size());
    if (id.size() >= kMinPrefixedIdLength && isLowerHex(id)) return ContainerMatch{entry.runtime, id, std::nullopt};
  }
  if (size_t firstColon = part.find(':'); firstColon != std::string_view::npos) {
    size_t secondColon = part.find(':', firstColon + 1);
    if (secondColon == std::string_view::npos) return std::nullopt;
    std::string_view slice = part.substr(0, firstColon);
    std::string_view prefix = part.substr(firstColon + 1, secondColon - firstColon - 1);
    std::string_view id = part.substr(secondColon + 1);
    if (id.size() < kMinPrefixedIdLength || !isLowerHex(id)) return std::nullopt;
    for (const auto& entry : kColonPrefixes) {
      if (prefix == entry.prefix) return ContainerMatch{entry.runtime, id, podUidOf(slice, false)};
    }
    return std::nullopt;
  }
  if (part.size() == kBareIdLength && isLowerHex(part)) {
    // Docker's cgroupfs driver puts containers in /docker/<id>; the kubelet's in .../pod<uid>/<id>.
    if (parent == "docker") return ContainerMatch{"docker", part, std::nullopt};
    return ContainerMatch{inPod ? "kubernetes" : "", part, std::nullopt};
  }
  return std::nullopt;
}

}  // namespace

const char* toString(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kService: return "service";
    case WorkloadKind::kScope: return "scope";
    case WorkloadKind::kUserSession: return "user-session";
    case WorkloadKind::kContainer: return "container";
    case WorkloadKind::kSlice: return "slice";
    case WorkloadKind::kCgroup: return "cgroup";
  }
  return "cgroup";
}

std::string Workload::displayName() const {
  std::string out;
  switch (kind) {
    case WorkloadKind::kContainer:
      out = "container ";
      if (!containerRuntime.empty()) out += containerRuntime + ":";
      out += containerId.substr(0, 12);
      if (!podUid.empty()) out += " in pod " + podUid;
      break;
    case WorkloadKind::kCgroup:
      out = "cgroup " + (cgroupPath.empty() ? std::string("(unknown)") : cgroupPath);
      break;
    default:
      out = name;
  }
  // Say whose it is when the name does not: a session, a user unit, a rootless container.
  bool nameShowsUser = kind == WorkloadKind::kSlice || kind == WorkloadKind::kCgroup ||
                       (kind != WorkloadKind::kUserSession && name == unit);
  if (uid && !nameShowsUser) out += " (uid " + std::to_string(*uid) + ")";
  return out;
}

Workload workloadFromCgroupPath(std::string_view cgroupPath) {
  Workload workload;
  workload.cgroupPath = std::string(cgroupPath);
  workload.name = workload.cgroupPath;
  const auto parts = components(cgroupPath);

  // The innermost container wins: in kind or docker-in-docker the outer container is only the host.
  std::optional<size_t> containerAt;
  ContainerMatch container;
  std::string containerPod;
  std::optional<std::string> pod;
  bool underKubepods = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (auto uid = podUidOf(parts[i], underKubepods)) pod = std::move(uid);
    if (auto match = containerOf(parts[i], i > 0 ? parts[i - 1] : std::string_view{}, pod.has_value())) {
      containerAt = i;
      container = *match;
      containerPod = container.podUid ? *container.podUid : pod.value_or("");
    }
    if (parts[i].starts_with("kubepods")) underKubepods = true;
  }

  const size_t userScanEnd = containerAt ? *containerAt : parts.size();
  for (size_t i = 0; i < userScanEnd && !workload.uid; ++i) workload.uid = uidOfUserComponent(parts[i]);

  if (containerAt) {
    workload.kind = WorkloadKind::kContainer;
    workload.containerRuntime = std::string(container.runtime);
    workload.containerId = std::string(container.id);
    workload.name = workload.containerId;
    workload.podUid = containerPod;
    if (parts[*containerAt].ends_with(".scope")) workload.unit = std::string(parts[*containerAt]);
    return workload;
  }
  if (pod) workload.podUid = *pod;

  // systemd's layout: slices, then the unit; below a unit only the unit's own delegated cgroups,
  // except in a user manager, where the same layout repeats for the user's units.
  size_t i = 0;
  while (i < parts.size() && isSlice(parts[i])) ++i;
  if (i < parts.size() && isProcessUnit(parts[i])) {
    workload.unit = std::string(parts[i]);
    workload.name = workload.unit;
    workload.kind = kindOfUnit(parts[i]);
    if (parts[i].starts_with("user@") && uidOfUserComponent(parts[i])) {
      size_t j = i + 1;
      while (j < parts.size() && isSlice(parts[j])) ++j;
      // init.scope of a user manager is the manager itself.
      if (j < parts.size() && isProcessUnit(parts[j]) && parts[j] != "init.scope") {
        workload.name = std::string(parts[j]);
        workload.kind = kindOfUnit(parts[j]);
      }
    }
    return workload;
  }
  if (i == parts.size() && i > 0) {
    workload.kind = WorkloadKind::kSlice;
    workload.unit = std::string(parts[i - 1]);
    workload.name = workload.unit;
  }
  return workload;
}

}  // namespace shadowai
