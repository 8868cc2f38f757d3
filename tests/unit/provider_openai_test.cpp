// OpenAI API shapes: chat completions, responses, completions, embeddings, on api.openai.com, Azure
// deployments and OpenAI-compatible hosts. Bodies follow the examples of the OpenAI API reference.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "providers/provider_adapter.h"
#include "providers/sse_parser.h"

namespace shadowai {
namespace {

// Every segment's pointer resolves, in the body it came from, to exactly its text.
void expectSegmentsResolve(std::string_view body, const std::vector<TextSegment>& segments) {
  auto json = nlohmann::json::parse(body);
  for (const auto& segment : segments) {
    ASSERT_TRUE(json.contains(segment.location)) << segment.location.to_string();
    EXPECT_EQ(json.at(segment.location), segment.text) << segment.location.to_string();
  }
}

std::vector<std::pair<std::string, std::string>> rolesAndTexts(const std::vector<TextSegment>& segments) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& segment : segments) out.emplace_back(segment.role, segment.text);
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct StreamResult {
  std::string text;
  std::optional<Usage> usage;
  bool done = false;
  size_t events = 0;
  // Per event with text or ends: "channel,channel|ended,ended" (channel-less text shows as "-").
  std::vector<std::string> channels;
};

std::string channelTrace(const ParsedResponseChunk& chunk) {
  std::string trace;
  for (const auto& segment : chunk.generated) trace += (trace.empty() ? "" : ",") + (segment.channel.empty() ? "-" : segment.channel);
  trace += "|";
  for (size_t i = 0; i < chunk.endedChannels.size(); ++i) trace += (i ? "," : "") + chunk.endedChannels[i];
  return trace;
}

// Runs a whole SSE response through the parser (cut at `cut`) and the adapter, checking every event's
// segments against that event's data.
StreamResult runStream(const ProviderAdapter& adapter, std::string_view stream, size_t cut) {
  SseParser parser;
  StreamResult result;
  for (auto piece : {stream.substr(0, cut), stream.substr(cut)}) {
    auto events = parser.feed(piece);
    EXPECT_TRUE(events.ok());
    for (const auto& event : *events) {
      ++result.events;
      auto chunk = adapter.parseStreamEvent(event);
      EXPECT_TRUE(chunk.ok()) << chunk.error().describe();
      if (!chunk) continue;
      if (!chunk->generated.empty()) expectSegmentsResolve(event.data, chunk->generated);
      for (const auto& segment : chunk->generated) result.text += segment.text;
      if (chunk->usage) result.usage = chunk->usage;
      result.done = result.done || chunk->done;
      if (!chunk->generated.empty() || !chunk->endedChannels.empty()) result.channels.push_back(channelTrace(*chunk));
    }
  }
  return result;
}

constexpr std::string_view kChatRequest = R"({
  "model": "gpt-4o",
  "messages": [
    {"role": "developer", "content": "You are a helpful assistant."},
    {"role": "user", "content": [
      {"type": "text", "text": "What's in this image? Mail me at jane@example.com"},
      {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/boardwalk.jpg"}}
    ]},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_abc123", "type": "function",
       "function": {"name": "get_current_weather", "arguments": "{\"location\": \"Boston, MA\"}"}}
    ]},
    {"role": "tool", "tool_call_id": "call_abc123", "content": "{\"temperature\": \"22\", \"unit\": \"celsius\"}"},
    {"role": "user", "content": "Caf\u00e9 \"quoted\" \\ and more"}
  ],
  "stream": true
})";

