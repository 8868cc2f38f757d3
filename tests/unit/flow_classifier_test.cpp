#include "catalog/flow_classifier.h"

#include <gtest/gtest.h>

#include <cstring>

namespace shadowai {
namespace {

Catalog testCatalog() {
  auto catalog = Catalog::parse(R"({
    "schema": 1,
    "endpoints": [
      {"id": "openai", "name": "OpenAI", "apiFamily": "openai-chat", "hosts": ["api.openai.com"]},
      {"id": "anthropic", "name": "Anthropic", "apiFamily": "anthropic-messages", "hosts": ["api.anthropic.com"]},
      {"id": "azure-openai", "name": "Azure OpenAI", "apiFamily": "azure-openai", "hosts": ["*.openai.azure.com"]},
      {"id": "gateway", "name": "Gateway", "apiFamily": "openai-chat", "hosts": ["gw.example.com"], "ports": [11434]},
      {"id": "ollama", "name": "Ollama", "apiFamily": "ollama", "category": "local", "hosts": ["*"], "ports": [11434]}
    ]})",
                                "test.json");
  if (!catalog) ADD_FAILURE() << catalog.error().describe();
  return catalog ? std::move(catalog).value() : Catalog();
}

class FlowClassifierTest : public testing::Test {
 protected:
  std::optional<Classification> classify(const FlowEvidence& evidence) { return classifyFlow(catalog_, evidence); }

  Catalog catalog_ = testCatalog();
};

TEST_F(FlowClassifierTest, SniBeatsDnsAndPreResolution) {
  FlowEvidence evidence{.sni = "api.anthropic.com",
                        .dnsNames = {"api.openai.com"},
                        .resolvedNames = {"api.openai.com"},
                        .port = 443};
  auto result = classify(evidence);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kSni);
  EXPECT_EQ(result->match.entry->providerId, "anthropic");
  EXPECT_EQ(result->host, "api.anthropic.com");
  EXPECT_EQ(result->match.pattern, "api.anthropic.com");
}

TEST_F(FlowClassifierTest, DnsBeatsPreResolution) {
  FlowEvidence evidence{.dnsNames = {"api.anthropic.com"}, .resolvedNames = {"api.openai.com"}, .port = 443};
  auto result = classify(evidence);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kDns);
  EXPECT_EQ(result->match.entry->providerId, "anthropic");
}

TEST_F(FlowClassifierTest, PreResolutionWhenNothingElseNamesTheAddress) {
  FlowEvidence evidence{.dnsNames = {"edge.cdn.example.net"}, .resolvedNames = {"api.openai.com"}, .port = 443};
  auto result = classify(evidence);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kIp);
  EXPECT_EQ(result->match.entry->providerId, "openai");
  EXPECT_EQ(result->host, "api.openai.com");
}

TEST_F(FlowClassifierTest, HostEvidenceBeatsPortOnly) {
  FlowEvidence evidence{.resolvedNames = {"gw.example.com"}, .port = 11434};
  auto result = classify(evidence);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kIp);
  EXPECT_EQ(result->match.entry->providerId, "gateway");
}

TEST_F(FlowClassifierTest, LocalServerByPortAlone) {
  auto result = classify(FlowEvidence{.port = 11434});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kPort);
  EXPECT_EQ(result->match.entry->providerId, "ollama");
  EXPECT_EQ(result->match.pattern, "*");
  EXPECT_EQ(result->host, "");
}

// A CDN address serves many names; the ClientHello says which one this connection wants.
TEST_F(FlowClassifierTest, NonCatalogSniOnSharedAddressIsNotAnLlmCall) {
  FlowEvidence evidence{.sni = "static.shop.example", .resolvedNames = {"api.openai.com"}, .port = 443};
  EXPECT_FALSE(classify(evidence));
  evidence.dnsNames = {"api.openai.com"};
  EXPECT_FALSE(classify(evidence));
}

TEST_F(FlowClassifierTest, NonCatalogSniStillAllowsALocalServer) {
  auto result = classify(FlowEvidence{.sni = "ollama.lan", .port = 11434});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kPort);
  EXPECT_EQ(result->match.entry->providerId, "ollama");
}

TEST_F(FlowClassifierTest, EmptySniCountsAsNoSni) {
  auto result = classify(FlowEvidence{.sni = "", .dnsNames = {"api.openai.com"}, .port = 443});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kDns);
}

TEST_F(FlowClassifierTest, AnyNameOfACnameChainMatches) {
  FlowEvidence evidence{
      .dnsNames = {"myres.privatelink.example.net", "myres.openai.azure.com", "azure-edge.trafficmanager.example"},
      .port = 443};
  auto result = classify(evidence);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kDns);
  EXPECT_EQ(result->match.entry->providerId, "azure-openai");
  EXPECT_EQ(result->match.pattern, "*.openai.azure.com");
  EXPECT_EQ(result->host, "myres.openai.azure.com");
}

TEST_F(FlowClassifierTest, PortMustMatchForEveryMethod) {
  EXPECT_FALSE(classify(FlowEvidence{.sni = "api.openai.com", .port = 80}));
  EXPECT_FALSE(classify(FlowEvidence{.dnsNames = {"api.openai.com"}, .port = 80}));
  EXPECT_FALSE(classify(FlowEvidence{.resolvedNames = {"api.openai.com"}, .port = 80}));
}

TEST_F(FlowClassifierTest, NoEvidenceNoMatch) {
  EXPECT_FALSE(classify(FlowEvidence{}));
  EXPECT_FALSE(classify(FlowEvidence{.port = 443}));
  EXPECT_FALSE(classify(FlowEvidence{.dnsNames = {"www.example.com"}, .port = 443}));
}

// Without TLS, a request's Host decides as an SNI would: a non-catalog Host on a catalog address is
// not an LLM call, a catalog Host on any address is.
TEST_F(FlowClassifierTest, PlainHttpHostDecidesLikeAnSni) {
  auto result = classify(FlowEvidence{.httpHost = "api.openai.com", .port = 80});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->method, MatchMethod::kHttpHost);
  EXPECT_EQ(result->host, "api.openai.com");
  EXPECT_FALSE(classify(FlowEvidence{.httpHost = "www.example.com", .dnsNames = {"api.openai.com"}, .port = 80}));
}

TEST(MatchMethod, Names) {
  EXPECT_STREQ(toString(MatchMethod::kHttpHost), "http-host");
  EXPECT_STREQ(toString(MatchMethod::kSni), "sni");
  EXPECT_STREQ(toString(MatchMethod::kDns), "dns");
  EXPECT_STREQ(toString(MatchMethod::kIp), "ip");
  EXPECT_STREQ(toString(MatchMethod::kPort), "port");
}

}  // namespace
}  // namespace shadowai
