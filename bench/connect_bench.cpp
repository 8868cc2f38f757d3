// connect_bench: what the observation programs (bpf/observe.bpf.c) cost a workload's connect(),
// measured side by side in one run, and the highest connect rate the machine reaches with and without
// them, with the events lost at it. Root only; it builds its own network namespace and cgroup and
// removes the cgroup again (also on Ctrl-C).
//
//   build/bench/connect_bench [--rounds N] [--connects N] [--rate-seconds S] [--rate-threads N]
//                             [--program-stats] [--json]
//
// Method (docs/benchmarks.md has the figures and what they mean):
//  * Each client thread has its own listener on 127.0.0.N:443 (443 is a watched port, so every connect
//    emits an event). Listeners are created before the process joins its cgroup: a socket keeps the
//    cgroup of the task that made it, and accepted sockets that of their listener, so the server side
//    stays outside the observed cgroup, as a remote server would.
//  * One cycle = socket, connect, accept (non-blocking listener, drained by the same thread), close
//    of the client with SO_LINGER 0, close of the accepted socket. The RST close leaves no TIME_WAIT,
//    so ephemeral ports never run out and the connection tables stay flat: the last round costs what
//    the first did. Cycling through TIME_WAIT would add a drift that has nothing to do with the programs.
//  * The figure of merit is the client's time in socket+connect+close. Loopback makes this the worst
//    case: a real connect waits for a network round trip that dwarfs the programs.
//  * Variants run interleaved in every round, in rotating order, so drift and noise from other work
//    on the machine hit all of them alike. Each attachment is loaded afresh and read by a consumer
//    thread; the headline variant is the real Observer feeding FlowTracker, as shadowai-scan does:
//    that is the honest cost, the consumer's wake-ups and CPU included.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bpf/kernel_support.h"
#include "bpf/libbpf_log.h"
#include "bpf/observer.h"
#include "catalog/catalog.h"
#include "cgroup/cgroup_fs.h"
#include "common/fd.h"
#include "observe.skel.h"
#include "observe/address_names.h"
#include "observe/flow_tracker.h"
#include "observe/process_attributor.h"
#include "shared/bench_run.h"
#include "shared/report.h"
#include "shared/cgroup_membership.h"
#include "shared/statistics.h"
#include "support/test_cgroup.h"
#include "support/test_namespace.h"

