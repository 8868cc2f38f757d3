// Gemini generateContent / streamGenerateContent. Bodies follow the Gemini API reference.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "providers/gemini_adapter.h"
#include "providers/sse_parser.h"

namespace shadowai {
namespace {

void expectSegmentsResolve(std::string_view body, const std::vector<TextSegment>& segments) {
  auto json = nlohmann::json::parse(body);
  for (const auto& segment : segments) {
    ASSERT_TRUE(json.contains(segment.location)) << segment.location.to_string();
    EXPECT_EQ(json.at(segment.location), segment.text) << segment.location.to_string();
  }
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs rolesAndTexts(const std::vector<TextSegment>& segments) {
  Pairs out;
  for (const auto& segment : segments) out.emplace_back(segment.role, segment.text);
  return out;
}

constexpr std::string_view kStreamTarget = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";

constexpr std::string_view kRequest = R"({
  "system_instruction": {"parts": [{"text": "You are a cat. Your name is Neko."}]},
  "contents": [
    {"role": "user", "parts": [{"text": "Hello there"}, {"inline_data": {"mime_type": "image/jpeg", "data": "/9j/4AAQ"}}]},
    {"role": "model", "parts": [{"functionCall": {"name": "find_theaters", "args": {"location": "Mountain View, CA", "movie": "Barbie"}}}]},
    {"role": "user", "parts": [{"functionResponse": {"name": "find_theaters", "response": {"name": "find_theaters",
      "content": {"movie": "Barbie", "theaters": [{"name": "AMC Mountain View 16", "address": "2000 W El Camino Real"}]}}}}]},
    {"parts": [{"text": "Which one is closest?"}]}
  ],
  "generationConfig": {"temperature": 1.0, "maxOutputTokens": 800}
})";

TEST(ProviderGeminiTest, RequestSegmentsAndLocations) {
  auto adapter = adapterFor("gemini", "generativelanguage.googleapis.com", "POST", kStreamTarget);
  ASSERT_EQ(adapter->api(), ApiKind::kGeminiGenerate);
  auto request = adapter->parseRequest(kStreamTarget, kRequest);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(request->model, "gemini-2.0-flash");
  EXPECT_TRUE(request->streaming);
  EXPECT_EQ(rolesAndTexts(request->prompt), (Pairs{{"system", "You are a cat. Your name is Neko."},
                                                   {"user", "Hello there"},
                                                   {"assistant", "Mountain View, CA"},
                                                   {"assistant", "Barbie"},
                                                   // nlohmann orders object members by name
                                                   {"tool", "Barbie"},
                                                   {"tool", "2000 W El Camino Real"},
                                                   {"tool", "AMC Mountain View 16"},
                                                   {"tool", "find_theaters"},
                                                   {"user", "Which one is closest?"}}));
  EXPECT_EQ(request->prompt[0].location.to_string(), "/system_instruction/parts/0/text");
  expectSegmentsResolve(kRequest, request->prompt);
}

TEST(ProviderGeminiTest, CamelCaseSystemInstructionAndNonStreaming) {
  constexpr std::string_view kTarget = "/v1beta/models/gemini-2.5-pro:generateContent";
  constexpr std::string_view kBody =
      R"({"systemInstruction":{"role":"system","parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})";
  auto request = adapterFor("gemini", "", "POST", kTarget)->parseRequest(kTarget, kBody);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->model, "gemini-2.5-pro");
  EXPECT_FALSE(request->streaming);
  EXPECT_EQ(rolesAndTexts(request->prompt), (Pairs{{"system", "Be brief."}, {"user", "Hi"}}));
  expectSegmentsResolve(kBody, request->prompt);
}

constexpr std::string_view kResponse = R"({
  "candidates": [{"content": {"parts": [{"text": "Meow! I am Neko.", "thought": false},
      {"functionCall": {"name": "purr", "args": {"volume": "loud"}}}], "role": "model"},
    "finishReason": "STOP", "avgLogprobs": -0.0929}],
  "usageMetadata": {"promptTokenCount": 14, "candidatesTokenCount": 8, "totalTokenCount": 22, "thoughtsTokenCount": 4},
  "modelVersion": "gemini-2.0-flash", "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"})";

TEST(ProviderGeminiTest, Response) {
  auto adapter = adapterFor("gemini", "", "POST", "/v1beta/models/gemini-2.0-flash:generateContent");
  auto chunk = adapter->parseResponse(kResponse);
  ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
  EXPECT_EQ(rolesAndTexts(chunk->generated), (Pairs{{"assistant", "Meow! I am Neko."}, {"assistant", "loud"}}));
  EXPECT_EQ(chunk->generated[0].location.to_string(), "/candidates/0/content/parts/0/text");
  expectSegmentsResolve(kResponse, chunk->generated);
  EXPECT_EQ(chunk->usage, (Usage{14, 12}));
  EXPECT_TRUE(chunk->done);
}

