// DetectionAlerts without a kernel: what a user finds in the journal for what detection saw (a
// call to a provider, a key in an environment, a refused QUIC flow), and that each is said once.
#include "daemon/detection_alerts.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "recording_alert_sink.h"
#include "support/workload_process.h"

namespace shadowai {
namespace {

ProcessIdentity reportsJob(int pid) {
  return test::serviceProcess(pid, "reports.service", 1002, "reports", "node", "/usr/bin/node");
}

class DetectionAlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = test::loadShippedCatalog();
    ASSERT_TRUE(catalog) << catalog.error().describe();
    catalog_.emplace(std::move(*catalog));
    alerts_.emplace(*catalog_, sink_, [this](uint32_t pid, uint64_t) {
      ++lookups_;
      return reportsJob(static_cast<int>(pid));
    });
  }

  Detection openAiCall(Transport transport = Transport::kTcp) const {
    Detection detection;
    detection.process = reportsJob(321);
    detection.remote = *IpAddress::parse("192.0.2.10");
    detection.port = 443;
    detection.transport = transport;
    auto match = catalog_->matchHost("api.openai.com", 443);
    EXPECT_TRUE(match);
    detection.classification = Classification{*match, MatchMethod::kSni, "api.openai.com"};
    return detection;
  }

  std::optional<Catalog> catalog_;
  RecordingAlertSink sink_;
  std::optional<DetectionAlerts> alerts_;
  int lookups_ = 0;
};

TEST_F(DetectionAlertsTest, CallIsAlertedOncePerCallerAndCall) {
  const Detection call = openAiCall();
  EXPECT_TRUE(alerts_->isFirstSighting(call));
  alerts_->callDetected(call);
  EXPECT_FALSE(alerts_->isFirstSighting(call)) << "the same caller and call again";
  EXPECT_TRUE(alerts_->isFirstSighting(openAiCall(Transport::kQuic))) << "the same call over QUIC is news";
  Detection otherProgram = call;
  otherProgram.process.exe = "/usr/bin/curl";
  EXPECT_TRUE(alerts_->isFirstSighting(otherProgram));

  auto entries = sink_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "llm-call-detected");
  EXPECT_EQ(entries[0]["MESSAGE"], "reports.service (/usr/bin/node) calls OpenAI at api.openai.com");
  EXPECT_EQ(entries[0]["SHADOWAI_PROVIDER"], "openai");
  EXPECT_EQ(entries[0]["SHADOWAI_HOST"], "api.openai.com");
  EXPECT_EQ(entries[0]["SHADOWAI_MATCH"], "sni");
  EXPECT_EQ(entries[0]["SHADOWAI_ADDRESS"], "192.0.2.10");
  EXPECT_EQ(entries[0]["SHADOWAI_PORT"], "443");
  EXPECT_EQ(entries[0]["SHADOWAI_PROTOCOL"], "tcp");
  EXPECT_EQ(entries[0]["SHADOWAI_UNIT"], "reports.service");
  EXPECT_EQ(entries[0]["SHADOWAI_PID"], "321");
  EXPECT_EQ(entries[0]["SHADOWAI_USER"], "reports");
}

TEST_F(DetectionAlertsTest, KeyInAnEnvironmentIsAlertedOnceWhileItsProcessLives) {
  const EnvKeyFinding key{555, "OPENAI_API_KEY", keyFingerprint("sk-proj-not-a-real-key")};
  alerts_->envKeysFound({key});
  alerts_->envKeysFound({key});  // an exec, then a call: read twice
  alerts_->envScanFinished({key});

  auto entries = sink_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "env-key-detected");
  EXPECT_EQ(entries[0]["MESSAGE"], "process 555 (/usr/bin/node) holds OPENAI_API_KEY in its environment");
  EXPECT_EQ(entries[0]["SHADOWAI_VARIABLE"], "OPENAI_API_KEY");
  EXPECT_EQ(entries[0]["SHADOWAI_FINGERPRINT"], key.fingerprint);
  EXPECT_EQ(entries[0]["SHADOWAI_PROVIDER"], "openai");
  EXPECT_EQ(entries[0]["SHADOWAI_PID"], "555");
  EXPECT_EQ(entries[0]["SHADOWAI_UNIT"], "reports.service");
  for (const auto& [name, value] : entries[0]) {
    EXPECT_EQ(value.find("sk-proj-not-a-real-key"), std::string::npos) << name << " holds the key";
  }
  EXPECT_EQ(lookups_, 1) << "/proc is read only for a key not alerted yet";
}

TEST_F(DetectionAlertsTest, KeyIsAlertedAgainOnceAScanNoLongerFoundItsProcess) {
  const EnvKeyFinding key{555, "OPENAI_API_KEY", keyFingerprint("sk-proj-not-a-real-key")};
  alerts_->envScanFinished({key});
  alerts_->envScanFinished({});     // the process is gone
  alerts_->envScanFinished({key});  // a new process with the same pid and key
  EXPECT_EQ(sink_.entries().size(), 2u);
}

TEST_F(DetectionAlertsTest, RefusedQuicNamesTheHostWhenOneIsKnown) {
  alerts_->quicRefused(reportsJob(321), *IpAddress::parse("192.0.2.10"), std::string("api.openai.com"));
  alerts_->quicRefused(reportsJob(321), *IpAddress::parse("198.51.100.1"), std::nullopt);

  auto entries = sink_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "quic-refused");
  EXPECT_EQ(entries[0]["SHADOWAI_ACTION"], "refused");
  EXPECT_EQ(entries[0]["SHADOWAI_PROTOCOL"], "quic");
  EXPECT_EQ(entries[0]["SHADOWAI_PORT"], "443");
  EXPECT_EQ(entries[0]["SHADOWAI_HOST"], "api.openai.com");
  EXPECT_EQ(entries[0]["SHADOWAI_UNIT"], "reports.service");
  EXPECT_EQ(entries[0]["MESSAGE"],
            "refused QUIC (UDP/443) to api.openai.com from an enforced workload; it will fall back to TCP through "
            "the proxy");
  EXPECT_EQ(entries[1].count("SHADOWAI_HOST"), 0u);
  EXPECT_EQ(entries[1]["SHADOWAI_ADDRESS"], "198.51.100.1");
  EXPECT_EQ(entries[1]["MESSAGE"],
            "refused QUIC (UDP/443) to 198.51.100.1 from an enforced workload; it will fall back to TCP through the "
            "proxy");
}

}  // namespace
}  // namespace shadowai
