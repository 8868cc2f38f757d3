// Observer: loads the observation programs (bpf/observe.bpf.c), attaches them through BPF links to
// one cgroup v2 subtree, and hands each ring buffer record to a callback. Destroying the Observer
// destroys the links, which detaches everything it attached; nothing outlives the process.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bpf/event_reader.h"
#include "common/result.h"

struct observe_bpf;

namespace shadowai {

struct ObserverOptions {
  std::string cgroupPath;             // absolute path of the cgroup v2 directory to attach to
  unsigned cgroupLevel = 0;           // its depth below the cgroup v2 root (cgroupLevelOf())
  // Where a running shadowaid pins its maps: its record of redirected connects is shared, so an
  // enforced workload's calls are reported with their real destination. Empty: not looked for.
  std::string daemonPinDir;
  std::vector<uint16_t> watchedPorts;  // destination ports reported by connect/sendmsg/TLS hooks
};

class Observer {
 public:
  using EventHandler = EventReader::EventHandler;

  static Result<std::unique_ptr<Observer>> start(const ObserverOptions& options, EventHandler handler);
  ~Observer();
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // Waits up to timeoutMs for records and delivers them. Returns the number delivered.
  Result<int> poll(int timeoutMs) { return events_->poll(timeoutMs); }
  // Delivers whatever is in the ring buffer without waiting (used before the final report).
  Result<int> drain() { return events_->drain(); }
  LostEventCounts lostEvents() const { return events_->lostEvents(); }
  uint64_t malformedRecords() const { return events_->malformedRecords(); }
  // A running shadowaid's record of redirected connects was found and is shared.
  bool sharesDaemonRedirects() const { return sharesDaemonRedirects_; }

 private:
  Observer() = default;
  void shareDaemonRedirects(const std::string& pinDir);
  bool sharesDaemonRedirects_ = false;

  struct SkeletonDeleter {
    void operator()(observe_bpf* skeleton) const;
  };

  // Declared first so it is destroyed last: the ring buffer's maps belong to the skeleton.
  std::unique_ptr<observe_bpf, SkeletonDeleter> skeleton_;
  std::unique_ptr<EventReader> events_;
};

}  // namespace shadowai