namespace shadowai::bench {
namespace {

constexpr uint16_t kWatchedPort = 443;
constexpr uint16_t kDnsPort = 53;
constexpr int kListenBacklog = 4096;
constexpr int kConsumerPollMs = 200;  // what shadowai-scan uses
constexpr auto kTimedDrainInterval = std::chrono::milliseconds(20);
// After the clients stop, a consumer that fell behind stops feeding FlowTracker (it keeps counting)
// once this much time has passed, so the benchmark ends in bounded time whatever the backlog.
constexpr auto kFinishTrackingFor = std::chrono::seconds(2);
constexpr int kAcceptWaitMs = 1000;
constexpr uint64_t kWarmupConnects = 1000;
constexpr double kRatioGoal = 1.15;

// CPU time of every thread of the process, user and system: it includes the consumer thread and the
// softirq work loopback does on behalf of the sender.
uint64_t processCpuNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// What a variant attaches and who reads it.
enum class Attachment {
  kNone,
  kConnect4Only,  // this file's SkeletonAttachment: the naive "one connect hook" design
  kObserver,      // the real shadowai::Observer: all six programs
  kAllSkeleton,   // all six through SkeletonAttachment, for the per-program statistics only
};
enum class Consumer {
  kCount,        // counts events: the cheapest real consumer
  kFlowTracker,  // counts and feeds FlowTracker, waiting for the kernel's wake-ups as shadowai-scan does
  kTimedTracker,  // the same, but sleeps and drains every kTimedDrainInterval instead of waiting for wake-ups
  kTimedCount,    // drains every kTimedDrainInterval and only counts
  kUnread,        // never reads until detach. The kernel signals a record only when the reader has caught
                  // up, so an unread ring costs one wake-up in all: the programs' cost without wake-ups.
};

struct Variant {
  const char* key;   // JSON
  const char* name;  // humans
  Attachment attachment;
  Consumer consumer;
};

constexpr Variant kBaseline{"baseline", "no programs", Attachment::kNone, Consumer::kCount};
constexpr Variant kConnect4Count{"connect4_only", "connect4 only, count", Attachment::kConnect4Only, Consumer::kCount};
constexpr Variant kConnect4Unread{"connect4_unread", "connect4 only, unread", Attachment::kConnect4Only,
                                  Consumer::kUnread};
constexpr Variant kObserverCount{"observer_count", "observer, count", Attachment::kObserver, Consumer::kCount};
// The headline: what shadowai-scan runs.
constexpr Variant kObserverTracker{"observer", "observer + FlowTracker", Attachment::kObserver,
                                   Consumer::kFlowTracker};
// The consumer-side change that takes the wake-ups out without touching the BPF programs.
constexpr Variant kObserverTimed{"observer_timed", "observer + FlowTracker, timed", Attachment::kObserver,
                                 Consumer::kTimedTracker};
// The ceiling once FlowTracker costs little: the same reader, events only counted.
constexpr Variant kObserverTimedCount{"observer_timed_count", "observer, count, timed", Attachment::kObserver,
                                      Consumer::kTimedCount};
constexpr Variant kProgramStats{"program_stats", "six programs, stats on", Attachment::kAllSkeleton, Consumer::kCount};
constexpr Variant kProgramStatsUnread{"program_stats_unread", "six programs, stats on, unread",
                                      Attachment::kAllSkeleton, Consumer::kUnread};

// ---------------------------------------------------------------------------------------------
// Listener side and the connect cycle

struct Endpoint {
  Fd listener;
  sockaddr_in address{};
};

Result<Endpoint> listenOn(int index) {
  Endpoint endpoint;
  endpoint.address.sin_family = AF_INET;
  endpoint.address.sin_port = htons(kWatchedPort);
  endpoint.address.sin_addr.s_addr = htonl(INADDR_LOOPBACK + static_cast<uint32_t>(index));
  endpoint.listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!endpoint.listener) return errnoError("cannot create a listener");
  const int one = 1;
  ::setsockopt(endpoint.listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(endpoint.listener.get(), reinterpret_cast<const sockaddr*>(&endpoint.address),
             sizeof(endpoint.address)) != 0) {
    return errnoError("cannot bind 127.0.0." + std::to_string(index + 1) + ":443");
  }
  if (::listen(endpoint.listener.get(), kListenBacklog) != 0) return errnoError("cannot listen");
  return endpoint;
}

struct LoopTotals {
  uint64_t attempts = 0;  // connect() calls: each one runs connect4, failed or not
  uint64_t failures = 0;
  uint64_t clientNs = 0;  // time in socket + connect + close on the client side
};

// One cycle. Returns false when any step failed; clientNs gets the client-side time either way.
bool connectOnce(const Endpoint& endpoint, uint64_t& clientNs) {
  const uint64_t started = nowNs();
  Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!client) {
    clientNs = nowNs() - started;
    return false;
  }
  // Close with RST: no TIME_WAIT, so ephemeral ports never run out and the tables stay small.
  const linger resetOnClose{1, 0};
  ::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &resetOnClose, sizeof(resetOnClose));
  const bool connected = ::connect(client.get(), reinterpret_cast<const sockaddr*>(&endpoint.address),
                                   sizeof(endpoint.address)) == 0;
  const uint64_t connectedAt = nowNs();

  // On loopback the handshake completes inside connect(), so the child is normally queued already.
  Fd accepted;
  while (connected) {
    accepted.reset(::accept4(endpoint.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (accepted || errno != EAGAIN) break;
    pollfd waitFor{endpoint.listener.get(), POLLIN, 0};
    if (::poll(&waitFor, 1, kAcceptWaitMs) <= 0) break;
  }

  const uint64_t closing = nowNs();
  client.reset();
  clientNs = (connectedAt - started) + (nowNs() - closing);
  return connected && accepted;
}

LoopTotals connectLoop(const Endpoint& endpoint, uint64_t count, std::vector<uint32_t>* samples) {
  LoopTotals totals;
  for (uint64_t i = 0; i < count && !stopRequested.load(std::memory_order_relaxed); ++i) {
    uint64_t clientNs = 0;
    if (!connectOnce(endpoint, clientNs)) ++totals.failures;
    ++totals.attempts;
    totals.clientNs += clientNs;
    if (samples != nullptr) samples->push_back(static_cast<uint32_t>(std::min<uint64_t>(clientNs, UINT32_MAX)));
  }
  return totals;
}

LoopTotals connectUntil(const Endpoint& endpoint, uint64_t deadlineNs) {
  LoopTotals totals;
  while (!stopRequested.load(std::memory_order_relaxed)) {
    // Check the clock every 64 cycles: the loop runs at hundreds of thousands per second.
    if ((totals.attempts & 63) == 0 && nowNs() >= deadlineNs) break;
    uint64_t clientNs = 0;
    if (!connectOnce(endpoint, clientNs)) ++totals.failures;
    ++totals.attempts;
    totals.clientNs += clientNs;
  }
  return totals;
}

// ---------------------------------------------------------------------------------------------
// What is attached, and the thread that reads it

struct ProgramStat {
  std::string name;
  uint64_t runs = 0;
  uint64_t runTimeNs = 0;
};

// The observation object loaded and attached by hand, for what the Observer does not offer: only
// connect4 attached (the naive point of comparison; the difference to the Observer is what the two
// cgroup_skb programs cost, sendmsg* never run for TCP), and each program's kernel statistics.
class SkeletonAttachment {
 public:
  static Result<std::unique_ptr<SkeletonAttachment>> start(const ObserverOptions& options, bool allPrograms,
                                                           Observer::EventHandler handler) {
    Fd cgroup(::open(options.cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup) return errnoError("cannot open cgroup " + options.cgroupPath);
    std::unique_ptr<SkeletonAttachment> self(new SkeletonAttachment());
    self->handler_ = std::move(handler);
    self->skeleton_.reset(observe_bpf__open());
    if (!self->skeleton_) return errnoError("cannot open the observation BPF object");
    auto* skeleton = self->skeleton_.get();
    for (uint16_t port : options.watchedPorts) {
      skeleton->rodata->watched_ports[port >> 3] |= static_cast<uint8_t>(1u << (port & 7));
    }
    if (int err = observe_bpf__load(skeleton); err != 0) return makeError("cannot load the BPF programs", -err);
    struct {
      bpf_program* program;
      bpf_link** link;
    } wanted[] = {
        {skeleton->progs.connect4, &skeleton->links.connect4},
        {skeleton->progs.connect6, &skeleton->links.connect6},
        {skeleton->progs.sendmsg4, &skeleton->links.sendmsg4},
        {skeleton->progs.sendmsg6, &skeleton->links.sendmsg6},
        {skeleton->progs.egress_tls_hello, &skeleton->links.egress_tls_hello},
        {skeleton->progs.ingress_dns_answer, &skeleton->links.ingress_dns_answer},
    };
    for (auto& [program, link] : wanted) {
      // The links belong to the skeleton: observe_bpf__destroy() detaches them.
      *link = bpf_program__attach_cgroup(program, cgroup.get());
      if (!*link) return errnoError(std::string("cannot attach ") + bpf_program__name(program));
      self->attached_.push_back(program);
      if (!allPrograms) break;  // connect4 comes first
    }
    self->ring_.reset(
        ring_buffer__new(bpf_map__fd(skeleton->maps.events), &SkeletonAttachment::onRecord, self.get(), nullptr));
    if (!self->ring_) return errnoError("cannot set up the BPF ring buffer");
    return self;
  }

  Result<int> poll(int timeoutMs) {
    int delivered = ring_buffer__poll(ring_.get(), timeoutMs);
    if (delivered < 0 && delivered != -EINTR) return makeError("reading the BPF ring buffer failed", -delivered);
    return std::max(delivered, 0);
  }

  Result<int> drain() {
    int delivered = ring_buffer__consume(ring_.get());
    if (delivered < 0) return makeError("reading the BPF ring buffer failed", -delivered);
    return delivered;
  }

  LostEventCounts lostEvents() const {
    LostEventCounts totals{};
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return totals;
    std::vector<uint64_t> perCpu(static_cast<size_t>(cpus));
    const int fd = bpf_map__fd(skeleton_->maps.lost_events);
    for (uint32_t slot = 0; slot < SHADOWAI_LOST_SLOTS; ++slot) {
      if (bpf_map_lookup_elem(fd, &slot, perCpu.data()) != 0) continue;
      for (uint64_t value : perCpu) totals[slot] += value;
    }
    return totals;
  }

  // Run counts and times; non-zero only while BPF statistics are enabled (bpf_enable_stats).
  std::vector<ProgramStat> programStats() const {
    std::vector<ProgramStat> stats;
    for (bpf_program* program : attached_) {
      bpf_prog_info info{};
      uint32_t length = sizeof(info);
      if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &length) != 0) continue;
      stats.push_back(ProgramStat{bpf_program__name(program), info.run_cnt, info.run_time_ns});
    }
    return stats;
  }

 private:
  SkeletonAttachment() = default;

  static int onRecord(void* context, void* data, size_t size) {
    if (size < sizeof(shadowai_event_header)) return 0;
    RawEvent event;
    event.header = static_cast<const shadowai_event_header*>(data);
    static_cast<SkeletonAttachment*>(context)->handler_(event);
    return 0;
  }

  struct SkeletonDeleter {
    void operator()(observe_bpf* skeleton) const { observe_bpf__destroy(skeleton); }
  };
  struct RingBufferDeleter {
    void operator()(ring_buffer* ring) const { ring_buffer__free(ring); }
  };

  std::unique_ptr<observe_bpf, SkeletonDeleter> skeleton_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
  std::vector<bpf_program*> attached_;
  Observer::EventHandler handler_;
};

