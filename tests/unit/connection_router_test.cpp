// ConnectionRouter without a kernel or root (as Katran tests its balancer logic): the verdict the
// proxy gets for each kind of enforced connection, the InterceptTarget an intercepted call carries,
// and the journal entry a user reviews for each connection that is passed through or refused.
#include "daemon/connection_router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "intercept/intercept_target.h"
#include "recording_alert_sink.h"
#include "support/workload_process.h"

namespace shadowai {
namespace {

constexpr uint32_t kWorkloadPid = 4242;
constexpr uint64_t kWorkloadCgroupId = 777;

IpAddress address(const char* text) { return *IpAddress::parse(text); }

std::string fieldOf(const AlertFields& fields, AlertField field) {
  const std::string* value = fields.find(field);
  return value ? *value : "(not set)";
}

// The workload every test connection comes from, as /proc would name it.
ProcessIdentity billingEtl(uint32_t pid, uint64_t cgroupId) {
  ProcessIdentity process =
      test::serviceProcess(static_cast<int>(pid), "billing-etl.service", 1001, "etl", "python3", "/usr/bin/python3.11");
  process.cgroupId = cgroupId;
  return process;
}

class ConnectionRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = test::loadShippedCatalog();
    ASSERT_TRUE(catalog) << catalog.error().describe();
    catalog_.emplace(std::move(*catalog));
    // What DNS answers on the wire said: the workload resolved api.openai.com to this address.
    dnsNames_.learn(address("192.0.2.10"), {"api.openai.com"}, 300);
  }

  ConnectionRouter& router(NoSniCatalogAddressAction noSni = NoSniCatalogAddressAction::kAlert,
                           bool interceptionEnabled = true) {
    ConnectionRouterSettings settings;
    settings.noSniCatalogAddress = noSni;
    settings.interceptionEnabled = interceptionEnabled;
    router_.emplace(*catalog_, dnsNames_, resolvedNames_, settings, alerts_, billingEtl);
    return *router_;
  }

  static ConnectionFacts tlsTo(const char* destination, std::optional<std::string> sni, uint16_t port = 443) {
    ConnectionFacts facts;
    facts.destination = OriginalDestination{address(destination), port, kWorkloadCgroupId, kWorkloadPid, nullptr};
    facts.clientAddress = address("10.0.0.5");
    facts.clientPort = 40000;
    facts.isTls = true;
    facts.helloStatus = ClientHelloStatus::kOk;
    facts.sni = std::move(sni);
    return facts;
  }

  static ConnectionFacts plainHttpTo(const char* destination, std::string host) {
    ConnectionFacts facts = tlsTo(destination, std::nullopt, 80);
    facts.isTls = false;
    facts.helloStatus = ClientHelloStatus::kNotTls;
    facts.httpHost = std::move(host);
    return facts;
  }

  std::optional<Catalog> catalog_;
  AddressNames dnsNames_;
  AddressNames resolvedNames_;
  RecordingAlertSink alerts_;
  std::optional<ConnectionRouter> router_;
};

TEST_F(ConnectionRouterTest, CatalogSniIsInterceptedWithTheProviderAndTheWorkloadForThePolicy) {
  ConnectionDecision decision = router().decide(tlsTo("203.0.113.7", "api.openai.com"));

  ASSERT_EQ(decision.verdict, ConnectionVerdict::kIntercept);
  ASSERT_NE(decision.target, nullptr);
  const InterceptTarget& target = *decision.target;
  EXPECT_EQ(target.providerId, "openai");
  EXPECT_EQ(target.providerName, "OpenAI");
  EXPECT_EQ(target.apiFamily, "openai-chat");
  EXPECT_EQ(target.host, "api.openai.com");
  EXPECT_EQ(target.cgroupPath, "/system.slice/billing-etl.service");
  EXPECT_EQ(target.unitName, "billing-etl.service");
  // What policy selectors match on.
  EXPECT_EQ(target.workload.unit, "billing-etl.service");
  EXPECT_EQ(target.workload.uid, 1001u);
  EXPECT_EQ(target.workload.user, "etl");
  EXPECT_EQ(target.workload.exe, "/usr/bin/python3.11");
  EXPECT_TRUE(target.workload.containerId.empty());
  // The start of every alert about the calls on this connection.
  EXPECT_EQ(fieldOf(target.alertFields, AlertField::kMatch), "sni");
  EXPECT_EQ(fieldOf(target.alertFields, AlertField::kAddress), "203.0.113.7");
  EXPECT_EQ(fieldOf(target.alertFields, AlertField::kUnit), "billing-etl.service");
  // The interception writes the call's own record; routing it is no news.
  EXPECT_TRUE(alerts_.entries().empty());
  EXPECT_EQ(router_->passedThroughCalls(), 0u);
}

