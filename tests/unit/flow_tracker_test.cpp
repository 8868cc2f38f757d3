// FlowTracker's decisions without the kernel: events are built the way the BPF programs emit
// them, ClientHellos are real bytes from OpenSSL, DNS answers are wire-format responses.
#include "observe/flow_tracker.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstring>

#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCatalog = R"({
  "schema": 1,
  "endpoints": [
    {"id": "openai", "name": "OpenAI", "apiFamily": "openai-chat", "hosts": ["api.openai.com"],
     "envKeys": ["OPENAI_API_KEY"]},
    {"id": "mistral", "name": "Mistral", "apiFamily": "openai-chat", "hosts": ["api.mistral.ai"],
     "envKeys": []},
    {"id": "ollama", "name": "Ollama", "apiFamily": "ollama", "category": "local", "hosts": ["*"],
     "ports": [11434], "envKeys": []}
  ]
})";

std::vector<uint8_t> clientHelloFor(const std::string& serverName) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SslPtr ssl(SSL_new(ctx.get()));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both BIOs now
  if (!serverName.empty()) SSL_set_tlsext_host_name(ssl.get(), serverName.c_str());
  SSL_set_connect_state(ssl.get());
  SSL_do_handshake(ssl.get());  // writes the ClientHello, then wants to read
  std::vector<uint8_t> bytes(static_cast<size_t>(BIO_ctrl_pending(out)));
  BIO_read(out, bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

// A DNS response: QUESTION -> CNAME -> TARGET A ADDRESS (or no CNAME when alias is empty).
std::vector<uint8_t> dnsResponse(const std::string& question, const std::string& target, const uint8_t address[4],
                                 uint32_t ttl) {
  auto name = [](const std::string& dotted) {
    std::vector<uint8_t> out;
    size_t start = 0;
    while (start <= dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string::npos) dot = dotted.size();
      out.push_back(static_cast<uint8_t>(dot - start));
      out.insert(out.end(), dotted.begin() + static_cast<long>(start), dotted.begin() + static_cast<long>(dot));
      start = dot + 1;
    }
    out.push_back(0);
    return out;
  };
  auto u16 = [](std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x));
  };
  auto u32 = [&](std::vector<uint8_t>& v, uint32_t x) {
    u16(v, static_cast<uint16_t>(x >> 16));
    u16(v, static_cast<uint16_t>(x));
  };
  const bool cname = target != question;
  std::vector<uint8_t> msg;
  u16(msg, 0x1234);
  u16(msg, 0x8180);  // response, recursion desired/available, no error
  u16(msg, 1);
  u16(msg, cname ? 2 : 1);
  u16(msg, 0);
  u16(msg, 0);
  auto q = name(question);
  msg.insert(msg.end(), q.begin(), q.end());
  u16(msg, 1);
  u16(msg, 1);
  if (cname) {
    msg.insert(msg.end(), q.begin(), q.end());
    u16(msg, 5);
    u16(msg, 1);
    u32(msg, ttl);
    auto t = name(target);
    u16(msg, static_cast<uint16_t>(t.size()));
    msg.insert(msg.end(), t.begin(), t.end());
  }
  auto owner = name(target);
  msg.insert(msg.end(), owner.begin(), owner.end());
  u16(msg, 1);
  u16(msg, 1);
  u32(msg, ttl);
  u16(msg, 4);
  msg.insert(msg.end(), address, address + 4);
  return msg;
}

class FlowTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = Catalog::parse(kCatalog, "test-catalog");
    ASSERT_TRUE(catalog) << catalog.error().describe();
    catalog_ = std::make_unique<Catalog>(std::move(*catalog));
    FlowTracker::Options options;
    options.sniWait = 2s;
    options.maxPending = 4;
    tracker_ = std::make_unique<FlowTracker>(
        *catalog_, dnsNames_, resolvedNames_,
        [](const shadowai_event_header& header) {
          ProcessIdentity identity;
          identity.pid = static_cast<int>(header.pid);
          identity.comm = header.comm;
          identity.cgroupId = header.cgroup_id;
          return identity;
        },
        [this](const Detection& detection) { detections_.push_back(detection); }, options);
  }

  static shadowai_event_header header(uint32_t kind, uint32_t proto, uint64_t cookie, const char* ip, uint16_t port) {
    shadowai_event_header h{};
    h.kind = kind;
    h.proto = proto;
    h.socket_cookie = cookie;
    h.pid = 4242;
    h.cgroup_id = 77;
    std::strncpy(h.comm, "python3", sizeof(h.comm) - 1);
    auto address = IpAddress::parse(ip);
    EXPECT_TRUE(address);
    std::memcpy(h.remote.addr, address->bytes().data(), 16);
    h.remote.port = port;
    return h;
  }

  void connect(uint64_t cookie, const char* ip, uint16_t port = 443, FlowTracker::Clock::time_point now = start_) {
    auto h = header(SHADOWAI_EV_CONNECT, SHADOWAI_PROTO_TCP, cookie, ip, port);
    tracker_->onEvent(RawEvent{&h, {}, 0}, now);
  }

  void hello(uint64_t cookie, const char* ip, const std::string& sni) {
    auto bytes = clientHelloFor(sni);
    ASSERT_FALSE(bytes.empty());
    auto h = header(SHADOWAI_EV_TLS_HELLO, SHADOWAI_PROTO_TCP, cookie, ip, 443);
    h.pid = 0;  // skb programs know no task
    tracker_->onEvent(RawEvent{&h, bytes, static_cast<uint32_t>(bytes.size())}, start_);
  }

  void dnsAnswer(const std::string& question, const std::string& target, const uint8_t address[4]) {
    auto bytes = dnsResponse(question, target, address, 300);
    auto h = header(SHADOWAI_EV_DNS_ANSWER, SHADOWAI_PROTO_UDP, 9, "127.0.0.53", 53);
    tracker_->onEvent(RawEvent{&h, bytes, static_cast<uint32_t>(bytes.size())}, start_);
  }

  static inline const FlowTracker::Clock::time_point start_ = FlowTracker::Clock::now();
  std::unique_ptr<Catalog> catalog_;
  AddressNames dnsNames_;
  AddressNames resolvedNames_;
  std::unique_ptr<FlowTracker> tracker_;
  std::vector<Detection> detections_;
};

TEST_F(FlowTrackerTest, SniDecidesAndCarriesTheConnectingProcess) {
  connect(1, "10.1.1.1");
  EXPECT_TRUE(detections_.empty()) << "decided before the ClientHello";
  hello(1, "10.1.1.1", "api.openai.com");
  ASSERT_EQ(detections_.size(), 1u);
  const auto& detection = detections_[0];
  EXPECT_EQ(detection.classification.match.entry->providerId, "openai");
  EXPECT_EQ(detection.classification.method, MatchMethod::kSni);
  EXPECT_EQ(detection.process.pid, 4242) << "the connect's task, not the skb's empty one";
  EXPECT_EQ(detection.remote, *IpAddress::parse("10.1.1.1"));
  EXPECT_EQ(detection.transport, Transport::kTcp);
  EXPECT_EQ(tracker_->pendingCount(), 0u);
}

TEST_F(FlowTrackerTest, NonCatalogSniOnSharedAddressIsNotAnLlmCall) {
  resolvedNames_.learn(*IpAddress::parse("10.1.1.1"), {"api.openai.com"}, 300, start_);
  connect(1, "10.1.1.1");
  hello(1, "10.1.1.1", "static.example-cdn.net");
  tracker_->flush();
  EXPECT_TRUE(detections_.empty());
  EXPECT_EQ(tracker_->counters().nonCatalogFlows, 1u);
}