struct ConsumerReport {
  uint64_t connectEvents = 0;  // connect events to the watched port from the bench cgroup
  uint64_t otherEvents = 0;    // anything else (expected 0)
  uint64_t lostEvents = 0;     // failed ring buffer reservations, all kinds
  uint64_t reads = 0;          // consumer turns that delivered something; waiting: one wake-up each
  uint64_t backlogAtStop = 0;  // connect events still unread when the clients stopped
  uint64_t untracked = 0;      // events only counted: the final drain ran past kFinishTrackingFor
  uint64_t consumerCpuNs = 0;  // CPU time of the consumer thread while attached
  FlowTrackerCounters tracker;
  std::vector<ProgramStat> programStats;
};

struct ConsumerSetup {
  const Catalog* catalog = nullptr;
  std::string cgroup2Root;
  std::string cgroupPath;
  uint64_t cgroupId = 0;
  std::vector<uint16_t> watchedPorts;
};

// One attachment and everything that consumes its events. Lives on the consumer thread only: the
// Observer is not thread-safe.
class ConsumerSession {
 public:
  // `stopping` turns true when the clients have stopped and the session is to finish.
  ConsumerSession(const ConsumerSetup& setup, const std::atomic<bool>& stopping)
      : setup_(setup),
        stopping_(stopping),
        attributor_(setup.cgroup2Root),
        tracker_(
            *setup.catalog, dnsNames_, resolvedNames_,
            [this](const shadowai_event_header& header) { return attributor_.identify(header); },
            [](const Detection&) {}, FlowTracker::Options{}) {}

