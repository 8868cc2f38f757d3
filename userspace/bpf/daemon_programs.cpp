#include "bpf/daemon_programs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "bpf/bpffs.h"
#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "daemon.skel.h"
#include "net/network_namespace.h"

namespace shadowai {

void DaemonPrograms::SkeletonDeleter::operator()(daemon_bpf* skeleton) const { daemon_bpf__destroy(skeleton); }
// Destroying a pinned link only closes our fd: the pin keeps the program attached.
void DaemonPrograms::LinkDeleter::operator()(::bpf_link* link) const { bpf_link__destroy(link); }

namespace {

constexpr const char* kLinkPrefix = "link_";

uint64_t monotonicNowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
}

void setPortBits(volatile uint8_t* bitmap, const std::vector<uint16_t>& ports) {
  for (uint16_t port : ports) {
    bitmap[port >> 3] = static_cast<uint8_t>(bitmap[port >> 3] | (1u << (port & 7)));
  }
}

// The address of a socket end as the BPF side keys it: 16 bytes, IPv4 v4-mapped, port host order.
bool socketEnd(int fd, bool peer, uint8_t address[16], uint16_t& port) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  if (rc != 0) return false;
  if (storage.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    std::memcpy(address, IpAddress::fromV4(reinterpret_cast<const uint8_t*>(&v4->sin_addr)).bytes().data(), 16);
    port = ntohs(v4->sin_port);
    return true;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    std::memcpy(address, &v6->sin6_addr, 16);
    port = ntohs(v6->sin6_port);
    return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<DaemonPrograms>> DaemonPrograms::start(const DaemonProgramsOptions& options,
                                                              EventReader::EventHandler handler) {
  if (auto bpffs = ensureBpffsDirectory(options.pinDir); !bpffs) return bpffs.error();
  Fd cgroup(::open(options.cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return errnoError("cannot open cgroup " + options.cgroupPath);
  auto cgroupId = cgroupIdOfPath(options.cgroupPath);
  if (!cgroupId) return cgroupId.error();

  std::unique_ptr<DaemonPrograms> programs(new DaemonPrograms());
  programs->pinDir_ = options.pinDir;
  LIBBPF_OPTS(bpf_object_open_opts, openOptions, .pin_root_path = options.pinDir.c_str());
  programs->skeleton_.reset(daemon_bpf__open_opts(&openOptions));
  if (!programs->skeleton_) return errnoError("cannot open the daemon's BPF object");
  auto* skeleton = programs->skeleton_.get();

  auto* rodata = skeleton->rodata;
  setPortBits(rodata->watched_ports, options.watchedPorts);
  setPortBits(rodata->redirect_ports, options.redirectPorts);
  if (options.proxyIpv4) std::memcpy(const_cast<uint32_t*>(&rodata->proxy_ipv4), options.proxyIpv4->bytes().data() + 12, 4);
  if (options.proxyIpv6) std::memcpy(const_cast<uint8_t*>(rodata->proxy_ipv6), options.proxyIpv6->bytes().data(), 16);
  rodata->proxy_port = options.proxyPort;
  rodata->upstream_mark = options.upstreamMark;
  rodata->failure_open = options.failureOpen;
  rodata->heartbeat_timeout_ns = static_cast<uint64_t>(options.heartbeatTimeout.count()) * 1'000'000'000ull;
  rodata->default_mode = SHADOWAI_MODE_DETECT;
  rodata->scope_cgroup_id = *cgroupId;
  rodata->scope_cgroup_level = options.cgroupLevel;

  if (int err = daemon_bpf__load(skeleton); err != 0) {
    return makeError("cannot load the daemon's BPF programs (a pinned map from an incompatible version in " +
                         options.pinDir + "? run with --verbose for the verifier log)",
                     -err);
  }

  uint32_t zero = 0;
  bpf_map_lookup_elem(bpf_map__fd(skeleton->maps.heartbeat), &zero, &programs->heartbeatAtStart_);
  auto ownNetns = NetworkNamespace::ownCookie();
  if (!ownNetns) return ownNetns.error();
  if (auto served = programs->setNetnsState(*ownNetns, NetnsState::kServed); !served) return served.error();

  struct Program {
    const char* name;
    ::bpf_program* program;
  };
  const Program list[] = {
      {"connect4", skeleton->progs.connect4},       {"connect6", skeleton->progs.connect6},
      {"sendmsg4", skeleton->progs.sendmsg4},       {"sendmsg6", skeleton->progs.sendmsg6},
      {"getpeername4", skeleton->progs.getpeername4}, {"getpeername6", skeleton->progs.getpeername6},
      {"sock_ops", skeleton->progs.sock_ops},       {"egress_tls_hello", skeleton->progs.egress_tls_hello},
      {"ingress_dns_answer", skeleton->progs.ingress_dns_answer},
  };
  for (const auto& item : list) {
    if (auto attached = programs->attachOrUpdate(item.name, item.program, cgroup.get(), *cgroupId); !attached) {
      return attached.error();
    }
  }
  if (auto attached = programs->attachAndRepin("cgroup_mkdir", skeleton->progs.cgroup_mkdir); !attached) {
    return attached.error();
  }
  // Not pinned: its events are for this daemon's ring buffer only.
  ::bpf_link* exec = bpf_program__attach(skeleton->progs.process_exec);
  if (!exec) return makeError("cannot attach the exec tracepoint program", errno);
  programs->links_.emplace_back(exec);

  auto events = EventReader::create(bpf_map__fd(skeleton->maps.events), bpf_map__fd(skeleton->maps.lost_events),
                                    std::move(handler));
  if (!events) return events.error();
  programs->events_ = std::move(*events);
  return programs;
}

Status DaemonPrograms::attachOrUpdate(const char* name, ::bpf_program* program, int cgroupFd,
                                      uint64_t cgroupId) {
  const std::string pinPath = pinDir_ + "/" + kLinkPrefix + name;
  // A first start has no pin yet; only then is bpf_link__open expected to fail (quietly).
  ::bpf_link* pinned = ::access(pinPath.c_str(), F_OK) == 0 ? bpf_link__open(pinPath.c_str()) : nullptr;
  if (pinned) {
    std::unique_ptr<::bpf_link, LinkDeleter> link(pinned);
    bpf_link_info info{};
    uint32_t length = sizeof(info);
    const bool sameCgroup = bpf_obj_get_info_by_fd(bpf_link__fd(pinned), &info, &length) == 0 &&
                            info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == cgroupId;
    if (sameCgroup && bpf_link__update_program(pinned, program) == 0) {
      linksWerePinned_ = true;
      links_.push_back(std::move(link));
      return {};
    }
    // Attached elsewhere (the configured cgroup changed) or not updatable: start afresh.
    bpf_link__unpin(pinned);
  }
  ::bpf_link* link = bpf_program__attach_cgroup(program, cgroupFd);
  if (!link) {
    int err = errno;
    if (err == EINVAL || err == EOPNOTSUPP) {
      return makeError(std::string("kernel too old: cannot attach ") + name + " through a BPF link", err);
    }
    return makeError(std::string("cannot attach ") + name, err);
  }
  std::unique_ptr<::bpf_link, LinkDeleter> owned(link);
  if (int err = bpf_link__pin(link, pinPath.c_str()); err != 0) {
    return makeError("cannot pin " + pinPath, -err);
  }
  links_.push_back(std::move(owned));
  return {};
}

Status DaemonPrograms::attachAndRepin(const char* name, ::bpf_program* program) {
  const std::string pinPath = pinDir_ + "/" + kLinkPrefix + name;
  ::bpf_link* link = bpf_program__attach(program);
  if (!link) {
    const int err = errno;
    return makeError(std::string("cannot attach the ") + name +
                         " tracepoint program (the kernel needs BTF-enabled tracepoints, Linux 5.5)",
                     err);
  }
  std::unique_ptr<::bpf_link, LinkDeleter> owned(link);
  // The previous daemon's program runs until its pin goes, this one from now on: no moment without.
  if (::unlink(pinPath.c_str()) != 0 && errno != ENOENT) return errnoError("cannot replace pin " + pinPath);
  if (int err = bpf_link__pin(link, pinPath.c_str()); err != 0) return makeError("cannot pin " + pinPath, -err);
  links_.push_back(std::move(owned));
  return {};
}

DaemonPrograms::~DaemonPrograms() {
  events_.reset();
  links_.clear();  // closes our fds; the pins keep the programs attached
}

Status DaemonPrograms::setMode(uint64_t cgroupId, std::optional<shadowai_mode> mode) {
  int fd = bpf_map__fd(skeleton_->maps.cgroup_modes);
  if (!mode) {
    if (bpf_map_delete_elem(fd, &cgroupId) != 0 && errno != ENOENT) return errnoError("cannot clear a cgroup's mode");
    return {};
  }
  uint32_t value = *mode;
  if (bpf_map_update_elem(fd, &cgroupId, &value, BPF_ANY) != 0) return errnoError("cannot set a cgroup's mode");
  return {};
}

std::map<uint64_t, shadowai_mode> DaemonPrograms::modes() const {
  std::map<uint64_t, shadowai_mode> result;
  int fd = bpf_map__fd(skeleton_->maps.cgroup_modes);
  uint64_t key = 0;
  uint64_t next = 0;
  void* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    uint32_t value = 0;
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) result[next] = static_cast<shadowai_mode>(value);
    key = next;
    previous = &key;
  }
  return result;
}

bool DaemonPrograms::fitsPathModes(const std::string& cgroupPath) {
  // The kernel side reads the path with its terminating NUL and needs it to fit with room to spare.
  return cgroupPath.size() + 1 < SHADOWAI_CGROUP_PATH_MAX;
}

Status DaemonPrograms::setPathMode(const std::string& cgroupPath, std::optional<shadowai_mode> mode) {
  if (!fitsPathModes(cgroupPath)) return {};
  shadowai_cgroup_path key{};
  std::memcpy(key.path, cgroupPath.data(), cgroupPath.size());
  int fd = bpf_map__fd(skeleton_->maps.cgroup_path_modes);
  if (!mode) {
    if (bpf_map_delete_elem(fd, &key) != 0 && errno != ENOENT) return errnoError("cannot clear a cgroup path's mode");
    return {};
  }
  uint32_t value = *mode;
  if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0) return errnoError("cannot set a cgroup path's mode");
  return {};
}

std::map<std::string, shadowai_mode> DaemonPrograms::pathModes() const {
  std::map<std::string, shadowai_mode> result;
  int fd = bpf_map__fd(skeleton_->maps.cgroup_path_modes);
  shadowai_cgroup_path key{};
  shadowai_cgroup_path next{};
  const void* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    uint32_t value = 0;
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) {
      result[std::string(next.path, strnlen(next.path, sizeof(next.path)))] = static_cast<shadowai_mode>(value);
    }
    key = next;
    previous = &key;
  }
  return result;
}

