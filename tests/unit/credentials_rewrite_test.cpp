#include "credentials/credential_rewrite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "observe/env_keys.h"

namespace shadowai {
namespace {

namespace http = boost::beast::http;
using ::testing::HasSubstr;
using ::testing::Not;

const SecretString kManagedKey("sk-managed-REALKEY-0123456789");

http::request<http::string_body> requestTo(const std::string& target) {
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, "api.example.com");
  request.set(http::field::content_type, "application/json");
  return request;
}

std::string serialized(const http::request<http::string_body>& request) {
  std::ostringstream out;
  out << request.base();
  return out.str();
}

std::vector<std::string> wheres(const StrippedCredentials& stripped) {
  std::vector<std::string> result;
  for (const auto& credential : stripped.found) result.push_back(credential.where);
  return result;
}

TEST(CredentialRewrite, StripsEveryCredentialHeaderInAnyCaseAndNumber) {
  auto request = requestTo("/v1/chat/completions");
  request.insert("AUTHORIZATION", "Bearer sk-client-one");
  request.insert("authorization", "Bearer sk-client-two");
  request.insert("X-Api-Key", "sk-ant-client");
  request.insert("API-KEY", "azure-client");
  request.insert("x-goog-api-key", " AIza-client ");
  request.insert("Proxy-Authorization", "Basic dXNlcjpwYXNz");
  request.insert("x-request-id", "keep-me");
  StrippedCredentials stripped = stripClientCredentials(request);
  EXPECT_EQ(wheres(stripped), (std::vector<std::string>{"authorization header", "authorization header",
                                                        "proxy-authorization header", "x-api-key header",
                                                        "api-key header", "x-goog-api-key header"}));
  EXPECT_EQ(stripped.found[0].fingerprint, keyFingerprint("sk-client-one"));
  EXPECT_EQ(stripped.found[1].fingerprint, keyFingerprint("sk-client-two"));
  EXPECT_EQ(stripped.found[2].fingerprint, keyFingerprint("dXNlcjpwYXNz"));
  EXPECT_EQ(stripped.found[5].fingerprint, keyFingerprint("AIza-client"));
  EXPECT_EQ(stripped.firstFingerprint(), keyFingerprint("sk-client-one"));
  EXPECT_TRUE(stripped.clientSentCredential());
  std::string wire = serialized(request);
  EXPECT_THAT(wire, Not(HasSubstr("client")));
  EXPECT_THAT(wire, Not(HasSubstr("dXNlcjpwYXNz")));
  EXPECT_THAT(wire, HasSubstr("x-request-id: keep-me"));
  EXPECT_THAT(wire, HasSubstr("Host: api.example.com"));
}

TEST(CredentialRewrite, NothingToStripIsReportedAsSuch) {
  auto request = requestTo("/v1/messages?beta=true");
  StrippedCredentials stripped = stripClientCredentials(request);
  EXPECT_FALSE(stripped.clientSentCredential());
  EXPECT_EQ(stripped.firstFingerprint(), "");
  EXPECT_EQ(request.target(), "/v1/messages?beta=true");
}

std::string strippedTarget(const std::string& target, std::vector<ClientCredential>* found = nullptr) {
  http::fields fields;
  std::string rewritten = target;
  StrippedCredentials stripped = stripClientCredentials(fields, rewritten);
  if (found != nullptr) *found = stripped.found;
  return rewritten;
}

TEST(CredentialRewrite, StripsTheKeyQueryParameterWhereverItIs) {
  const std::string path = "/v1beta/models/gemini-pro:streamGenerateContent";
  std::vector<ClientCredential> found;
  EXPECT_EQ(strippedTarget(path + "?key=AIza-first&alt=sse&x=1", &found), path + "?alt=sse&x=1");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].where, "key query parameter");
  EXPECT_EQ(found[0].fingerprint, keyFingerprint("AIza-first"));
  EXPECT_EQ(strippedTarget(path + "?alt=sse&key=AIza-mid&x=1"), path + "?alt=sse&x=1");
  EXPECT_EQ(strippedTarget(path + "?alt=sse&x=1&key=AIza-last"), path + "?alt=sse&x=1");
  EXPECT_EQ(strippedTarget(path + "?key=AIza-only"), path);
  EXPECT_EQ(strippedTarget(path + "?key="), path);
  EXPECT_EQ(strippedTarget(path + "?key"), path);
  EXPECT_EQ(strippedTarget(path + "?key=a&key=b&alt=sse", &found), path + "?alt=sse");
  EXPECT_EQ(found.size(), 2u);
  EXPECT_EQ(strippedTarget(path + "?access_token=ya29.token&alt=sse"), path + "?alt=sse");
}