  Status start(const Variant& variant) {
    consumer_ = variant.consumer;
    feedTracker_ = consumer_ == Consumer::kFlowTracker || consumer_ == Consumer::kTimedTracker;
    timed_ = consumer_ == Consumer::kTimedTracker || consumer_ == Consumer::kTimedCount;
    ObserverOptions options;
    options.cgroupPath = setup_.cgroupPath;
    options.cgroupLevel = cgroupLevelOf(setup_.cgroupPath.substr(setup_.cgroup2Root.size()));
    options.watchedPorts = setup_.watchedPorts;
    auto handler = [this](const RawEvent& event) { onEvent(event); };
    if (variant.attachment == Attachment::kObserver) {
      auto started = Observer::start(options, handler);
      if (!started) return started.error();
      observer_ = std::move(*started);
    } else {
      auto started = SkeletonAttachment::start(options, variant.attachment == Attachment::kAllSkeleton, handler);
      if (!started) return started.error();
      skeleton_ = std::move(*started);
    }
    return {};
  }

  // One turn of the consumer loop.
  Status poll() {
    Result<int> delivered = 0;
    if (consumer_ == Consumer::kUnread) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return {};
    }
    if (timed_) {
      std::this_thread::sleep_for(kTimedDrainInterval);
      delivered = drain();
    } else {
      delivered = observer_ ? observer_->poll(kConsumerPollMs) : skeleton_->poll(kConsumerPollMs);
    }
    if (!delivered) return delivered.error();
    if (*delivered > 0) ++report_.reads;
    if (feedTracker_) tracker_.expire();
    return {};
  }

  // Takes what is left in the ring buffer, detaches, and decides the flows still waiting.
  Result<ConsumerReport> finish() {
    noticeStop();
    auto drained = drain();
    if (!drained) return drained.error();
    report_.backlogAtStop = report_.connectEvents - readBeforeStop_;
    const LostEventCounts lost = observer_ ? observer_->lostEvents() : skeleton_->lostEvents();
    for (uint64_t count : lost) report_.lostEvents += count;
    if (skeleton_) report_.programStats = skeleton_->programStats();
    observer_.reset();
    skeleton_.reset();
    tracker_.flush();
    report_.tracker = tracker_.counters();
    return report_;
  }

 private:
  // Called per event too: a consumer far behind may be inside one long poll when the clients stop.
  void noticeStop() {
    if (finishDeadline_ || !stopping_.load(std::memory_order_relaxed)) return;
    readBeforeStop_ = report_.connectEvents;
    finishDeadline_ = std::chrono::steady_clock::now() + kFinishTrackingFor;
  }

  void onEvent(const RawEvent& event) {
    noticeStop();
    const shadowai_event_header& header = *event.header;
    if (header.kind == SHADOWAI_EV_CONNECT && header.remote.port == kWatchedPort &&
        header.cgroup_id == setup_.cgroupId) {
      ++report_.connectEvents;
    } else {
      ++report_.otherEvents;
    }
    if (!feedTracker_) return;
    // Checking the clock every 1024 events is enough to bound the final drain.
    if (finishDeadline_ && !trackingCut_ && (report_.connectEvents & 1023) == 0 &&
        std::chrono::steady_clock::now() > *finishDeadline_) {
      trackingCut_ = true;
    }
    if (trackingCut_) {
      ++report_.untracked;
      return;
    }
    tracker_.onEvent(event);
  }

  Result<int> drain() { return observer_ ? observer_->drain() : skeleton_->drain(); }

  const ConsumerSetup& setup_;
  const std::atomic<bool>& stopping_;
  AddressNames dnsNames_;
  AddressNames resolvedNames_;  // no pre-resolution here: the namespace has no network
  ProcessAttributor attributor_;
  FlowTracker tracker_;
  Consumer consumer_ = Consumer::kCount;
  bool feedTracker_ = false;
  bool timed_ = false;
  std::optional<std::chrono::steady_clock::time_point> finishDeadline_;  // set once stopping
  uint64_t readBeforeStop_ = 0;
  bool trackingCut_ = false;  // the final drain ran past kFinishTrackingFor
  ConsumerReport report_;
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<SkeletonAttachment> skeleton_;
};

// The thread that owns the attachments: attach() and detach() hand it a request and wait for it.
class EventConsumer {
 public:
  explicit EventConsumer(ConsumerSetup setup) : setup_(std::move(setup)), thread_([this] { run(); }) {}
  EventConsumer(const EventConsumer&) = delete;
  EventConsumer& operator=(const EventConsumer&) = delete;
  ~EventConsumer() {
    {
      std::lock_guard lock(mutex_);
      request_ = Request::kQuit;
    }
    release_.store(true);
    changed_.notify_all();
    thread_.join();
  }

  Status attach(const Variant& variant) {
    std::unique_lock lock(mutex_);
    variant_ = &variant;
    attachResult_.reset();
    request_ = Request::kAttach;
    changed_.notify_all();
    changed_.wait(lock, [this] { return attachResult_.has_value(); });
    return *attachResult_;
  }

  Result<ConsumerReport> detach() {
    std::unique_lock lock(mutex_);
    report_.reset();
    request_ = Request::kDetach;
    release_.store(true);
    changed_.notify_all();
    changed_.wait(lock, [this] { return report_.has_value(); });
    return *report_;
  }

 private:
  enum class Request { kNone, kAttach, kDetach, kQuit };