TEST_F(ConnectionRouterTest, ContainerWorkloadIsNamedByRuntimeAndIdForThePolicy) {
  ConnectionRouterSettings settings;
  router_.emplace(*catalog_, dnsNames_, resolvedNames_, settings, alerts_, [](uint32_t pid, uint64_t cgroupId) {
    ProcessIdentity process = billingEtl(pid, cgroupId);
    process.cgroupPath = "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope";
    return process;
  });
  ConnectionDecision decision = router_->decide(tlsTo("203.0.113.7", "api.openai.com"));
  ASSERT_EQ(decision.verdict, ConnectionVerdict::kIntercept);
  EXPECT_EQ(decision.target->workload.containerId,
            "docker:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

TEST_F(ConnectionRouterTest, WithInterceptionOffALlmCallIsSplicedAndAlertedAsPassedThrough) {
  ConnectionDecision decision =
      router(NoSniCatalogAddressAction::kAlert, /*interceptionEnabled=*/false).decide(tlsTo("203.0.113.7", "api.openai.com"));

  // The real decision, not an interception the proxy has to turn into a splice.
  EXPECT_EQ(decision.verdict, ConnectionVerdict::kSplice);
  EXPECT_EQ(decision.target, nullptr);
  EXPECT_EQ(router_->passedThroughCalls(), 1u);
  auto entries = alerts_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "llm-call-passed-through");
  EXPECT_EQ(entries[0]["MESSAGE_ID"], "6b6b5aa1ff1144c2bc68a2ddcbab515e");
  EXPECT_EQ(entries[0]["SHADOWAI_ACTION"], "passed");
  EXPECT_EQ(entries[0]["SHADOWAI_PROVIDER"], "openai");
  EXPECT_EQ(entries[0]["SHADOWAI_HOST"], "api.openai.com");
  EXPECT_EQ(entries[0]["SHADOWAI_MATCH"], "sni");
  EXPECT_EQ(entries[0]["SHADOWAI_ADDRESS"], "203.0.113.7");
  EXPECT_EQ(entries[0]["SHADOWAI_PORT"], "443");
  EXPECT_EQ(entries[0]["SHADOWAI_PROTOCOL"], "tcp");
  EXPECT_EQ(entries[0]["SHADOWAI_UNIT"], "billing-etl.service");
  EXPECT_EQ(entries[0]["SHADOWAI_CGROUP"], "/system.slice/billing-etl.service");
  EXPECT_EQ(entries[0]["SHADOWAI_PID"], "4242");
  EXPECT_EQ(entries[0]["SHADOWAI_EXE"], "/usr/bin/python3.11");
  EXPECT_EQ(entries[0]["MESSAGE"],
            "enforced workload called OpenAI at api.openai.com; passed through (interception is disabled)");
}

TEST_F(ConnectionRouterTest, NonCatalogSniIsSplicedSilentlyEvenOnAnAddressDnsGaveForAProvider) {
  // A CDN address shared with api.openai.com: the SNI alone says this is not an LLM call.
  EXPECT_EQ(router().decide(tlsTo("192.0.2.10", "www.example.com")).verdict, ConnectionVerdict::kSplice);
  EXPECT_EQ(router_->decide(tlsTo("198.51.100.1", "www.example.com")).verdict, ConnectionVerdict::kSplice);
  EXPECT_EQ(router_->decide(tlsTo("198.51.100.1", std::nullopt)).verdict, ConnectionVerdict::kSplice);
  EXPECT_TRUE(alerts_.entries().empty());
}

TEST_F(ConnectionRouterTest, NoSniToAProviderAddressIsPassedWithAnAlertByDefault) {
  EXPECT_EQ(router().decide(tlsTo("192.0.2.10", std::nullopt)).verdict, ConnectionVerdict::kSplice);

  auto entries = alerts_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "no-sni-catalog-address");
  EXPECT_EQ(entries[0]["SHADOWAI_ACTION"], "passed");
  EXPECT_EQ(entries[0]["SHADOWAI_MATCH"], "dns");
  EXPECT_EQ(entries[0]["SHADOWAI_HOST"], "api.openai.com");
  EXPECT_EQ(entries[0]["SHADOWAI_ADDRESS"], "192.0.2.10");
  EXPECT_EQ(entries[0]["SHADOWAI_UNIT"], "billing-etl.service");
  EXPECT_EQ(entries[0]["MESSAGE"], "enforced connection without SNI to 192.0.2.10 (api.openai.com); passed through");
}