TEST(ProviderOpenAiTest, ChatRequestSegmentsAndLocations) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  ASSERT_EQ(adapter->api(), ApiKind::kOpenAiChat);
  auto request = adapter->parseRequest("/v1/chat/completions", kChatRequest);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(request->model, "gpt-4o");
  EXPECT_TRUE(request->streaming);
  EXPECT_EQ(rolesAndTexts(request->prompt),
            (Pairs{{"system", "You are a helpful assistant."},
                   {"user", "What's in this image? Mail me at jane@example.com"},
                   {"assistant", "{\"location\": \"Boston, MA\"}"},
                   {"tool", "{\"temperature\": \"22\", \"unit\": \"celsius\"}"},
                   {"user", "Caf\xC3\xA9 \"quoted\" \\ and more"}}));
  EXPECT_EQ(request->prompt[1].location.to_string(), "/messages/1/content/0/text");
  EXPECT_EQ(request->prompt[2].location.to_string(), "/messages/2/tool_calls/0/function/arguments");
  expectSegmentsResolve(kChatRequest, request->prompt);
}

TEST(ProviderOpenAiTest, ChatResponse) {
  constexpr std::string_view kBody = R"({
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant",
      "content": "The image shows a wooden boardwalk extending through a lush green marshland.",
      "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
      "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}},
    "service_tier": "default", "system_fingerprint": "fp_fc9f1d7035"})";
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  auto chunk = adapter->parseResponse(kBody);
  ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
  ASSERT_EQ(chunk->generated.size(), 1u);
  EXPECT_EQ(chunk->generated[0].role, "assistant");
  EXPECT_EQ(chunk->generated[0].location.to_string(), "/choices/0/message/content");
  expectSegmentsResolve(kBody, chunk->generated);
  EXPECT_EQ(chunk->usage, (Usage{1117, 46}));
  EXPECT_TRUE(chunk->done);
}

TEST(ProviderOpenAiTest, ChatResponseWithToolCall) {
  constexpr std::string_view kBody = R"({"id":"chatcmpl-abc123","object":"chat.completion","model":"gpt-4o-mini",
    "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123",
    "type":"function","function":{"name":"get_current_weather","arguments":"{\n\"location\": \"Boston, MA\"\n}"}}]},
    "logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}})";
  auto chunk = adapterFor("openai-chat", "", "POST", "/v1/chat/completions")->parseResponse(kBody);
  ASSERT_TRUE(chunk.ok());
  ASSERT_EQ(chunk->generated.size(), 1u);
  EXPECT_EQ(chunk->generated[0].text, "{\n\"location\": \"Boston, MA\"\n}");
  expectSegmentsResolve(kBody, chunk->generated);
}

constexpr std::string_view kChatStream =
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
    "\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there, jane@exa\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mple.com\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}\n\n"
    "data: [DONE]\n\n";

TEST(ProviderOpenAiTest, ChatStreamAtEveryCut) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  for (size_t cut = 0; cut <= kChatStream.size(); ++cut) {
    auto result = runStream(*adapter, kChatStream, cut);
    ASSERT_EQ(result.events, 7u) << cut;
    EXPECT_EQ(result.text, "Hello there, jane@example.com");
    // Deltas of choice 0 continue each other; its finish_reason ends them, [DONE] ends everything.
    EXPECT_EQ(result.channels, (std::vector<std::string>{"choices/0/content|", "choices/0/content|",
                                                         "choices/0/content|", "|choices/0", "|"}));
    EXPECT_EQ(result.usage, (Usage{9, 4}));
    EXPECT_TRUE(result.done);
  }
}

TEST(ProviderOpenAiTest, ChatStreamToolCallArguments) {
  SseEvent event;
  event.hasData = true;
  event.data = R"({"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"loc"}}]},"finish_reason":null}]})";
  auto chunk = adapterFor("openai-chat", "", "POST", "/v1/chat/completions")->parseStreamEvent(event);
  ASSERT_TRUE(chunk.ok());
  ASSERT_EQ(chunk->generated.size(), 1u);
  EXPECT_EQ(chunk->generated[0].text, "{\"loc");
  EXPECT_EQ(chunk->generated[0].location.to_string(), "/choices/0/delta/tool_calls/0/function/arguments");
  EXPECT_EQ(chunk->generated[0].channel, "choices/0/tool_calls/0");
  EXPECT_FALSE(chunk->done);

  // Channels are named by the "index" fields, not by positions in this chunk's arrays.
  event.data = R"({"choices":[{"index":1,"delta":{"content":"a","tool_calls":[{"index":2,"function":{"arguments":"b"}}]},"finish_reason":null},{"index":0,"delta":{},"finish_reason":"tool_calls"}]})";
  chunk = adapterFor("openai-chat", "", "POST", "/v1/chat/completions")->parseStreamEvent(event);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(channelTrace(*chunk), "choices/1/content,choices/1/tool_calls/2|choices/0");
}