TEST(ProviderGeminiTest, JsonArrayStreamWithoutAltSse) {
  std::string body = "[" + std::string(kResponse) + ",\r\n" + std::string(kResponse) + "]";
  auto chunk = adapterFor("gemini", "", "POST", "/v1beta/models/g:streamGenerateContent")->parseResponse(body);
  ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
  ASSERT_EQ(chunk->generated.size(), 4u);
  EXPECT_EQ(chunk->generated[2].location.to_string(), "/1/candidates/0/content/parts/0/text");
  expectSegmentsResolve(body, chunk->generated);
}

// Gemini's SSE stream: data-only events with CRLF endings, no end marker; the last has finishReason.
constexpr std::string_view kStream =
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],"
    "\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.0-flash\"}\r\n\r\n"
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" quick brown fox jumps\"}],\"role\": \"model\"},\"index\": 0}],"
    "\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.0-flash\"}\r\n\r\n"
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" over the lazy dog.\\n\"}],\"role\": \"model\"},"
    "\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 10,"
    "\"totalTokenCount\": 19},\"modelVersion\": \"gemini-2.0-flash\"}\r\n\r\n";

TEST(ProviderGeminiTest, StreamAtEveryCut) {
  auto adapter = adapterFor("gemini", "", "POST", kStreamTarget);
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SseParser parser;
    std::string text;
    std::optional<Usage> usage;
    std::vector<bool> done;
    std::vector<std::string> channels;
    for (auto piece : {kStream.substr(0, cut), kStream.substr(cut)}) {
      auto events = parser.feed(piece);
      ASSERT_TRUE(events.ok());
      for (const auto& event : *events) {
        EXPECT_EQ(event.lineEnding, SseLineEnding::kCrLf);
        auto chunk = adapter->parseStreamEvent(event);
        ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
        expectSegmentsResolve(event.data, chunk->generated);
        for (const auto& segment : chunk->generated) text += segment.text;
        if (chunk->usage) usage = chunk->usage;
        done.push_back(chunk->done);
        for (const auto& segment : chunk->generated) channels.push_back(segment.channel);
        for (const auto& ended : chunk->endedChannels) channels.push_back("ended " + ended);
      }
    }
    EXPECT_EQ(text, "The quick brown fox jumps over the lazy dog.\n");
    EXPECT_EQ(usage, (Usage{9, 10}));
    EXPECT_EQ(done, (std::vector<bool>{false, false, true}));
    EXPECT_EQ(channels, (std::vector<std::string>{"candidates/0/text", "candidates/0/text", "candidates/0/text",
                                                  "ended candidates/0"}));
  }
}

TEST(ProviderGeminiTest, PathsAndRouting) {
  auto method = geminiMethod("/v1beta/tunedModels/my-tuned-1:generateContent");
  ASSERT_TRUE(method.has_value());
  EXPECT_EQ(method->model, "my-tuned-1");
  EXPECT_EQ(method->method, "generateContent");
  // Vertex AI serves the same bodies under a longer path.
  constexpr std::string_view kVertex =
      "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse";
  EXPECT_EQ(adapterFor("vertex-ai", "us-central1-aiplatform.googleapis.com", "POST", kVertex)->api(),
            ApiKind::kGeminiGenerate);
  EXPECT_EQ(adapterFor("gemini", "", "POST", "/v1beta/models/gemini-2.0-flash:countTokens")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("gemini", "", "POST", "/v1beta/models/text-embedding-004:embedContent")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("gemini", "", "GET", "/v1beta/models")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("gemini", "", "POST", "/v1beta/files:generateContent")->api(), ApiKind::kUnknown);
  EXPECT_FALSE(geminiMethod("/v1beta/models/:generateContent").has_value());
}

TEST(ProviderGeminiTest, BadBodiesAreClearErrors) {
  auto adapter = adapterFor("gemini", "", "POST", kStreamTarget);
  auto noContents = adapter->parseRequest(kStreamTarget, R"({"generationConfig":{}})");
  ASSERT_FALSE(noContents.ok());
  EXPECT_EQ(noContents.error().message, "request body: /contents is not an array of contents");
  auto badParts = adapter->parseRequest(kStreamTarget, R"({"contents":[{"parts":{"text":"x"}}]})");
  ASSERT_FALSE(badParts.ok());
  EXPECT_EQ(badParts.error().message, "request body: /contents/0/parts is not an array of parts");
  std::string deep = R"({"contents":[{"parts":[{"functionResponse":{"response":)" + std::string(100, '[') +
                     std::string(100, ']') + "}}]}]}";
  auto tooDeep = adapter->parseRequest(kStreamTarget, deep);
  ASSERT_FALSE(tooDeep.ok());
  EXPECT_NE(tooDeep.error().message.find("nested too deeply"), std::string::npos);
  EXPECT_FALSE(adapter->parseResponse("[{\"candidates\": 5}]").ok());
}

}  // namespace
}  // namespace shadowai