TEST_F(FlowTrackerTest, WithoutSniFallsBackToDnsThroughCnameThenToResolvedAddress) {
  const uint8_t mistral[4] = {10, 2, 2, 2};
  dnsAnswer("llm.corp.example", "api.mistral.ai", mistral);
  resolvedNames_.learn(*IpAddress::parse("10.3.3.3"), {"api.openai.com"}, 300, start_);
  connect(1, "10.2.2.2");
  connect(2, "10.3.3.3");
  connect(3, "10.4.4.4");  // nothing known about it
  tracker_->expire(start_ + 1s);
  EXPECT_TRUE(detections_.empty()) << "decided before the SNI wait ran out";
  tracker_->expire(start_ + 3s);
  ASSERT_EQ(detections_.size(), 2u);
  std::map<std::string, MatchMethod> byProvider;
  for (const auto& d : detections_) byProvider[d.classification.match.entry->providerId] = d.classification.method;
  EXPECT_EQ(byProvider.at("mistral"), MatchMethod::kDns);
  EXPECT_EQ(byProvider.at("openai"), MatchMethod::kIp);
  EXPECT_EQ(tracker_->counters().nonCatalogFlows, 1u);
  EXPECT_EQ(tracker_->counters().dnsAnswers, 1u);
}

TEST_F(FlowTrackerTest, RetransmittedHelloIsNotASecondCall) {
  connect(1, "10.1.1.1");
  hello(1, "10.1.1.1", "api.openai.com");
  hello(1, "10.1.1.1", "api.openai.com");
  EXPECT_EQ(detections_.size(), 1u);
}

TEST_F(FlowTrackerTest, HelloWithoutConnectStillCounts) {
  hello(5, "10.1.1.1", "api.openai.com");  // connection opened before the programs were attached
  ASSERT_EQ(detections_.size(), 1u);
  EXPECT_EQ(detections_[0].process.pid, 0);
  EXPECT_EQ(detections_[0].process.cgroupId, 77u);
}

TEST_F(FlowTrackerTest, DatagramsFromOneSocketAreOneQuicFlow) {
  resolvedNames_.learn(*IpAddress::parse("10.1.1.1"), {"api.openai.com"}, 300, start_);
  for (int i = 0; i < 5; ++i) {
    auto h = header(SHADOWAI_EV_SENDMSG, SHADOWAI_PROTO_UDP, 8, "10.1.1.1", 443);
    tracker_->onEvent(RawEvent{&h, {}, 0}, start_);
  }
  ASSERT_EQ(detections_.size(), 1u);
  EXPECT_EQ(detections_[0].transport, Transport::kQuic);
  EXPECT_EQ(tracker_->counters().datagramFlows, 1u);
}

TEST_F(FlowTrackerTest, DnsQueriesAreCountedNotClassified) {
  auto h = header(SHADOWAI_EV_SENDMSG, SHADOWAI_PROTO_UDP, 8, "127.0.0.53", 53);
  tracker_->onEvent(RawEvent{&h, {}, 0}, start_);
  EXPECT_EQ(tracker_->counters().dnsQueries, 1u);
  EXPECT_TRUE(detections_.empty());
}

TEST_F(FlowTrackerTest, LocalServerMatchedByPort) {
  connect(1, "127.0.0.1", 11434);
  tracker_->flush();
  ASSERT_EQ(detections_.size(), 1u);
  EXPECT_EQ(detections_[0].classification.match.entry->providerId, "ollama");
  EXPECT_EQ(detections_[0].classification.method, MatchMethod::kPort);
}

TEST_F(FlowTrackerTest, PendingFlowsAreBoundedAndNoneIsLost) {
  resolvedNames_.learn(*IpAddress::parse("10.3.3.3"), {"api.openai.com"}, 300, start_);
  for (uint64_t cookie = 1; cookie <= 10; ++cookie) connect(cookie, "10.3.3.3");
  EXPECT_LE(tracker_->pendingCount(), 4u);
  EXPECT_EQ(tracker_->counters().pendingOverflow, 6u);
  tracker_->flush();
  EXPECT_EQ(detections_.size(), 10u) << "a flow decided early must still be reported";
}

TEST_F(FlowTrackerTest, UnparseableDnsAnswerIsCounted) {
  std::vector<uint8_t> garbage = {0x12, 0x34, 0x81};
  auto h = header(SHADOWAI_EV_DNS_ANSWER, SHADOWAI_PROTO_UDP, 9, "127.0.0.53", 53);
  tracker_->onEvent(RawEvent{&h, garbage, 3}, start_);
  EXPECT_EQ(tracker_->counters().dnsAnswersUnparsed, 1u);
}

}  // namespace
}  // namespace shadowai
