// Refusals shaped exactly like each provider's own errors, so SDKs raise their usual API error.
#include <gtest/gtest.h>

#include "providers/provider_adapter.h"

namespace shadowai {
namespace {

TEST(ProviderErrorsTest, OpenAiShape) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  EXPECT_EQ(adapter->errorBody(403, "shadowai refused this call: rule no-pii"),
            R"({"error":{"code":"shadowai_refused","message":"shadowai refused this call: rule no-pii","type":"permission_error"}})");
  EXPECT_EQ(adapter->errorBody(413, "too big"),
            R"({"error":{"code":"shadowai_refused","message":"too big","type":"invalid_request_error"}})");
  EXPECT_EQ(adapter->errorBody(502, "upstream certificate rejected"),
            R"({"error":{"code":"shadowai_refused","message":"upstream certificate rejected","type":"server_error"}})");
  EXPECT_EQ(adapter->errorContentType(), "application/json");
}

TEST(ProviderErrorsTest, AnthropicShape) {
  auto adapter = adapterFor("anthropic-messages", "api.anthropic.com", "POST", "/v1/messages");
  EXPECT_EQ(adapter->errorBody(403, "blocked"),
            R"({"error":{"message":"blocked","type":"permission_error"},"type":"error"})");
  EXPECT_EQ(adapter->errorBody(413, "too big"),
            R"({"error":{"message":"too big","type":"request_too_large"},"type":"error"})");
  EXPECT_EQ(adapter->errorBody(504, "timeout"), R"({"error":{"message":"timeout","type":"api_error"},"type":"error"})");
}

TEST(ProviderErrorsTest, GeminiShape) {
  auto adapter = adapterFor("gemini", "generativelanguage.googleapis.com", "POST", "/v1beta/models/m:generateContent");
  EXPECT_EQ(adapter->errorBody(403, "blocked"), R"({"error":{"code":403,"message":"blocked","status":"PERMISSION_DENIED"}})");
  EXPECT_EQ(adapter->errorBody(504, "slow"), R"({"error":{"code":504,"message":"slow","status":"DEADLINE_EXCEEDED"}})");
  EXPECT_EQ(adapter->errorBody(502, "bad"), R"({"error":{"code":502,"message":"bad","status":"UNAVAILABLE"}})");
}

TEST(ProviderErrorsTest, UnknownApisKeepTheirFamilysShape) {
  auto anthropic = adapterFor("anthropic-messages", "", "POST", "/v1/messages/batches");
  EXPECT_EQ(anthropic->api(), ApiKind::kUnknown);
  EXPECT_EQ(anthropic->errorShape(), ErrorShape::kAnthropic);
  EXPECT_EQ(adapterFor("vertex-ai", "", "GET", "/v1/x")->errorShape(), ErrorShape::kGemini);
  EXPECT_EQ(adapterFor("cohere", "api.cohere.com", "POST", "/v2/chat")->errorShape(), ErrorShape::kOpenAi);
}

TEST(ProviderErrorsTest, MessagesAreEscapedAndInvalidUtf8Replaced) {
  auto adapter = adapterFor("openai-chat", "", "POST", "/v1/chat/completions");
  std::string body = adapter->errorBody(403, "quote \" backslash \\ newline \n bad \xFF end");
  auto json = nlohmann::json::parse(body);
  EXPECT_EQ(json["error"]["message"], "quote \" backslash \\ newline \n bad \xEF\xBF\xBD end");
}

TEST(ProviderErrorsTest, UnknownAdapterParsesNothingAndNeverFails) {
  auto adapter = adapterFor("replicate", "api.replicate.com", "POST", "/v1/predictions");
  ASSERT_EQ(adapter->api(), ApiKind::kUnknown);
  auto request = adapter->parseRequest("/v1/predictions", "not json at all");
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(request->prompt.empty());
  EXPECT_EQ(apiKindName(request->api), "unknown");
  EXPECT_EQ(apiKindName(ApiKind::kGeminiGenerate), "gemini-generate");
}

}  // namespace
}  // namespace shadowai