Status DaemonPrograms::setNetnsState(uint64_t netnsCookie, std::optional<NetnsState> state) {
  int fd = bpf_map__fd(skeleton_->maps.served_netns);
  if (!state) {
    if (bpf_map_delete_elem(fd, &netnsCookie) != 0 && errno != ENOENT) {
      return errnoError("cannot forget a network namespace");
    }
    return {};
  }
  const uint8_t value = static_cast<uint8_t>(*state);
  if (bpf_map_update_elem(fd, &netnsCookie, &value, BPF_ANY) != 0) {
    return errnoError("cannot mark a network namespace served");
  }
  return {};
}

Status DaemonPrograms::beat() {
  uint32_t zero = 0;
  uint64_t now = monotonicNowNs();
  if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.heartbeat), &zero, &now, BPF_ANY) != 0) {
    return errnoError("cannot write the heartbeat");
  }
  return {};
}

std::optional<RecordedDestination> DaemonPrograms::takeOriginalDestination(int acceptedFd) const {
  shadowai_flow_key key{};
  if (!socketEnd(acceptedFd, true, key.client_addr, key.client_port)) return std::nullopt;
  if (!socketEnd(acceptedFd, false, key.proxy_addr, key.proxy_port)) return std::nullopt;
  auto cookie = NetworkNamespace::cookieOfSocket(acceptedFd);
  if (!cookie) return std::nullopt;
  key.netns_cookie = *cookie;
  shadowai_original_dst value{};
  if (bpf_map_lookup_and_delete_elem(bpf_map__fd(skeleton_->maps.redirected_flows), &key, &value) != 0) {
    return std::nullopt;
  }
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), value.addr, 16);
  return RecordedDestination{IpAddress(bytes), value.port, value.pid, value.cgroup_id};
}

