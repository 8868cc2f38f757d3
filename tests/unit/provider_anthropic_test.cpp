// Anthropic Messages. Bodies and events follow the Anthropic API reference (messages, streaming).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "providers/provider_adapter.h"
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

std::unique_ptr<ProviderAdapter> messagesAdapter() {
  return adapterFor("anthropic-messages", "api.anthropic.com", "POST", "/v1/messages");
}

constexpr std::string_view kRequest = R"({
  "model": "claude-sonnet-4-20250514",
  "max_tokens": 1024,
  "system": [{"type": "text", "text": "You are a billing assistant.", "cache_control": {"type": "ephemeral"}}],
  "messages": [
    {"role": "user", "content": "Hello, my card is 4111 1111 1111 1111"},
    {"role": "assistant", "content": [
      {"type": "thinking", "thinking": "The user shared a card.", "signature": "EqQBCgIYAhIM"},
      {"type": "text", "text": "Let me look that up."},
      {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
       "input": {"location": "San Francisco, CA", "unit": "celsius", "days": 3}}]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"},
      {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "rainy"}]},
      {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}},
      {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."}},
      {"type": "text", "text": "Thanks!"}]}
  ],
  "stream": true
})";

TEST(ProviderAnthropicTest, RequestSegmentsAndLocations) {
  auto adapter = messagesAdapter();
  ASSERT_EQ(adapter->api(), ApiKind::kAnthropicMessages);
  auto request = adapter->parseRequest("/v1/messages", kRequest);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(request->model, "claude-sonnet-4-20250514");
  EXPECT_TRUE(request->streaming);
  EXPECT_EQ(rolesAndTexts(request->prompt), (Pairs{{"system", "You are a billing assistant."},
                                                   {"user", "Hello, my card is 4111 1111 1111 1111"},
                                                   {"assistant", "The user shared a card."},
                                                   {"assistant", "Let me look that up."},
                                                   {"assistant", "San Francisco, CA"},
                                                   {"assistant", "celsius"},
                                                   {"tool", "15 degrees"},
                                                   {"tool", "rainy"},
                                                   {"user", "The grass is green."},
                                                   {"user", "Thanks!"}}));
  EXPECT_EQ(request->prompt[7].location.to_string(), "/messages/2/content/1/content/0/text");
  expectSegmentsResolve(kRequest, request->prompt);
}

TEST(ProviderAnthropicTest, SystemAsString) {
  constexpr std::string_view kBody =
      R"({"model":"claude-3-5-haiku-latest","max_tokens":64,"system":"Be terse.","messages":[{"role":"user","content":"Hi"}]})";
  auto request = messagesAdapter()->parseRequest("/v1/messages", kBody);
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->streaming);
  EXPECT_EQ(rolesAndTexts(request->prompt), (Pairs{{"system", "Be terse."}, {"user", "Hi"}}));
  EXPECT_EQ(request->prompt[0].location.to_string(), "/system");
  expectSegmentsResolve(kBody, request->prompt);
}

TEST(ProviderAnthropicTest, Response) {
  constexpr std::string_view kBody = R"({
    "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [{"type": "text", "text": "Hi! My name is Claude."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"query": "order 1234"}}],
    "stop_reason": "end_turn", "stop_sequence": null,
    "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 0}})";
  auto chunk = messagesAdapter()->parseResponse(kBody);
  ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
  EXPECT_EQ(rolesAndTexts(chunk->generated), (Pairs{{"assistant", "Hi! My name is Claude."}, {"assistant", "order 1234"}}));
  expectSegmentsResolve(kBody, chunk->generated);
  EXPECT_EQ(chunk->usage, (Usage{2095, 503}));
  EXPECT_TRUE(chunk->done);
}

