#include "observe/flow_tracker.h"

#include "net/http_request_host.h"

#include <time.h>

#include "net/client_hello.h"
#include "net/dns_message.h"

namespace shadowai {
namespace {

constexpr uint16_t kDnsPort = 53;
constexpr uint16_t kQuicPort = 443;
// Cookies remembered as decided; old ones fall out first. Retransmitted ClientHellos arrive within
// a few round trips, so a modest window is plenty.
constexpr size_t kDecidedWindow = 65536;
constexpr size_t kDatagramFlowLimit = 262144;

IpAddress addressOf(const shadowai_addr& address) {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), address.addr, 16);
  return IpAddress(bytes);
}

}  // namespace

const char* toString(Transport transport) {
  switch (transport) {
    case Transport::kTcp: return "tcp";
    case Transport::kQuic: return "quic";
    case Transport::kUdp: return "udp";
  }
  return "unknown";
}

FlowTracker::FlowTracker(const Catalog& catalog, AddressNames& dnsNames, const AddressNames& resolvedNames,
                         Attributor attributor, DetectionSink sink, Options options)
    : catalog_(catalog),
      dnsNames_(dnsNames),
      resolvedNames_(resolvedNames),
      attributor_(std::move(attributor)),
      sink_(std::move(sink)),
      options_(options) {}

void FlowTracker::onEvent(const RawEvent& event, Clock::time_point now) {
  const auto& header = *event.header;
  switch (header.kind) {
    case SHADOWAI_EV_CONNECT:
    case SHADOWAI_EV_SENDMSG:
      if (header.remote.port == kDnsPort) {
        ++counters_.dnsQueries;
      } else if (header.proto == SHADOWAI_PROTO_TCP) {
        onConnect(header, now);
      } else if (header.proto == SHADOWAI_PROTO_UDP) {
        onDatagram(header);
      }
      break;
    case SHADOWAI_EV_TLS_HELLO:
      onTlsHello(event);
      break;
    case SHADOWAI_EV_HTTP_REQUEST:
      onHttpRequest(event);
      break;
    case SHADOWAI_EV_DNS_ANSWER:
      onDnsAnswer(event, now);
      break;
    default:
      break;
  }
}

void FlowTracker::onConnect(const shadowai_event_header& header, Clock::time_point now) {
  ++counters_.connects;
  if (pending_.size() >= options_.maxPending) {
    // Decide the flow closest to its deadline rather than grow without bound.
    ++counters_.pendingOverflow;
    decideFront(std::nullopt);
  }
  PendingFlow flow;
  // Read /proc now, while a short-lived client is most likely still there.
  flow.process = attributor_(header);
  flow.remote = addressOf(header.remote);
  flow.port = header.remote.port;
  flow.timestampNs = header.timestamp_ns;
  flow.redirected = (header.flags & SHADOWAI_EVF_REDIRECTED) != 0;
  flow.deadline = now + options_.sniWait;
  deadlines_.emplace_back(flow.deadline, header.socket_cookie);
  pending_[header.socket_cookie] = std::move(flow);
}

void FlowTracker::onDatagram(const shadowai_event_header& header) {
  // An unconnected socket reports every datagram; count each (socket, destination) once.
  std::string key = std::to_string(header.socket_cookie) + "|" +
                    formatEndpoint(addressOf(header.remote), header.remote.port);
  if (datagramFlows_.size() >= kDatagramFlowLimit) datagramFlows_.clear();
  if (!datagramFlows_.insert(std::move(key)).second) return;
  ++counters_.datagramFlows;
  PendingFlow flow;
  flow.process = attributor_(header);
  flow.remote = addressOf(header.remote);
  flow.port = header.remote.port;
  flow.timestampNs = header.timestamp_ns;
  decide(flow, header.remote.port == kQuicPort ? Transport::kQuic : Transport::kUdp, nullptr);
}

void FlowTracker::onTlsHello(const RawEvent& event) {
  ++counters_.tlsHellos;
  ClientHelloInfo hello = parseClientHello(event.payload);
  const std::string* sni = hello.serverName.empty() ? nullptr : &hello.serverName;
  if (!sni) ++counters_.tlsHellosWithoutName;
  onStreamStart(*event.header, sni, nullptr);
}

