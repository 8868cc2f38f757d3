// FlowTracker: turns raw observation events into Detections.
//
// A TCP connect is held until its ClientHello shows up (joined by socket cookie) or a short wait
// passes, because the SNI is the strongest evidence and alone decides when present: a connect to
// an address a catalog host shares (CDN) is not an LLM call if its SNI names another host. Flows
// without an SNI fall back to names learned from DNS answers, then to catalog pre-resolution
// (see classifyFlow). UDP to catalog ports (QUIC) is classified at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "bpf/observer.h"
#include "catalog/catalog.h"
#include "observe/address_names.h"
#include "observe/detection.h"

namespace shadowai {

struct FlowTrackerCounters {
  uint64_t connects = 0;          // TCP connects seen to watched ports
  uint64_t datagramFlows = 0;     // distinct UDP (socket, destination) pairs to watched ports
  uint64_t dnsQueries = 0;        // connect/sendmsg to port 53
  uint64_t tlsHellos = 0;
  uint64_t tlsHellosWithoutName = 0;  // no SNI, or not parseable within the captured bytes
  uint64_t httpRequests = 0;      // plain HTTP request heads (no TLS) on watched ports
  uint64_t dnsAnswers = 0;
  uint64_t dnsAnswersUnparsed = 0;
  uint64_t detections = 0;
  uint64_t nonCatalogFlows = 0;   // classified and found not to be LLM calls
  uint64_t pendingOverflow = 0;   // flows decided early because too many were waiting
};

class FlowTracker {
 public:
  using Clock = std::chrono::steady_clock;
  using Attributor = std::function<ProcessIdentity(const shadowai_event_header&)>;
  using DetectionSink = std::function<void(const Detection&)>;

  struct Options {
    std::chrono::milliseconds sniWait{2000};
    size_t maxPending = 65536;
  };

  FlowTracker(const Catalog& catalog, AddressNames& dnsNames, const AddressNames& resolvedNames,
              Attributor attributor, DetectionSink sink, Options options);

  void onEvent(const RawEvent& event, Clock::time_point now = Clock::now());
  // Decides flows whose ClientHello did not come within the wait.
  void expire(Clock::time_point now = Clock::now());
  // Decides every waiting flow (end of a scan).
  void flush();

  const FlowTrackerCounters& counters() const { return counters_; }
  size_t pendingCount() const { return pending_.size(); }

 private:
  struct PendingFlow {
    ProcessIdentity process;
    IpAddress remote;
    uint16_t port = 0;
    uint64_t timestampNs = 0;
    Clock::time_point deadline;
    bool redirected = false;  // shadowaid's enforce mode sent it to its proxy (SHADOWAI_EVF_REDIRECTED)
  };

  void onConnect(const shadowai_event_header& header, Clock::time_point now);
  void onDatagram(const shadowai_event_header& header);
  void onTlsHello(const RawEvent& event);
  void onHttpRequest(const RawEvent& event);
  // A TCP stream's first bytes named its destination (SNI, or Host without TLS): decide its flow.
  void onStreamStart(const shadowai_event_header& header, const std::string* sni, const std::string* httpHost);
  void onDnsAnswer(const RawEvent& event, Clock::time_point now);
  void decide(const PendingFlow& flow, Transport transport, const std::string* sni,
              const std::string* httpHost = nullptr);
  // Decides (without SNI) the pending flow at the front of deadlines_ if it is due by NOW (or
  // unconditionally when NOW is nullopt). False when none was.
  bool decideFront(std::optional<Clock::time_point> now);
  void rememberDecided(uint64_t cookie);
  std::chrono::system_clock::time_point wallClockOf(uint64_t monotonicNs) const;

  const Catalog& catalog_;
  AddressNames& dnsNames_;
  const AddressNames& resolvedNames_;
  Attributor attributor_;
  DetectionSink sink_;
  Options options_;
  FlowTrackerCounters counters_;
  std::unordered_map<uint64_t, PendingFlow> pending_;  // by socket cookie
  // (deadline, cookie) in arrival order. Every flow waits the same time, so deadlines come due in
  // this order: expiry and overflow take from the front instead of scanning pending_. Entries of
  // flows decided early stay until they reach the front and are skipped there.
  std::deque<std::pair<Clock::time_point, uint64_t>> deadlines_;
  // Cookies already decided, so a retransmitted ClientHello is not a second call.
  std::unordered_set<uint64_t> decided_;
  std::deque<uint64_t> decidedOrder_;
  // (cookie, destination) of UDP flows already reported.
  std::unordered_set<std::string> datagramFlows_;
};

}  // namespace shadowai