constexpr std::string_view kStream =
    "event: message_start\n"
    "data: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\", \"type\": \"message\", "
    "\"role\": \"assistant\", \"content\": [], \"model\": \"claude-sonnet-4-20250514\", \"stop_reason\": null, "
    "\"stop_sequence\": null, \"usage\": {\"input_tokens\": 25, \"output_tokens\": 1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"Hello\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"!\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\": \"content_block_stop\", \"index\": 0}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\","
    "\"name\":\"get_weather\",\"input\":{}}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"San Fra\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: message_delta\n"
    "data: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", \"stop_sequence\":null}, "
    "\"usage\": {\"output_tokens\": 15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\": \"message_stop\"}\n\n";

TEST(ProviderAnthropicTest, StreamAtEveryCut) {
  auto adapter = messagesAdapter();
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SseParser parser;
    std::string text;
    Usage usage;
    bool done = false;
    size_t count = 0;
    for (auto piece : {kStream.substr(0, cut), kStream.substr(cut)}) {
      auto events = parser.feed(piece);
      ASSERT_TRUE(events.ok());
      for (const auto& event : *events) {
        ++count;
        auto chunk = adapter->parseStreamEvent(event);
        ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
        expectSegmentsResolve(event.data, chunk->generated);
        for (const auto& segment : chunk->generated) text += segment.text;
        if (chunk->usage) {
          if (chunk->usage->inputTokens) usage.inputTokens = chunk->usage->inputTokens;
          if (chunk->usage->outputTokens) usage.outputTokens = chunk->usage->outputTokens;
        }
        EXPECT_FALSE(done) << "nothing after message_stop";
        done = chunk->done;
      }
    }
    EXPECT_EQ(count, 11u);
    EXPECT_EQ(text, "Hello!{\"location\": \"San Fra");
    EXPECT_EQ(usage, (Usage{25, 15}));
    EXPECT_TRUE(done);
  }
}

TEST(ProviderAnthropicTest, ThinkingDeltaAndErrorEvent) {
  SseEvent thinking;
  thinking.type = "content_block_delta";
  thinking.hasData = true;
  thinking.data = R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me solve this"}})";
  auto chunk = messagesAdapter()->parseStreamEvent(thinking);
  ASSERT_TRUE(chunk.ok());
  ASSERT_EQ(chunk->generated.size(), 1u);
  EXPECT_EQ(chunk->generated[0].location.to_string(), "/delta/thinking");
  EXPECT_EQ(chunk->generated[0].channel, "content/0");

  SseEvent stop;
  stop.hasData = true;
  stop.data = R"({"type":"content_block_stop","index":3})";
  auto stopChunk = messagesAdapter()->parseStreamEvent(stop);
  ASSERT_TRUE(stopChunk.ok());
  EXPECT_EQ(stopChunk->endedChannels, (std::vector<std::string>{"content/3"}));

  SseEvent error;
  error.type = "error";
  error.hasData = true;
  error.data = R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})";
  auto errorChunk = messagesAdapter()->parseStreamEvent(error);
  ASSERT_TRUE(errorChunk.ok());
  EXPECT_TRUE(errorChunk->done);
  EXPECT_EQ(errorChunk->endedChannels, (std::vector<std::string>{""}));
}

TEST(ProviderAnthropicTest, RoutingAndBadBodies) {
  EXPECT_EQ(adapterFor("anthropic-messages", "", "POST", "/v1/messages?beta=true")->api(), ApiKind::kAnthropicMessages);
  EXPECT_EQ(adapterFor("anthropic-messages", "", "POST", "/v1/messages/count_tokens")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("anthropic-messages", "", "POST", "/v1/messages/batches")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("anthropic-messages", "", "POST", "/v1/complete")->api(), ApiKind::kUnknown);
  auto adapter = messagesAdapter();
  auto bad = adapter->parseRequest("/v1/messages", R"({"model":"claude","messages":{"role":"user"}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "request body: /messages is not an array of messages");
  auto badBlock = adapter->parseRequest("/v1/messages", R"({"messages":[{"role":"user","content":["hi"]}]})");
  ASSERT_FALSE(badBlock.ok());
  EXPECT_EQ(badBlock.error().message, "request body: /messages/0/content/0 is not a content block object");
  EXPECT_FALSE(adapter->parseResponse("{\"content\": [").ok());
}

}  // namespace
}  // namespace shadowai