TEST(ProviderOpenAiTest, AzureDeploymentIsTheModel) {
  constexpr std::string_view kTarget = "/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21";
  auto adapter = adapterFor("azure-openai", "contoso.openai.azure.com", "POST", kTarget);
  ASSERT_EQ(adapter->api(), ApiKind::kOpenAiChat);
  auto request = adapter->parseRequest(kTarget, R"({"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->model, "prod-gpt4o");
  EXPECT_FALSE(request->streaming);
  EXPECT_EQ(adapterFor("azure-openai", "", "POST", "/openai/deployments/emb/embeddings?api-version=2024-10-21")->api(),
            ApiKind::kOpenAiEmbeddings);
}

TEST(ProviderOpenAiTest, OpenAiCompatibleHostsUseTheOpenAiAdapter) {
  // Groq, OpenRouter, DeepSeek: different prefixes in front of the same paths.
  for (std::string_view target : {"/openai/v1/chat/completions", "/api/v1/chat/completions", "/chat/completions",
                                  "/v1/chat/completions/"}) {
    EXPECT_EQ(adapterFor("openai-chat", "api.groq.com", "POST", target)->api(), ApiKind::kOpenAiChat) << target;
  }
  EXPECT_EQ(adapterFor("openai-chat", "", "GET", "/v1/models")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("openai-chat", "", "GET", "/v1/chat/completions")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("openai-chat", "", "POST", "/v1/audio/transcriptions")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("openai-chat", "", "POST", "/v1/responses/resp_1/cancel")->api(), ApiKind::kUnknown);
  EXPECT_EQ(adapterFor("openai-chat", "", "POST", "/v1/chatcompletions")->api(), ApiKind::kUnknown);
}

constexpr std::string_view kResponsesRequest = R"({
  "model": "gpt-4.1",
  "instructions": "Talk like a pirate.",
  "input": [
    {"role": "user", "content": "What is the weather like in Paris today?"},
    {"type": "message", "role": "user", "content": [
      {"type": "input_text", "text": "what is in this image?"},
      {"type": "input_image", "image_url": "https://example.com/a.jpg"}]},
    {"type": "function_call", "call_id": "call_12345xyz", "name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"},
    {"type": "function_call_output", "call_id": "call_12345xyz", "output": "{\"temperature\": 14}"},
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Checked the weather."}]},
    {"type": "item_reference", "id": "msg_1"}
  ],
  "stream": true
})";

TEST(ProviderOpenAiTest, ResponsesRequest) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/responses");
  ASSERT_EQ(adapter->api(), ApiKind::kOpenAiResponses);
  auto request = adapter->parseRequest("/v1/responses", kResponsesRequest);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(request->model, "gpt-4.1");
  EXPECT_TRUE(request->streaming);
  EXPECT_EQ(rolesAndTexts(request->prompt), (Pairs{{"system", "Talk like a pirate."},
                                                   {"user", "What is the weather like in Paris today?"},
                                                   {"user", "what is in this image?"},
                                                   {"assistant", "{\"location\":\"Paris, France\"}"},
                                                   {"tool", "{\"temperature\": 14}"},
                                                   {"assistant", "Checked the weather."}}));
  expectSegmentsResolve(kResponsesRequest, request->prompt);

  auto simple = adapter->parseRequest("/v1/responses", R"({"model":"gpt-4.1","input":"Tell me a story."})");
  ASSERT_TRUE(simple.ok());
  ASSERT_EQ(simple->prompt.size(), 1u);
  EXPECT_EQ(simple->prompt[0].location.to_string(), "/input");
}