TEST(CredentialRewrite, QueryParameterNamesAreDecodedBeforeComparing) {
  std::vector<ClientCredential> found;
  // %6B = 'k', %65 = 'e': servers decode names, so these are all "key".
  EXPECT_EQ(strippedTarget("/m?%6Bey=AIza%2Dx&alt=sse", &found), "/m?alt=sse");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].fingerprint, keyFingerprint("AIza-x"));  // the decoded value
  EXPECT_EQ(strippedTarget("/m?alt=sse&k%65y=AIza"), "/m?alt=sse");
  EXPECT_EQ(strippedTarget("/m?KEY=AIza&alt=sse"), "/m?alt=sse");
  EXPECT_EQ(strippedTarget("/m?access%5Ftoken=ya29"), "/m");
  // Other parameters keep their exact spelling, encoded or not, and their order.
  EXPECT_EQ(strippedTarget("/m?q=a%20b&key=x&name=caf%C3%A9&flag&z=1+2"), "/m?q=a%20b&name=caf%C3%A9&flag&z=1+2");
  // Look-alikes are not credentials.
  EXPECT_EQ(strippedTarget("/m?keys=1&monkey=2&key%25=3&api_key_hint=4"), "/m?keys=1&monkey=2&key%25=3&api_key_hint=4");
  EXPECT_EQ(strippedTarget("/m?a=1&&key=x&"), "/m?a=1&&");
  EXPECT_EQ(strippedTarget("/path/key=x"), "/path/key=x");
}

// A target that is not valid RFC 3986 (here a malformed %-escape, which a server could read either
// way) cannot be told apart, so its whole query goes; the session refuses such a request anyway.
TEST(CredentialRewrite, MalformedTargetLosesItsWholeQuery) {
  std::vector<ClientCredential> found;
  EXPECT_EQ(strippedTarget("/m?alt=sse&ke%y=AIza-x", &found), "/m");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].fingerprint, "");
  EXPECT_EQ(strippedTarget("/m|x?key=AIza-x"), "/m|x");
}

TEST(CredentialRewrite, InjectsTheManagedKeyTheProvidersWay) {
  struct Case {
    const char* family;
    const char* header;
    std::string value;
  };
  const std::string key(kManagedKey.reveal());
  for (const Case& c : {Case{"openai-chat", "Authorization", "Bearer " + key},
                        Case{"cohere", "Authorization", "Bearer " + key},
                        Case{"azure-openai", "api-key", key}, Case{"azure-ai-inference", "api-key", key},
                        Case{"anthropic-messages", "x-api-key", key}, Case{"gemini", "x-goog-api-key", key}}) {
    auto request = requestTo("/v1/endpoint?key=AIza-client&alt=sse");
    request.insert(http::field::authorization, "Bearer sk-placeholder");
    request.insert("x-api-key", "placeholder");
    request.insert("api-key", "placeholder");
    request.insert("x-goog-api-key", "placeholder");
    auto stripped = replaceClientCredentials(request, c.family, kManagedKey);
    ASSERT_TRUE(stripped) << c.family << ": " << stripped.error().describe();
    EXPECT_EQ(stripped->found.size(), 5u) << c.family;
    EXPECT_EQ(request.target(), "/v1/endpoint?alt=sse") << c.family;
    // Exactly one credential header goes upstream: the managed one.
    size_t credentialHeaders = 0;
    for (const auto& field : request) {
      std::string name(field.name_string());
      if (name == "Authorization" || name == "x-api-key" || name == "api-key" || name == "x-goog-api-key") {
        ++credentialHeaders;
        EXPECT_EQ(name, c.header) << c.family;
        EXPECT_EQ(field.value(), c.value) << c.family;
      }
    }
    EXPECT_EQ(credentialHeaders, 1u) << c.family;
    EXPECT_THAT(serialized(request), Not(HasSubstr("placeholder"))) << c.family;
  }
}

TEST(CredentialRewrite, FamiliesWithoutAStaticKeyAreRefusedUntouched) {
  for (const char* family : {"bedrock", "watsonx", "no-such-family"}) {
    auto request = requestTo("/model/x/invoke?key=client");
    request.insert(http::field::authorization, "AWS4-HMAC-SHA256 Credential=client");
    auto stripped = replaceClientCredentials(request, family, kManagedKey);
    ASSERT_FALSE(stripped) << family;
    EXPECT_THAT(stripped.error().describe(), HasSubstr(family));
    EXPECT_THAT(stripped.error().describe(), Not(HasSubstr("REALKEY")));
    EXPECT_EQ(request.target(), "/model/x/invoke?key=client");
    EXPECT_EQ(request[http::field::authorization], "AWS4-HMAC-SHA256 Credential=client");
  }
  EXPECT_EQ(credentialPlacementFor("openai-chat"), CredentialPlacement::kAuthorizationBearer);
  EXPECT_EQ(credentialPlacementFor("gemini"), CredentialPlacement::kGoogApiKeyHeader);
  EXPECT_EQ(credentialPlacementFor("bedrock"), std::nullopt);
}

TEST(CredentialRewrite, ClientKeyFingerprintsNeverCarryTheKey) {
  auto request = requestTo("/v1/chat/completions");
  request.insert(http::field::authorization, "Bearer sk-client-SECRETPART-123");
  auto stripped = replaceClientCredentials(request, "openai-chat", kManagedKey);
  ASSERT_TRUE(stripped);
  for (const ClientCredential& credential : stripped->found) {
    EXPECT_THAT(credential.where + credential.fingerprint, Not(HasSubstr("SECRETPART")));
    EXPECT_THAT(credential.fingerprint, ::testing::MatchesRegex("sha256:[0-9a-f]{12}"));
  }
}

}  // namespace
}  // namespace shadowai