TEST_F(ConnectionRouterTest, NoSniToAProviderAddressIsRefusedWhenConfigured) {
  EXPECT_EQ(router(NoSniCatalogAddressAction::kRefuse).decide(tlsTo("192.0.2.10", std::nullopt)).verdict,
            ConnectionVerdict::kRefuse);

  auto entries = alerts_.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "no-sni-catalog-address");
  EXPECT_EQ(entries[0]["SHADOWAI_ACTION"], "refused");
  EXPECT_EQ(entries[0]["MESSAGE"], "enforced connection without SNI to 192.0.2.10 (api.openai.com); refused");
}

TEST_F(ConnectionRouterTest, PlainHttpToAProviderIsNamedByItsHostHeaderWhateverTheAddress) {
  EXPECT_EQ(router(NoSniCatalogAddressAction::kRefuse).decide(plainHttpTo("198.51.100.1", "api.openai.com")).verdict,
            ConnectionVerdict::kRefuse);
  EXPECT_EQ(router(NoSniCatalogAddressAction::kAlert).decide(plainHttpTo("198.51.100.1", "api.openai.com")).verdict,
            ConnectionVerdict::kSplice);
  // Any other plain HTTP is none of ours.
  EXPECT_EQ(router_->decide(plainHttpTo("198.51.100.1", "www.example.com")).verdict, ConnectionVerdict::kSplice);

  auto entries = alerts_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["SHADOWAI_ALERT"], "no-sni-catalog-address");
  EXPECT_EQ(entries[0]["SHADOWAI_ACTION"], "refused");
  EXPECT_EQ(entries[0]["SHADOWAI_PROTOCOL"], "http");
  EXPECT_EQ(entries[0]["SHADOWAI_MATCH"], "http-host");
  EXPECT_EQ(entries[0]["SHADOWAI_HOST"], "api.openai.com");
  EXPECT_EQ(entries[0]["SHADOWAI_PORT"], "80");
  EXPECT_EQ(entries[0]["MESSAGE"], "enforced plain-HTTP call (no TLS) to api.openai.com at 198.51.100.1:80; refused");
  EXPECT_EQ(entries[1]["SHADOWAI_ACTION"], "passed");
  EXPECT_EQ(entries[1]["MESSAGE"],
            "enforced plain-HTTP call (no TLS) to api.openai.com at 198.51.100.1:80; passed through unmasked");
}

TEST_F(ConnectionRouterTest, ConnectsEarlyOnlyWhereTheVerdictCannotBeARefusalOrAnInterception) {
  ConnectionRouter& routes = router();
  const OriginalDestination unknown{address("198.51.100.1"), 443, kWorkloadCgroupId, kWorkloadPid, nullptr};
  const OriginalDestination provider{address("192.0.2.10"), 443, kWorkloadCgroupId, kWorkloadPid, nullptr};
  const OriginalDestination sniOnly{address("203.0.113.7"), 443, kWorkloadCgroupId, kWorkloadPid, nullptr};
  EXPECT_TRUE(routes.mayConnectEarly(unknown));
  EXPECT_FALSE(routes.mayConnectEarly(provider)) << "an address the catalog names may be refused";
  EXPECT_TRUE(routes.mayConnectEarly(sniOnly));

  // Once an address served an intercepted call, its connections wait for the verdict too.
  ASSERT_EQ(routes.decide(tlsTo("203.0.113.7", "api.openai.com")).verdict, ConnectionVerdict::kIntercept);
  EXPECT_FALSE(routes.mayConnectEarly(sniOnly));
  EXPECT_TRUE(routes.mayConnectEarly(unknown));
}

}  // namespace
}  // namespace shadowai