TEST(ProviderOpenAiTest, ResponsesResponse) {
  constexpr std::string_view kBody = R"({
    "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", "object": "response", "created_at": 1741476542,
    "status": "completed", "model": "gpt-4.1-2025-04-14",
    "output": [{"type": "message", "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
      "status": "completed", "role": "assistant",
      "content": [{"type": "output_text", "text": "In a peaceful grove beneath a silver moon...", "annotations": []}]}],
    "usage": {"input_tokens": 36, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 87,
      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 123}})";
  auto chunk = adapterFor("openai-chat", "", "POST", "/v1/responses")->parseResponse(kBody);
  ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
  ASSERT_EQ(chunk->generated.size(), 1u);
  EXPECT_EQ(chunk->generated[0].location.to_string(), "/output/0/content/0/text");
  expectSegmentsResolve(kBody, chunk->generated);
  EXPECT_EQ(chunk->usage, (Usage{36, 87}));
}

constexpr std::string_view kResponsesStream =
    "event: response.created\n"
    "data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\","
    "\"status\":\"in_progress\",\"output\":[],\"usage\":null}}\n\n"
    "event: response.output_item.added\n"
    "data: {\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"msg_1\","
    "\"status\":\"in_progress\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[]}}\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":2,\"item_id\":\"msg_1\",\"output_index\":0,"
    "\"content_index\":0,\"delta\":\"Hi\"}\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":3,\"item_id\":\"msg_1\",\"output_index\":0,"
    "\"content_index\":0,\"delta\":\" there\"}\n\n"
    "event: response.output_text.done\n"
    "data: {\"type\":\"response.output_text.done\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_index\":0,"
    "\"content_index\":0,\"text\":\"Hi there\"}\n\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\"sequence_number\":5,\"response\":{\"id\":\"resp_1\",\"object\":\"response\","
    "\"status\":\"completed\",\"output\":[{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\","
    "\"content\":[{\"type\":\"output_text\",\"text\":\"Hi there\",\"annotations\":[]}]}],"
    "\"usage\":{\"input_tokens\":37,\"output_tokens\":11,\"total_tokens\":48}}}\n\n";

TEST(ProviderOpenAiTest, ResponsesStreamAtEveryCut) {
  auto adapter = adapterFor("openai-chat", "", "POST", "/v1/responses");
  for (size_t cut = 0; cut <= kResponsesStream.size(); ++cut) {
    auto result = runStream(*adapter, kResponsesStream, cut);
    ASSERT_EQ(result.events, 6u);
    // The deltas, then the text repeated by .done and by the completed response: all of it is masked.
    EXPECT_EQ(result.text, "Hi thereHi thereHi there");
    // The repeated whole texts are channel-less; .done ends the deltas' channel, completed ends all.
    EXPECT_EQ(result.channels, (std::vector<std::string>{"output/0/content/0/output_text|",
                                                         "output/0/content/0/output_text|",
                                                         "-|output/0/content/0/output_text", "-|"}));
    EXPECT_EQ(result.usage, (Usage{37, 11}));
    EXPECT_TRUE(result.done);
  }
}