  static uint64_t threadCpuNs() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  }

  void run() {
    for (;;) {
      const Variant* variant = nullptr;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return request_ == Request::kAttach || request_ == Request::kQuit; });
        if (request_ == Request::kQuit) return;
        variant = variant_;
        request_ = Request::kNone;
        release_.store(false);
      }
      ConsumerSession session(setup_, release_);
      Status started = session.start(*variant);
      publish([&] { attachResult_ = started; });
      if (!started) continue;

      // Counted from here: loading and attaching are not the consumer's steady cost.
      const uint64_t cpuStart = threadCpuNs();
      Status polling;
      while (!release_.load() && polling) polling = session.poll();
      Result<ConsumerReport> report = polling ? session.finish() : Result<ConsumerReport>(polling.error());
      if (report) report->consumerCpuNs = threadCpuNs() - cpuStart;
      publish([&] { report_ = std::move(report); });
    }
  }

  template <typename Update>
  void publish(Update update) {
    std::lock_guard lock(mutex_);
    update();
    changed_.notify_all();
  }

  const ConsumerSetup setup_;
  std::mutex mutex_;
  std::condition_variable changed_;
  Request request_ = Request::kNone;
  const Variant* variant_ = nullptr;
  std::optional<Status> attachResult_;
  std::optional<Result<ConsumerReport>> report_;
  // Read by the polling loop on every wake-up, so it does not take the mutex.
  std::atomic<bool> release_{false};
  std::thread thread_;  // last: it starts in the constructor and uses everything above
};

// ---------------------------------------------------------------------------------------------
// Phases

struct Options {
  int rounds = 5;
  uint64_t connects = 15000;
  double rateSeconds = 3.0;
  int rateThreads = 2;
  bool programStats = false;
  bool json = false;
};

struct VariantFigures {
  const Variant* variant = nullptr;
  std::vector<double> clientNsPerConnect;  // one per round: mean over the round
  std::vector<double> cpuNsPerCycle;       // one per round: all threads, whole cycle
  std::vector<uint32_t> samples;           // every timed connect
  uint64_t attempts = 0;                   // including warm-up, for the event check
  uint64_t failures = 0;
  ConsumerReport events;
};

void addEvents(ConsumerReport& into, const ConsumerReport& from) {
  into.connectEvents += from.connectEvents;
  into.otherEvents += from.otherEvents;
  into.lostEvents += from.lostEvents;
  into.reads += from.reads;
  into.backlogAtStop += from.backlogAtStop;
  into.untracked += from.untracked;
  into.consumerCpuNs += from.consumerCpuNs;
  into.tracker.connects += from.tracker.connects;
  into.tracker.pendingOverflow += from.tracker.pendingOverflow;
}

Result<std::vector<VariantFigures>> measureCost(const Options& options, const Endpoint& endpoint,
                                                EventConsumer& consumer) {
  const std::vector<const Variant*> variants = {&kBaseline,      &kConnect4Unread,  &kConnect4Count,
                                                 &kObserverCount, &kObserverTracker, &kObserverTimed};
  std::vector<VariantFigures> figures(variants.size());
  for (size_t i = 0; i < variants.size(); ++i) {
    figures[i].variant = variants[i];
    figures[i].samples.reserve(options.connects * static_cast<uint64_t>(options.rounds));
  }

  for (int round = 0; round < options.rounds && !stopRequested.load(); ++round) {
    for (size_t k = 0; k < variants.size() && !stopRequested.load(); ++k) {
      // Each round starts with a different variant, so a slow drift during the run spreads over all.
      VariantFigures& figure = figures[(static_cast<size_t>(round) + k) % variants.size()];
      const bool attached = figure.variant->attachment != Attachment::kNone;
      if (attached) {
        if (auto status = consumer.attach(*figure.variant); !status) return status.error();
      }
      const LoopTotals warmup = connectLoop(endpoint, kWarmupConnects, nullptr);
      const uint64_t cpuStart = processCpuNs();
      const LoopTotals timed = connectLoop(endpoint, options.connects, &figure.samples);
      const uint64_t cpuNs = processCpuNs() - cpuStart;
      if (attached) {
        auto report = consumer.detach();
        if (!report) return report.error();
        addEvents(figure.events, *report);
      }
      figure.attempts += warmup.attempts + timed.attempts;
      figure.failures += warmup.failures + timed.failures;
      if (timed.attempts == 0) continue;
      figure.clientNsPerConnect.push_back(static_cast<double>(timed.clientNs) / static_cast<double>(timed.attempts));
      figure.cpuNsPerCycle.push_back(static_cast<double>(cpuNs) / static_cast<double>(timed.attempts));
    }
  }
  return figures;
}

struct RateFigures {
  const Variant* variant = nullptr;
  uint64_t attempts = 0;
  uint64_t failures = 0;
  double seconds = 0;
  double connectsPerSecond = 0;
  ConsumerReport events;
};