void FlowTracker::onHttpRequest(const RawEvent& event) {
  ++counters_.httpRequests;
  auto host = httpRequestHost(event.payload);
  onStreamStart(*event.header, nullptr, host ? &*host : nullptr);
}

void FlowTracker::onStreamStart(const shadowai_event_header& header, const std::string* sni,
                                const std::string* httpHost) {
  auto it = pending_.find(header.socket_cookie);
  if (it != pending_.end()) {
    decide(it->second, Transport::kTcp, sni, httpHost);
    pending_.erase(it);
    rememberDecided(header.socket_cookie);
    return;
  }
  if (decided_.count(header.socket_cookie)) return;  // retransmission, or decided by timeout
  // A connection whose connect we did not see (made before we attached): the skb carries the
  // cgroup and the socket's uid but no task.
  PendingFlow flow;
  flow.process = attributor_(header);
  flow.remote = addressOf(header.remote);
  flow.port = header.remote.port;
  flow.timestampNs = header.timestamp_ns;
  decide(flow, Transport::kTcp, sni, httpHost);
  rememberDecided(header.socket_cookie);
}

void FlowTracker::onDnsAnswer(const RawEvent& event, Clock::time_point now) {
  ++counters_.dnsAnswers;
  auto message = parseDnsMessage(event.payload);
  if (!message) {
    ++counters_.dnsAnswersUnparsed;
    return;
  }
  for (const auto& learned : learnedAddresses(*message)) {
    dnsNames_.learn(learned.address, learned.names, learned.ttl, now);
  }
}

void FlowTracker::expire(Clock::time_point now) {
  while (decideFront(now)) {
  }
}

bool FlowTracker::decideFront(std::optional<Clock::time_point> now) {
  while (!deadlines_.empty()) {
    const auto [deadline, cookie] = deadlines_.front();
    if (now && deadline > *now) return false;
    deadlines_.pop_front();
    auto it = pending_.find(cookie);
    // Decided already (its ClientHello came), or replaced by a later connect on the same socket.
    if (it == pending_.end() || it->second.deadline != deadline) continue;
    decide(it->second, Transport::kTcp, nullptr);
    rememberDecided(cookie);
    pending_.erase(it);
    return true;
  }
  return false;
}

void FlowTracker::flush() {
  for (const auto& [cookie, flow] : pending_) {
    decide(flow, Transport::kTcp, nullptr);
    rememberDecided(cookie);
  }
  pending_.clear();
  deadlines_.clear();
}

void FlowTracker::decide(const PendingFlow& flow, Transport transport, const std::string* sni,
                         const std::string* httpHost) {
  FlowEvidence evidence;
  if (sni) evidence.sni = *sni;
  if (httpHost) evidence.httpHost = *httpHost;
  evidence.dnsNames = dnsNames_.namesOf(flow.remote);
  evidence.resolvedNames = resolvedNames_.namesOf(flow.remote);
  evidence.port = flow.port;
  auto classification = classifyFlow(catalog_, evidence);
  if (!classification) {
    ++counters_.nonCatalogFlows;
    return;
  }
  ++counters_.detections;
  Detection detection;
  detection.process = flow.process;
  detection.remote = flow.remote;
  detection.port = flow.port;
  detection.transport = transport;
  detection.redirected = flow.redirected;
  detection.classification = std::move(*classification);
  detection.when = wallClockOf(flow.timestampNs);
  sink_(detection);
}

void FlowTracker::rememberDecided(uint64_t cookie) {
  if (!decided_.insert(cookie).second) return;
  decidedOrder_.push_back(cookie);
  if (decidedOrder_.size() > kDecidedWindow) {
    decided_.erase(decidedOrder_.front());
    decidedOrder_.pop_front();
  }
}

std::chrono::system_clock::time_point FlowTracker::wallClockOf(uint64_t monotonicNs) const {
  const auto wallNow = std::chrono::system_clock::now();
  if (monotonicNs == 0) return wallNow;
  timespec monotonic{};
  clock_gettime(CLOCK_MONOTONIC, &monotonic);
  const int64_t nowNs = int64_t{monotonic.tv_sec} * 1'000'000'000 + monotonic.tv_nsec;
  const int64_t ageNs = nowNs - static_cast<int64_t>(monotonicNs);
  return wallNow - std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ageNs));
}

}  // namespace shadowai