Status DaemonPrograms::syncLlmAddresses(const std::vector<IpAddress>& addresses) {
  int fd = bpf_map__fd(skeleton_->maps.llm_addresses);
  std::set<IpAddress> wanted(addresses.begin(), addresses.end());
  std::set<IpAddress> present(llmAddresses_.begin(), llmAddresses_.end());
  const uint8_t one = 1;
  for (const auto& address : wanted) {
    if (present.count(address)) continue;
    if (bpf_map_update_elem(fd, address.bytes().data(), &one, BPF_ANY) != 0) {
      return errnoError("cannot add an LLM address to the QUIC refusal map");
    }
  }
  for (const auto& address : present) {
    if (!wanted.count(address)) bpf_map_delete_elem(fd, address.bytes().data());
  }
  llmAddresses_.assign(wanted.begin(), wanted.end());
  return {};
}

Status DaemonPrograms::removePins(const std::string& pinDir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(pinDir, error)) return {};
  // Only our own pins: a freshly mounted bpffs also holds the kernel's maps.debug/progs.debug.
  static const std::set<std::string> kPinnedMaps = {"cgroup_modes", "cgroup_path_modes", "original_dst",
                                                    "redirected_flows", "llm_addresses", "heartbeat"};
  for (const auto& entry : fs::directory_iterator(pinDir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kLinkPrefix, 0) != 0 && !kPinnedMaps.count(name)) continue;
    if (::unlink(entry.path().c_str()) != 0 && errno != ENOENT) {
      return errnoError("cannot remove pin " + entry.path().string());
    }
  }
  return {};
}

}  // namespace shadowai