TEST(ProviderOpenAiTest, CompletionsRequestResponseAndStream) {
  auto adapter = adapterFor("openai-chat", "", "POST", "/v1/completions");
  ASSERT_EQ(adapter->api(), ApiKind::kOpenAiCompletions);
  constexpr std::string_view kRequest =
      R"({"model":"gpt-3.5-turbo-instruct","prompt":["Say this is a test",[1212,318]],"suffix":"end","max_tokens":7,"stream":false})";
  auto request = adapter->parseRequest("/v1/completions", kRequest);
  ASSERT_TRUE(request.ok()) << request.error().describe();
  EXPECT_EQ(rolesAndTexts(request->prompt), (Pairs{{"user", "Say this is a test"}, {"user", "end"}}));
  expectSegmentsResolve(kRequest, request->prompt);

  constexpr std::string_view kBody = R"({"id":"cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7","object":"text_completion","created":1589478378,
    "model":"gpt-3.5-turbo-instruct","system_fingerprint":"fp_44709d6fcb","choices":[{"text":"\n\nThis is indeed a test",
    "index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})";
  auto chunk = adapter->parseResponse(kBody);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(rolesAndTexts(chunk->generated), (Pairs{{"assistant", "\n\nThis is indeed a test"}}));
  expectSegmentsResolve(kBody, chunk->generated);
  EXPECT_EQ(chunk->usage, (Usage{5, 7}));

  constexpr std::string_view kStream =
      "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"This\",\"index\":0,\"finish_reason\":null}]}\n\n"
      "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\" is\",\"index\":0,\"finish_reason\":\"length\"}]}\n\n"
      "data: [DONE]\n\n";
  auto result = runStream(*adapter, kStream, kStream.size() / 2);
  EXPECT_EQ(result.text, "This is");
  EXPECT_EQ(result.channels, (std::vector<std::string>{"choices/0/text|", "choices/0/text|choices/0", "|"}));
  EXPECT_TRUE(result.done);
}

TEST(ProviderOpenAiTest, EmbeddingsRequestAndResponse) {
  auto adapter = adapterFor("openai-chat", "", "POST", "/v1/embeddings");
  ASSERT_EQ(adapter->api(), ApiKind::kOpenAiEmbeddings);
  constexpr std::string_view kRequest =
      R"({"input":["The food was delicious and the waiter...","second"],"model":"text-embedding-ada-002","encoding_format":"float"})";
  auto request = adapter->parseRequest("/v1/embeddings", kRequest);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->model, "text-embedding-ada-002");
  EXPECT_EQ(request->prompt.size(), 2u);
  expectSegmentsResolve(kRequest, request->prompt);
  auto chunk = adapter->parseResponse(
      R"({"object":"list","data":[{"object":"embedding","embedding":[0.0023064255,-0.009327292],"index":0}],
          "model":"text-embedding-ada-002","usage":{"prompt_tokens":8,"total_tokens":8}})");
  ASSERT_TRUE(chunk.ok());
  EXPECT_TRUE(chunk->generated.empty());
  EXPECT_EQ(chunk->usage, (Usage{8, std::nullopt}));
}

TEST(ProviderOpenAiTest, BadBodiesAreClearErrors) {
  auto adapter = adapterFor("openai-chat", "", "POST", "/v1/chat/completions");
  auto notJson = adapter->parseRequest("/v1/chat/completions", "{\"model\": \"gpt-4o\", ");
  ASSERT_FALSE(notJson.ok());
  EXPECT_EQ(notJson.error().message.rfind("request body is not valid JSON", 0), 0u) << notJson.error().message;
  auto notObject = adapter->parseRequest("/v1/chat/completions", "[1,2]");
  ASSERT_FALSE(notObject.ok());
  EXPECT_EQ(notObject.error().message, "request body is not a JSON object");
  auto noMessages = adapter->parseRequest("/v1/chat/completions", R"({"model":"gpt-4o"})");
  ASSERT_FALSE(noMessages.ok());
  EXPECT_EQ(noMessages.error().message, "request body: / has no \"messages\" array");
  auto badContent = adapter->parseRequest("/v1/chat/completions", R"({"messages":[{"role":"user","content":5}]})");
  ASSERT_FALSE(badContent.ok());
  EXPECT_EQ(badContent.error().message, "request body: /messages/0/content is not a string or an array of content parts");
  SseEvent event;
  event.hasData = true;
  event.data = "{\"choices\":";
  EXPECT_FALSE(adapter->parseStreamEvent(event).ok());
  EXPECT_FALSE(adapter->parseResponse("").ok());
  auto hugeNumber = adapter->parseRequest("/v1/chat/completions", R"({"messages":[],"temperature":1e400})");
  ASSERT_FALSE(hugeNumber.ok());
  EXPECT_EQ(hugeNumber.error().message, "request body is not valid JSON (a number is out of range)");
}

}  // namespace
}  // namespace shadowai