Result<RateFigures> measureRate(const Options& options, const std::vector<Endpoint>& endpoints,
                                EventConsumer& consumer, const Variant& variant) {
  const bool attached = variant.attachment != Attachment::kNone;
  if (attached) {
    if (auto status = consumer.attach(variant); !status) return status.error();
  }
  RateFigures figures;
  figures.variant = &variant;
  std::vector<LoopTotals> totals(static_cast<size_t>(options.rateThreads));
  const uint64_t started = nowNs();
  const uint64_t deadline = started + static_cast<uint64_t>(options.rateSeconds * 1e9);
  {
    std::vector<std::jthread> clients;
    for (size_t i = 0; i < totals.size(); ++i) {
      clients.emplace_back([&, i] { totals[i] = connectUntil(endpoints[i], deadline); });
    }
  }
  figures.seconds = static_cast<double>(nowNs() - started) / 1e9;
  if (attached) {
    auto report = consumer.detach();
    if (!report) return report.error();
    figures.events = *report;
  }
  for (const LoopTotals& total : totals) {
    figures.attempts += total.attempts;
    figures.failures += total.failures;
  }
  figures.connectsPerSecond = static_cast<double>(figures.attempts - figures.failures) / figures.seconds;
  return figures;
}

struct ProgramStatsRun {
  const Variant* variant = nullptr;
  uint64_t connects = 0;
  ConsumerReport report;
};

