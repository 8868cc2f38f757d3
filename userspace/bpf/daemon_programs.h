// DaemonPrograms: the daemon's BPF object (bpf/daemon.bpf.c) — observation plus enforce mode —
// loaded with its state maps and links pinned under one bpffs directory. Pins are what make
// enforcement survive the daemon: after a crash the links stay attached (closed mode: enforced
// connects fail fast at the dead proxy port instead of bypassing it), and a restarted daemon
// reuses the pinned maps (modes, in-flight redirects) and switches the pinned links to its newly
// loaded programs atomically.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/event_reader.h"
#include "common/result.h"
#include "net/ip_address.h"
#include "shadowai/enforce_types.h"

struct daemon_bpf;
struct bpf_link;
struct bpf_program;

namespace shadowai {

struct DaemonProgramsOptions {
  std::string cgroupPath;  // absolute cgroup v2 directory to attach to
  unsigned cgroupLevel = 0;  // its depth below the cgroup v2 root (cgroupLevelOf())
  std::string pinDir;      // bpffs directory for pinned maps and links
  std::vector<uint16_t> watchedPorts;
  std::vector<uint16_t> redirectPorts;
  std::optional<IpAddress> proxyIpv4;
  std::optional<IpAddress> proxyIpv6;
  uint16_t proxyPort = 0;
  uint32_t upstreamMark = 0;
  bool failureOpen = false;
  std::chrono::seconds heartbeatTimeout{10};
};

// Where a redirected connection was going, as recorded by the connect hook.
struct RecordedDestination {
  IpAddress address;
  uint16_t port = 0;
  uint32_t pid = 0;
  uint64_t cgroupId = 0;
};

class DaemonPrograms {
 public:
  static Result<std::unique_ptr<DaemonPrograms>> start(const DaemonProgramsOptions& options,
                                                       EventReader::EventHandler handler);
  ~DaemonPrograms();
  DaemonPrograms(const DaemonPrograms&) = delete;
  DaemonPrograms& operator=(const DaemonPrograms&) = delete;

  // Mode of one cgroup (by id); nullopt removes its own entry so it inherits again.
  Status setMode(uint64_t cgroupId, std::optional<shadowai_mode> mode);
  std::map<uint64_t, shadowai_mode> modes() const;

  // Mode of a cgroup path (relative to the cgroup v2 root), which the kernel gives a cgroup the
  // moment it is created there (a restarted unit); nullopt removes it. A path too long for the
  // kernel's key (fitsPathModes() false) is not stored: the daemon's once-a-second pass covers it.
  Status setPathMode(const std::string& cgroupPath, std::optional<shadowai_mode> mode);
  std::map<std::string, shadowai_mode> pathModes() const;
  static bool fitsPathModes(const std::string& cgroupPath);

  // start() marks the caller's own network namespace served (the proxy listens there from the
  // start) before the programs attach, so no connection there is ever held for a listener.
  // Marks a network namespace (by cookie) as one where the proxy listens (SERVED), or where it cannot
  // (connections there are refused at once rather than held), or forgets it (nullopt): enforced
  // connections in a namespace not marked wait for it, their SYN held.
  enum class NetnsState : uint8_t { kServed = 1, kCannotServe = 2 };
  Status setNetnsState(uint64_t netnsCookie, std::optional<NetnsState> state);

  // Writes CLOCK_MONOTONIC now into the heartbeat map (open failure mode).
  Status beat();
  // The heartbeat found in the pinned map when this instance started (0: none).
  uint64_t heartbeatAtStartNs() const { return heartbeatAtStart_; }
  bool linksWerePinned() const { return linksWerePinned_; }

  // The recorded original destination for a socket the proxy accepted, removed from the map so
  // it is used once. Safe to call from several threads (plain bpf() syscalls on a map fd).
  std::optional<RecordedDestination> takeOriginalDestination(int acceptedFd) const;

  // Addresses tied to LLM endpoints, for refusing QUIC. Adds what is new, removes what is gone.
  Status syncLlmAddresses(const std::vector<IpAddress>& addresses);

  EventReader& events() { return *events_; }

  // Removes every pin of an instance: links (which detaches the programs) and maps.
  static Status removePins(const std::string& pinDir);

 private:
  DaemonPrograms() = default;
  Status attachOrUpdate(const char* name, ::bpf_program* program, int cgroupFd, uint64_t cgroupId);
  // The same for a program not on a cgroup (a tracepoint): attach anew, then take over the pin.
  Status attachAndRepin(const char* name, ::bpf_program* program);

  struct SkeletonDeleter {
    void operator()(daemon_bpf* skeleton) const;
  };
  struct LinkDeleter {
    void operator()(::bpf_link* link) const;
  };

  std::unique_ptr<daemon_bpf, SkeletonDeleter> skeleton_;
  std::vector<std::unique_ptr<::bpf_link, LinkDeleter>> links_;
  std::unique_ptr<EventReader> events_;
  std::string pinDir_;
  uint64_t heartbeatAtStart_ = 0;
  bool linksWerePinned_ = false;
  std::vector<IpAddress> llmAddresses_;
};

}  // namespace shadowai