// With BPF statistics on (which itself slows every program down a little), where the kernel-side
// time goes: runs per connect and time per run of each program, with the ring buffer read (the
// kernel wakes the reader) and unread (no wake-ups).
Result<std::vector<ProgramStatsRun>> measureProgramStats(const Options& options, const Endpoint& endpoint,
                                                         EventConsumer& consumer) {
  Fd statsEnabled(bpf_enable_stats(BPF_STATS_RUN_TIME));  // system-wide until this fd closes
  if (!statsEnabled) return errnoError("cannot enable BPF statistics");
  std::vector<ProgramStatsRun> runs;
  for (const Variant* variant : {&kProgramStats, &kProgramStatsUnread}) {
    if (auto status = consumer.attach(*variant); !status) return status.error();
    ProgramStatsRun run{variant, connectLoop(endpoint, options.connects, nullptr).attempts, {}};
    auto report = consumer.detach();
    if (!report) return report.error();
    run.report = std::move(*report);
    runs.push_back(std::move(run));
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Reporting

struct Summary {
  std::vector<VariantFigures> cost;
  std::vector<RateFigures> rate;
  std::vector<ProgramStatsRun> programStats;
};

const VariantFigures& figuresOf(const Summary& summary, const Variant& variant) {
  for (const auto& figure : summary.cost) {
    if (figure.variant == &variant) return figure;
  }
  return summary.cost.front();
}

double perEvent(uint64_t ns, uint64_t events) { return events == 0 ? 0 : static_cast<double>(ns) / static_cast<double>(events); }
double perRead(const ConsumerReport& report) {
  return report.reads == 0 ? 0 : static_cast<double>(report.connectEvents) / static_cast<double>(report.reads);
}

double baselineRate(const Summary& summary) {
  double sum = 0;
  int count = 0;
  for (const auto& figures : summary.rate) {
    if (figures.variant != &kBaseline) continue;
    sum += figures.connectsPerSecond;
    ++count;
  }
  return count == 0 ? 0 : sum / count;
}

bool noneLost(const RateFigures& figures) {
  return figures.events.lostEvents == 0 && figures.events.connectEvents == figures.attempts;
}

nlohmann::json toJson(const Options& options, Summary& summary) {
  nlohmann::json out;
  out["kernel"] = kernelRelease();
  out["cpus"] = std::thread::hardware_concurrency();
  out["rounds"] = options.rounds;
  out["connects_per_round"] = options.connects;
  const double baseClient = median(figuresOf(summary, kBaseline).clientNsPerConnect);
  const double baseCpu = median(figuresOf(summary, kBaseline).cpuNsPerCycle);
  for (auto& figure : summary.cost) {
    nlohmann::json item;
    item["name"] = figure.variant->name;
    item["client_ns_per_connect"] = median(figure.clientNsPerConnect);
    item["client_ns_per_connect_rounds"] = figure.clientNsPerConnect;
    item["client_ns_p50"] = percentile(figure.samples, 0.50);
    item["client_ns_p99"] = percentile(figure.samples, 0.99);
    item["cpu_ns_per_cycle"] = median(figure.cpuNsPerCycle);
    item["ratio"] = median(figure.clientNsPerConnect) / baseClient;
    item["cpu_ratio"] = median(figure.cpuNsPerCycle) / baseCpu;
    item["connects"] = figure.attempts;
    item["failures"] = figure.failures;
    if (figure.variant->attachment != Attachment::kNone) {
      item["connect_events"] = figure.events.connectEvents;
      item["other_events"] = figure.events.otherEvents;
      item["lost_events"] = figure.events.lostEvents;
      item["events_per_read"] = perRead(figure.events);
      item["consumer_cpu_ns_per_event"] = perEvent(figure.events.consumerCpuNs, figure.events.connectEvents);
    }
    out["cost"][figure.variant->key] = item;
  }
  out["ratio_goal"] = kRatioGoal;
  out["rate_threads"] = options.rateThreads;
  out["rate_baseline_mean"] = baselineRate(summary);
  out["rate"] = nlohmann::json::array();
  for (const auto& figures : summary.rate) {
    nlohmann::json item;
    item["variant"] = figures.variant->key;
    item["seconds"] = figures.seconds;
    item["connects"] = figures.attempts;
    item["failures"] = figures.failures;
    item["connects_per_second"] = figures.connectsPerSecond;
    if (figures.variant->attachment != Attachment::kNone) {
      item["connect_events"] = figures.events.connectEvents;
      item["lost_events"] = figures.events.lostEvents;
      item["none_lost"] = noneLost(figures);
      item["events_per_read"] = perRead(figures.events);
      item["consumer_cpu_seconds"] = static_cast<double>(figures.events.consumerCpuNs) / 1e9;
      item["tracker_pending_overflow"] = figures.events.tracker.pendingOverflow;
      item["unread_at_stop"] = figures.events.backlogAtStop;
      item["untracked"] = figures.events.untracked;
    }
    out["rate"].push_back(item);
  }
  for (const auto& run : summary.programStats) {
    nlohmann::json item;
    item["connects"] = run.connects;
    for (const auto& stat : run.report.programStats) {
      item["programs"][stat.name] = {{"runs", stat.runs}, {"run_time_ns", stat.runTimeNs}};
    }
    out["program_stats"][run.variant->key] = item;
  }
  return out;
}

void printHuman(const Options& options, Summary& summary) {
  std::printf("connect_bench: kernel %s, %u CPUs, own netns and cgroup, client -> 127.0.0.1:443 (watched)\n",
              kernelRelease().c_str(), std::thread::hardware_concurrency());
  std::printf(
      "\nCost per connect, client side (socket+connect+close): %d rounds x %llu connects per variant, interleaved;\n"
      "median of the round means. CPU = all threads of the process per cycle, consumer and server side included.\n",
      options.rounds, static_cast<unsigned long long>(options.connects));
  std::printf("  %-30s %9s %6s %7s %7s %8s %6s %16s %5s %7s %9s\n", "variant", "client us", "ratio", "p50 us", "p99 us",
              "CPU us", "ratio", "events/connects", "lost", "ev/read", "us/event");
  const double baseClient = median(figuresOf(summary, kBaseline).clientNsPerConnect);
  const double baseCpu = median(figuresOf(summary, kBaseline).cpuNsPerCycle);
  for (auto& figure : summary.cost) {
    const double client = median(figure.clientNsPerConnect);
    const double cpu = median(figure.cpuNsPerCycle);
    std::printf("  %-30s %9.2f %6.3f %7.2f %7.2f %8.2f %6.3f", figure.variant->name, client / 1000, client / baseClient,
                percentile(figure.samples, 0.50) / 1000, percentile(figure.samples, 0.99) / 1000, cpu / 1000,
                cpu / baseCpu);
    if (figure.variant->attachment == Attachment::kNone) {
      std::printf("\n");
      continue;
    }
    const std::string events = std::to_string(figure.events.connectEvents) + "/" + std::to_string(figure.attempts);
    std::printf(" %16s %5llu %7.1f %9.2f\n", events.c_str(), static_cast<unsigned long long>(figure.events.lostEvents),
                perRead(figure.events), perEvent(figure.events.consumerCpuNs, figure.events.connectEvents) / 1000);
  }
  for (const Variant* variant : {&kObserverTracker, &kObserverTimed}) {
    const double ratio = median(figuresOf(summary, *variant).clientNsPerConnect) / baseClient;
    std::printf("  goal: ratio <= %.2f for \"%s\": %.3f, %s\n", kRatioGoal, variant->name, ratio,
                ratio <= kRatioGoal ? "met" : "MISSED");
  }

  if (!summary.rate.empty()) {
    std::printf("\nHighest connect rate: %d client threads, %.1f s per variant\n", options.rateThreads,
                options.rateSeconds);
    const double baseRate = baselineRate(summary);
    std::printf("  (ratios against the mean of the two baseline runs, %.0f connects/s)\n", baseRate);
    for (const auto& figures : summary.rate) {
      std::printf("  %-30s %9.0f connects/s (%.3f of baseline)\n", figures.variant->name, figures.connectsPerSecond,
                  figures.connectsPerSecond / baseRate);
      if (figures.variant->attachment == Attachment::kNone) continue;
      const ConsumerReport& events = figures.events;
      std::printf("      events %llu/%llu, lost %llu: %s; unread when the clients stopped %llu; %.1f events/read;\n"
                  "      consumer CPU %.2f s; FlowTracker overflow %llu, events left untracked %llu\n",
                  static_cast<unsigned long long>(events.connectEvents),
                  static_cast<unsigned long long>(figures.attempts),
                  static_cast<unsigned long long>(events.lostEvents), noneLost(figures) ? "none lost" : "LOST",
                  static_cast<unsigned long long>(events.backlogAtStop), perRead(events),
                  static_cast<double>(events.consumerCpuNs) / 1e9,
                  static_cast<unsigned long long>(events.tracker.pendingOverflow),
                  static_cast<unsigned long long>(events.untracked));
    }
  }

  if (summary.programStats.size() == 2) {
    const ProgramStatsRun& read = summary.programStats[0];
    const ProgramStatsRun& unread = summary.programStats[1];
    std::printf("\nKernel time per program, BPF statistics on, %llu connects each; ring buffer read / unread:\n",
                static_cast<unsigned long long>(read.connects));
    std::printf("  %-20s %10s %14s %14s\n", "program", "runs/conn", "ns/run", "ns/connect");
    auto nsPerRun = [](const ProgramStat& stat) {
      return stat.runs == 0 ? 0.0 : static_cast<double>(stat.runTimeNs) / static_cast<double>(stat.runs);
    };
    for (size_t i = 0; i < read.report.programStats.size() && i < unread.report.programStats.size(); ++i) {
      const ProgramStat& withReader = read.report.programStats[i];
      const ProgramStat& withoutReader = unread.report.programStats[i];
      if (withReader.runs == 0 && withoutReader.runs == 0) continue;
      std::printf("  %-20s %10.2f %6.0f / %5.0f %6.0f / %5.0f\n", withReader.name.c_str(),
                  static_cast<double>(withReader.runs) / static_cast<double>(read.connects), nsPerRun(withReader),
                  nsPerRun(withoutReader), static_cast<double>(withReader.runTimeNs) / static_cast<double>(read.connects),
                  static_cast<double>(withoutReader.runTimeNs) / static_cast<double>(unread.connects));
    }
  }

  uint64_t failures = 0;
  for (const auto& figure : summary.cost) failures += figure.failures;
  for (const auto& figures : summary.rate) failures += figures.failures;
  if (failures != 0) std::printf("\nwarning: %llu connect cycles failed\n", static_cast<unsigned long long>(failures));
}

int run(const Options& options) {
  if (::geteuid() != 0) {
    benchMessage("needs root (it loads BPF programs and creates a cgroup)");
    return 1;
  }
  auto fail = [](const Error& error) {
    benchMessage(error.describe());
    return 1;
  };
  routeLibbpfLog(false);
  if (auto support = checkKernelSupport(); !support) return fail(support.error());
  // Before any thread: unshare() only moves the calling thread.
  if (auto entered = enterBenchWorld(); !entered) return fail(entered.error());
  installStopHandlers();

  std::vector<Endpoint> endpoints;
  for (int i = 0; i < options.rateThreads; ++i) {
    auto endpoint = listenOn(i);
    if (!endpoint) return fail(endpoint.error());
    endpoints.push_back(std::move(*endpoint));
  }

  auto catalog = Catalog::load(Catalog::defaultShippedFile(), {});
  if (!catalog) return fail(catalog.error());
  auto cgroup2Root = findCgroup2Mount();
  if (!cgroup2Root) return fail(cgroup2Root.error());
  auto cgroup = test::TestCgroup::create("connect-bench");
  if (!cgroup) return fail(cgroup.error());
  // After the listeners, so the server side stays outside the observed cgroup; out again before the
  // cgroup is removed.
  auto membership = CgroupMembership::join(*cgroup);
  if (!membership) return fail(membership.error());

  ConsumerSetup setup;
  setup.catalog = &*catalog;
  setup.cgroup2Root = *cgroup2Root;
  setup.cgroupPath = cgroup->path();
  setup.cgroupId = cgroup->id();
  // The ports shadowai-scan watches, and 443 whatever the catalog says: the benchmark needs events.
  setup.watchedPorts = catalog->ports();
  setup.watchedPorts.push_back(kDnsPort);
  setup.watchedPorts.push_back(kWatchedPort);

  Summary summary;
  {
    EventConsumer consumer(setup);  // its thread ends before the cgroup is removed
    auto cost = measureCost(options, endpoints[0], consumer);
    if (!cost) return fail(cost.error());
    summary.cost = std::move(*cost);
    // The baseline runs first and last: the machine's own rate drifts with whatever else runs on it.
    for (const Variant* variant : {&kBaseline, &kObserverTracker, &kObserverTimed, &kObserverTimedCount, &kBaseline}) {
      if (stopRequested.load()) break;
      auto rate = measureRate(options, endpoints, consumer, *variant);
      if (!rate) return fail(rate.error());
      summary.rate.push_back(std::move(*rate));
    }
    if (options.programStats && !stopRequested.load()) {
      auto stats = measureProgramStats(options, endpoints[0], consumer);
      if (!stats) return fail(stats.error());
      summary.programStats = std::move(*stats);
    }
  }
  if (stopRequested.load()) {
    benchMessage("interrupted");
    return 130;
  }
  printReport(
      options.json, [&] { return toJson(options, summary); }, [&] { printHuman(options, summary); });
  return 0;
}

}  // namespace
}  // namespace shadowai::bench

int main(int argc, char** argv) {
  shadowai::bench::Options options;
  CLI::App app{"Cost of connect() with and without the shadowai observation programs (root only)"};
  app.add_option("--rounds", options.rounds, "interleaved rounds for the ratio")->check(CLI::Range(1, 15));
  // At most what the 4 MiB ring holds (about 35,000 connect events) with the warm-up: the "unread"
  // variant must not lose events, and the run must stay short.
  app.add_option("--connects", options.connects, "timed connects per variant per round")
      ->check(CLI::Range(uint64_t{100}, uint64_t{30'000}));
  app.add_option("--rate-seconds", options.rateSeconds, "length of each rate measurement")->check(CLI::Range(0.5, 10.0));
  app.add_option("--rate-threads", options.rateThreads, "client threads for the rate measurement")
      ->check(CLI::Range(1, 16));
  app.add_flag("--program-stats", options.programStats,
               "also turn on BPF statistics (system-wide, briefly) and show the kernel time per program");
  app.add_flag("--json", options.json, "print the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  shadowai::bench::benchName() = "connect_bench";
  const int status = shadowai::bench::run(options);  // its world is down when it returns
  shadowai::test::leaveTestScratch();
  return status;
}
