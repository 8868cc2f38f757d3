// Masking streamed answers: a value split across deltas is caught, held text comes out before the
// event that ends its channel (in an event SDKs can parse), and nothing is delayed when nothing is
// pending. Event payloads follow the providers' documented stream shapes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_text_masker.h"
#include "mask/sse_stream_masker.h"
#include "providers/sse_parser.h"

// Bytes this thread asks operator new for while a test counts them: a measure of the work one event
// costs that, unlike a timing, is the same on every run and every machine. (Replacing the global
// operators is the only portable hook; every form is replaced so new and delete always pair.)
namespace {
thread_local bool tCountingAllocations = false;
thread_local size_t tAllocatedBytes = 0;

void* countedAllocation(std::size_t size) noexcept {
  if (tCountingAllocations) tAllocatedBytes += size;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* memory = countedAllocation(size)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return countedAllocation(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return countedAllocation(size); }
// Not inlined: GCC would then see free() called on what operator new returned, and warn.
[[gnu::noinline]] void operator delete(void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete[](void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }

namespace shadowai {
namespace {

using Json = nlohmann::json;
using testing::FakeTextMasker;

constexpr std::string_view kChatTarget = "/v1/chat/completions";
constexpr std::string_view kGeminiTarget = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";

std::vector<SseEvent> parseStream(std::string_view stream) {
  SseParser parser;
  auto events = parser.feed(stream);
  EXPECT_TRUE(events.ok());
  return events.ok() ? *events : std::vector<SseEvent>{};
}

SseEvent dataEvent(std::string data, std::string type = {}) {
  SseEvent event;
  event.type = std::move(type);
  event.data = std::move(data);
  event.hasData = true;
  return event;
}

struct Run {
  std::vector<SseEvent> out;
  // Per input event, how many events went out for it (flushes, then the event).
  std::vector<size_t> perInput;
};

Run runMasker(const ProviderAdapter& adapter, const std::vector<SseEvent>& events, TextMasker& masker) {
  SseStreamMasker streamMasker(adapter, masker);
  Run run;
  for (const auto& event : events) {
    auto out = streamMasker.onEvent(event);
    EXPECT_TRUE(out.ok()) << out.error().describe();
    if (!out) return run;
    run.perInput.push_back(out->size());
    run.out.insert(run.out.end(), out->begin(), out->end());
  }
  auto rest = streamMasker.finish();
  EXPECT_TRUE(rest.ok());
  if (rest) run.out.insert(run.out.end(), rest->begin(), rest->end());
  EXPECT_FALSE(streamMasker.holding());
  return run;
}

// What a client reads: each channel's deltas concatenated, every event's data valid JSON (or [DONE]).
std::map<std::string, std::string> clientTexts(const ProviderAdapter& adapter, const std::vector<SseEvent>& events) {
  std::map<std::string, std::string> texts;
  for (const auto& event : events) {
    if (!event.hasData || event.data == "[DONE]") continue;
    EXPECT_TRUE(Json::accept(event.data)) << event.data;
    auto chunk = adapter.parseStreamEvent(event);
    EXPECT_TRUE(chunk.ok());
    if (!chunk) continue;
    for (const auto& segment : chunk->generated) {
      if (!segment.channel.empty()) texts[segment.channel] += segment.text;
    }
  }
  return texts;
}

std::string chatDelta(std::string_view content, size_t index = 0) {
  Json chunk = {{"id", "chatcmpl-123"}, {"object", "chat.completion.chunk"}, {"created", 1694268190},
                {"model", "gpt-4o-mini"},
                {"choices", Json::array({{{"index", index}, {"delta", {{"content", content}}}, {"logprobs", nullptr},
                                          {"finish_reason", nullptr}}})}};
  return chunk.dump();
}

std::string chatFinish(size_t index = 0) {
  return R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":)" +
         std::to_string(index) + R"(,"delta":{},"logprobs":null,"finish_reason":"stop"}]})";
}

std::string chatContent(const SseEvent& event) {
  return Json::parse(event.data)["choices"][0]["delta"].value("content", std::string("<none>"));
}

TEST(ChannelEndedBy, PrefixesEndAtSlashes) {
  EXPECT_TRUE(channelEndedBy("choices/0/content", "choices/0"));
  EXPECT_TRUE(channelEndedBy("choices/0", "choices/0"));
  EXPECT_TRUE(channelEndedBy("choices/0", ""));
  EXPECT_FALSE(channelEndedBy("choices/01/content", "choices/0"));
  EXPECT_FALSE(channelEndedBy("choices/0", "choices/0/content"));
}

TEST(SseStreamMaskerOpenAiChat, ValueSplitAcrossTwoDeltas) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  auto run = runMasker(*adapter,
                       {dataEvent(chatDelta("Your key is SECRET-")), dataEvent(chatDelta("12345, keep it. ")),
                        dataEvent(chatFinish()), dataEvent("[DONE]")},
                       masker);
  ASSERT_EQ(run.out.size(), 4u);  // nothing held at the end: no flush event
  EXPECT_EQ(chatContent(run.out[0]), "Your key is ");
  EXPECT_EQ(chatContent(run.out[1]), "[SECRET], keep it. ");
  EXPECT_EQ(run.out[2].data, chatFinish());
  EXPECT_EQ(run.out[3].data, "[DONE]");
  EXPECT_EQ(clientTexts(*adapter, run.out)["choices/0/content"], "Your key is [SECRET], keep it. ");
}

TEST(SseStreamMaskerOpenAiChat, ValueSplitAcrossThreeDeltasIsFlushedBeforeFinish) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  auto run = runMasker(*adapter,
                       {dataEvent(chatDelta("Write to jane@exa")), dataEvent(chatDelta("mple")),
                        dataEvent(chatDelta(".com")), dataEvent(chatFinish()), dataEvent("[DONE]")},
                       masker);
  EXPECT_EQ(run.perInput, (std::vector<size_t>{1, 1, 1, 2, 1}));
  ASSERT_EQ(run.out.size(), 6u);
  EXPECT_EQ(chatContent(run.out[0]), "Write to ");
  EXPECT_EQ(chatContent(run.out[1]), "");  // the event still goes out: it carries framing
  EXPECT_EQ(chatContent(run.out[2]), "");
  // The flush: a copy of the last delta chunk with only the held text, before finish_reason.
  Json flush = Json::parse(run.out[3].data);
  EXPECT_EQ(flush["id"], "chatcmpl-123");
  EXPECT_EQ(flush["choices"][0]["delta"]["content"], "[EMAIL]");
  EXPECT_TRUE(flush["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(run.out[4].data, chatFinish());
  EXPECT_EQ(clientTexts(*adapter, run.out)["choices/0/content"], "Write to [EMAIL]");
}

TEST(SseStreamMaskerOpenAiChat, NothingPendingMeansNoDelay) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  SseStreamMasker streamMasker(*adapter, masker);
  SseEvent event = dataEvent(chatDelta("Hello there! "));
  event.id = "7";
  auto out = streamMasker.onEvent(event);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0], event);  // byte for byte, id included
  EXPECT_FALSE(streamMasker.holding());
}

TEST(SseStreamMaskerOpenAiChat, DoneFlushesWhatNoFinishReasonEnded) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  auto run = runMasker(*adapter, {dataEvent(chatDelta("x SECRET-1")), dataEvent("[DONE]")}, masker);
  ASSERT_EQ(run.out.size(), 3u);
  EXPECT_EQ(chatContent(run.out[1]), "[SECRET]");
  EXPECT_EQ(run.out[2].data, "[DONE]");
}

TEST(SseStreamMaskerOpenAiChat, ChoicesAndToolCallsAreSeparateChannels) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  std::string tool0 = R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"send","arguments":"{\"to\":\"a@b."}}]},"finish_reason":null}]})";
  std::string tool1 = R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"com\"}"}}]},"finish_reason":null}]})";
  std::string finishBoth = R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"tool_calls"}]})";
  auto run = runMasker(*adapter,
                       {dataEvent(chatDelta("a SECRET-", 0)), dataEvent(tool0), dataEvent(chatDelta("5", 0)),
                        dataEvent(tool1), dataEvent(finishBoth), dataEvent("[DONE]")},
                       masker);
  auto texts = clientTexts(*adapter, run.out);
  EXPECT_EQ(texts["choices/0/content"], "a [SECRET]");
  EXPECT_EQ(texts["choices/1/tool_calls/0"], "{\"to\":\"[EMAIL]\"}");
  // Only choice 0's held "SECRET-5" needed a flush; choice 1's arguments ended on '}'.
  EXPECT_EQ(run.perInput, (std::vector<size_t>{1, 1, 1, 1, 2, 1}));
  Json flush = Json::parse(run.out[4].data);
  ASSERT_EQ(flush["choices"].size(), 1u);
  EXPECT_EQ(flush["choices"][0]["index"], 0);
  EXPECT_EQ(flush["choices"][0]["delta"]["content"], "[SECRET]");
}

TEST(SseStreamMaskerOpenAiChat, PingsAndCommentsPassThrough) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  SseStreamMasker streamMasker(*adapter, masker);
  ASSERT_TRUE(streamMasker.onEvent(dataEvent(chatDelta("held SECRET-"))).ok());
  SseEvent comment;
  comment.comments = {" keep-alive"};
  auto out = streamMasker.onEvent(comment);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0], comment);
  EXPECT_TRUE(streamMasker.holding());
}

TEST(SseStreamMaskerOpenAiChat, FailsClosedAndStaysFailed) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  SseStreamMasker streamMasker(*adapter, masker);
  EXPECT_FALSE(streamMasker.onEvent(dataEvent("{not json")).ok());
  EXPECT_FALSE(streamMasker.onEvent(dataEvent(chatDelta("fine "))).ok());
  EXPECT_FALSE(streamMasker.finish().ok());

  SseStreamMasker duplicates(*adapter, masker);
  EXPECT_FALSE(duplicates.onEvent(dataEvent(R"({"choices":[{"index":0,"delta":{"content":"SECRET-1","content":"x"}}]})")).ok());

  masker.failOn = "boom";
  SseStreamMasker failing(*adapter, masker);
  EXPECT_FALSE(failing.onEvent(dataEvent(chatDelta("boom "))).ok());
}

// The client joins a channel's deltas; once its end flushed the held text, a later delta would
// complete the held value on the client's side, past the masker.
TEST(SseStreamMaskerOpenAiChat, DeltaAfterTheChoiceEndedIsRefused) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  SseStreamMasker streamMasker(*adapter, masker);
  std::string sent;
  for (const auto& data : {chatDelta("Key SEC"), chatFinish()}) {
    auto out = streamMasker.onEvent(dataEvent(data));
    ASSERT_TRUE(out.ok()) << out.error().describe();
    for (const auto& event : *out) sent += clientTexts(*adapter, {event})["choices/0/content"];
  }
  EXPECT_EQ(sent, "Key SEC");  // the end flushed the held "SEC"
  EXPECT_FALSE(streamMasker.onEvent(dataEvent(chatDelta("RET-42"))).ok());
  EXPECT_FALSE(streamMasker.finish().ok());
}

TEST(SseStreamMaskerOpenAiChat, ToolCallDeltaAfterTheChoiceEndedIsRefused) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  SseStreamMasker streamMasker(*adapter, masker);
  std::string call = R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"k\":\"SEC"}}]},"finish_reason":null}]})";
  std::string more = R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"RET-42\"}"}}]},"finish_reason":null}]})";
  ASSERT_TRUE(streamMasker.onEvent(dataEvent(call)).ok());
  ASSERT_TRUE(streamMasker.onEvent(dataEvent(chatFinish())).ok());  // "choices/0" ends its tool calls too
  EXPECT_FALSE(streamMasker.onEvent(dataEvent(more)).ok());
}

// What OpenAI sends after the last finish_reason (a usage chunk with no choices), what some
// compatible servers send (an empty delta again), and another choice ending later: all pass.
TEST(SseStreamMaskerOpenAiChat, EventsAfterTheEndThatCarryNoTextPass) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  std::string usage = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}})";
  auto run = runMasker(*adapter,
                       {dataEvent(chatDelta("a SECRET-", 0)), dataEvent(chatDelta("b ", 1)), dataEvent(chatDelta("7", 0)),
                        dataEvent(chatFinish(0)), dataEvent(chatDelta("", 0)), dataEvent(chatDelta("c", 1)),
                        dataEvent(chatFinish(1)), dataEvent(usage), dataEvent("[DONE]")},
                       masker);
  auto texts = clientTexts(*adapter, run.out);
  EXPECT_EQ(texts["choices/0/content"], "a [SECRET]");
  EXPECT_EQ(texts["choices/1/content"], "b c");
  EXPECT_EQ(run.out.back().data, "[DONE]");
}

std::string chatChoices(size_t count, std::string_view content) {
  Json choices = Json::array();
  for (size_t i = 0; i < count; ++i) {
    choices.push_back({{"index", i}, {"delta", {{"content", content}}}, {"finish_reason", nullptr}});
  }
  return Json{{"id", "chatcmpl-123"}, {"object", "chat.completion.chunk"}, {"choices", choices}}.dump();
}

// One event feeding N channels must cost about N, not N squared: each channel used to keep its own
// copy of the whole event and its list of texts. Doubling N must about double the bytes allocated.
TEST(SseStreamMaskerOpenAiChat, OneEventWithManyChoicesCostsLinearMemory) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  auto allocatedFor = [&](size_t choices) {
    std::vector<SseEvent> events = {dataEvent(chatChoices(choices, "ok ")), dataEvent("[DONE]")};
    tAllocatedBytes = 0;
    tCountingAllocations = true;
    auto run = runMasker(*adapter, events, masker);
    tCountingAllocations = false;
    auto texts = clientTexts(*adapter, run.out);
    EXPECT_EQ(texts.size(), choices);
    EXPECT_EQ(texts["choices/" + std::to_string(choices - 1) + "/content"], "ok ");
    return tAllocatedBytes;
  };
  size_t small = allocatedFor(256);
  size_t large = allocatedFor(512);
  EXPECT_LT(static_cast<double>(large) / static_cast<double>(small), 2.5) << small << " then " << large << " bytes";
}

TEST(SseStreamMaskerOpenAiChat, ChannelsPerAnswerAreBounded) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  SseStreamMasker atOnce(*adapter, masker, 4);
  EXPECT_TRUE(atOnce.onEvent(dataEvent(chatChoices(4, "x"))).ok());
  EXPECT_FALSE(atOnce.onEvent(dataEvent(chatChoices(5, "x"))).ok());
  // Ended channels count too: their names are kept to refuse late deltas.
  SseStreamMasker oneByOne(*adapter, masker, 4);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(oneByOne.onEvent(dataEvent(chatDelta("x", i))).ok());
    ASSERT_TRUE(oneByOne.onEvent(dataEvent(chatFinish(i))).ok());
  }
  EXPECT_FALSE(oneByOne.onEvent(dataEvent(chatDelta("x", 4))).ok());
  EXPECT_EQ(SseStreamMasker::kMaxChannels, 1024u);
}

// Held text comes out in copies of earlier events; one event that leaves text held in many channels
// must not be copied once per channel without bound.
TEST(SseStreamMaskerOpenAiChat, FlushesCannotOutgrowTheAnswer) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", kChatTarget);
  FakeTextMasker masker;
  std::string padded = chatChoices(64, "SECRET-");  // every choice holds its text
  padded.insert(1, "\"pad\":\"" + std::string(64 * 1024, 'p') + "\",");
  SseStreamMasker streamMasker(*adapter, masker);
  ASSERT_TRUE(streamMasker.onEvent(dataEvent(padded)).ok());
  EXPECT_FALSE(streamMasker.onEvent(dataEvent("[DONE]")).ok());

  // A few channels holding text at the end flush as usual.
  auto run = runMasker(*adapter, {dataEvent(chatChoices(8, "SECRET-1")), dataEvent("[DONE]")}, masker);
  EXPECT_EQ(run.perInput, (std::vector<size_t>{1, 9}));
  EXPECT_EQ(clientTexts(*adapter, run.out)["choices/7/content"], "[SECRET]");
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
    "\"content_index\":0,\"delta\":\"Key: SEC\"}\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":3,\"item_id\":\"msg_1\",\"output_index\":0,"
    "\"content_index\":0,\"delta\":\"RET-4\"}\n\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_index\":0,"
    "\"content_index\":0,\"delta\":\"2\"}\n\n"
    "event: response.output_text.done\n"
    "data: {\"type\":\"response.output_text.done\",\"sequence_number\":5,\"item_id\":\"msg_1\",\"output_index\":0,"
    "\"content_index\":0,\"text\":\"Key: SECRET-42\"}\n\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\"sequence_number\":6,\"response\":{\"id\":\"resp_1\",\"object\":\"response\","
    "\"status\":\"completed\",\"output\":[{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\","
    "\"content\":[{\"type\":\"output_text\",\"text\":\"Key: SECRET-42\",\"annotations\":[]}]}],"
    "\"usage\":{\"input_tokens\":37,\"output_tokens\":11,\"total_tokens\":48}}}\n\n";

TEST(SseStreamMaskerOpenAiResponses, SplitValueFlushedBeforeDoneAndWholeTextsMasked) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/responses");
  FakeTextMasker masker;
  auto events = parseStream(kResponsesStream);
  auto run = runMasker(*adapter, events, masker);
  EXPECT_EQ(run.perInput, (std::vector<size_t>{1, 1, 1, 1, 1, 2, 1}));
  ASSERT_EQ(run.out.size(), 8u);
  EXPECT_EQ(Json::parse(run.out[2].data)["delta"], "Key: ");
  EXPECT_EQ(Json::parse(run.out[3].data)["delta"], "");
  EXPECT_EQ(Json::parse(run.out[4].data)["delta"], "");
  EXPECT_EQ(run.out[5].type, "response.output_text.delta");
  EXPECT_EQ(Json::parse(run.out[5].data)["delta"], "[SECRET]");
  EXPECT_EQ(run.out[6].type, "response.output_text.done");
  EXPECT_EQ(Json::parse(run.out[6].data)["text"], "Key: [SECRET]");
  EXPECT_EQ(Json::parse(run.out[7].data)["response"]["output"][0]["content"][0]["text"], "Key: [SECRET]");
  EXPECT_EQ(clientTexts(*adapter, run.out)["output/0/content/0/output_text"], "Key: [SECRET]");
  // Events without text went out as they came.
  EXPECT_EQ(run.out[0], events[0]);
  EXPECT_EQ(run.out[1], events[1]);
}

TEST(SseStreamMaskerOpenAiResponses, FunctionCallArguments) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/responses");
  FakeTextMasker masker;
  auto run = runMasker(
      *adapter,
      {dataEvent(R"({"type":"response.function_call_arguments.delta","sequence_number":5,"item_id":"fc_1","output_index":1,"delta":"{\"who\":\"a@b"})",
                 "response.function_call_arguments.delta"),
       dataEvent(R"({"type":"response.function_call_arguments.delta","sequence_number":6,"item_id":"fc_1","output_index":1,"delta":".com"})",
                 "response.function_call_arguments.delta"),
       dataEvent(R"({"type":"response.function_call_arguments.done","sequence_number":7,"item_id":"fc_1","output_index":1,"arguments":"{\"who\":\"a@b.com"})",
                 "response.function_call_arguments.done")},
      masker);
  ASSERT_EQ(run.out.size(), 4u);
  EXPECT_EQ(Json::parse(run.out[2].data)["delta"], "[EMAIL]");
  EXPECT_EQ(Json::parse(run.out[3].data)["arguments"], "{\"who\":\"[EMAIL]");
  EXPECT_EQ(clientTexts(*adapter, run.out)["output/1/function_call_arguments"], "{\"who\":\"[EMAIL]");
}

SseEvent responsesEvent(std::string_view type, const Json& fields) {
  Json data = fields;
  data["type"] = type;
  return dataEvent(data.dump(), std::string(type));
}

SseEvent responsesText(std::string_view type, std::string_view member, std::string_view text, size_t contentIndex = 0) {
  return responsesEvent(type, {{"item_id", "msg_1"}, {"output_index", 0}, {"content_index", contentIndex}, {std::string(member), text}});
}

TEST(SseStreamMaskerOpenAiResponses, DeltaAfterItsDoneEventIsRefused) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/responses");
  FakeTextMasker masker;
  SseStreamMasker streamMasker(*adapter, masker);
  ASSERT_TRUE(streamMasker.onEvent(responsesText("response.output_text.delta", "delta", "Key SEC")).ok());
  auto done = streamMasker.onEvent(responsesText("response.output_text.done", "text", "Key SEC"));
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->size(), 2u);
  EXPECT_EQ(Json::parse((*done)[0].data)["delta"], "SEC");  // the held text, flushed
  EXPECT_FALSE(streamMasker.onEvent(responsesText("response.output_text.delta", "delta", "RET-42")).ok());

  // The end of the item ends the texts inside it too.
  SseStreamMasker itemEnded(*adapter, masker);
  ASSERT_TRUE(itemEnded.onEvent(responsesText("response.output_text.delta", "delta", "Key SEC")).ok());
  ASSERT_TRUE(itemEnded.onEvent(responsesEvent("response.output_item.done", {{"output_index", 0}, {"item", {{"id", "msg_1"}, {"type", "message"}, {"content", Json::array()}}}})).ok());
  EXPECT_FALSE(itemEnded.onEvent(responsesText("response.output_text.delta", "delta", "RET-42")).ok());
}

std::string anthropicStream(std::initializer_list<std::string_view> textDeltas, std::string_view toolJson) {
  std::string stream =
      "event: message_start\n"
      "data: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_1\", \"type\": \"message\", \"role\": \"assistant\", "
      "\"content\": [], \"model\": \"claude-sonnet-4-20250514\", \"stop_reason\": null, \"stop_sequence\": null, "
      "\"usage\": {\"input_tokens\": 25, \"output_tokens\": 1}}}\n\n"
      "event: content_block_start\n"
      "data: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n\n"
      "event: ping\n"
      "data: {\"type\": \"ping\"}\n\n";
  for (auto delta : textDeltas) {
    stream += "event: content_block_delta\ndata: " +
              Json{{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", delta}}}}.dump() +
              "\n\n";
  }
  stream +=
      "event: content_block_stop\n"
      "data: {\"type\": \"content_block_stop\", \"index\": 0}\n\n"
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\","
      "\"name\":\"get_weather\",\"input\":{}}}\n\n"
      "event: content_block_delta\n"
      "data: " +
      Json{{"type", "content_block_delta"}, {"index", 1}, {"delta", {{"type", "input_json_delta"}, {"partial_json", toolJson}}}}.dump() +
      "\n\n"
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
      "event: message_delta\n"
      "data: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", \"stop_sequence\":null}, "
      "\"usage\": {\"output_tokens\": 15}}\n\n"
      "event: message_stop\n"
      "data: {\"type\": \"message_stop\"}\n\n";
  return stream;
}

// The order the Messages API promises and SDKs rely on; `event:` must repeat the data's type.
void expectValidAnthropicOrder(const std::vector<SseEvent>& events) {
  enum { kStart, kMessage, kBlock, kAfterDelta, kStopped } state = kStart;
  int64_t block = -1;
  for (const auto& event : events) {
    Json data = Json::parse(event.data);
    std::string type = data["type"];
    EXPECT_EQ(event.type, type);
    if (type == "ping") continue;
    if (type == "message_start") {
      EXPECT_EQ(state, kStart);
      state = kMessage;
    } else if (type == "content_block_start") {
      EXPECT_EQ(state, kMessage);
      block = data["index"];
      state = kBlock;
    } else if (type == "content_block_delta") {
      EXPECT_EQ(state, kBlock);
      EXPECT_EQ(data["index"], block);
    } else if (type == "content_block_stop") {
      EXPECT_EQ(state, kBlock);
      EXPECT_EQ(data["index"], block);
      state = kMessage;
    } else if (type == "message_delta") {
      EXPECT_EQ(state, kMessage);
      state = kAfterDelta;
    } else if (type == "message_stop") {
      EXPECT_EQ(state, kAfterDelta);
      state = kStopped;
    }
  }
  EXPECT_EQ(state, kStopped);
}

TEST(SseStreamMaskerAnthropic, SplitAcrossThreeDeltasFlushedBeforeBlockStop) {
  auto adapter = adapterFor("anthropic-messages", "api.anthropic.com", "POST", "/v1/messages");
  FakeTextMasker masker;
  auto events = parseStream(anthropicStream({"Contact jane@exa", "mple.c", "om"}, "{\"loc\": \"SECRET-77\"}"));
  auto run = runMasker(*adapter, events, masker);
  expectValidAnthropicOrder(run.out);
  auto texts = clientTexts(*adapter, run.out);
  EXPECT_EQ(texts["content/0"], "Contact [EMAIL]");
  EXPECT_EQ(texts["content/1"], "{\"loc\": \"[SECRET]\"}");
  // The flush is the event right before the first content_block_stop.
  size_t stop = 0;
  while (stop < run.out.size() && run.out[stop].type != "content_block_stop") ++stop;
  ASSERT_LT(stop, run.out.size());
  EXPECT_EQ(Json::parse(run.out[stop - 1].data)["delta"]["text"], "[EMAIL]");
  EXPECT_EQ(run.out.size(), events.size() + 1);
}

TEST(SseStreamMaskerAnthropic, SplitAcrossTwoDeltasNeedsNoFlush) {
  auto adapter = adapterFor("anthropic-messages", "api.anthropic.com", "POST", "/v1/messages");
  FakeTextMasker masker;
  auto events = parseStream(anthropicStream({"Token SECRET-", "31 done! "}, "{}"));
  auto run = runMasker(*adapter, events, masker);
  expectValidAnthropicOrder(run.out);
  EXPECT_EQ(run.out.size(), events.size());
  EXPECT_EQ(clientTexts(*adapter, run.out)["content/0"], "Token [SECRET] done! ");
}

TEST(SseStreamMaskerAnthropic, NothingPendingEveryEventGoesOutUnchanged) {
  auto adapter = adapterFor("anthropic-messages", "api.anthropic.com", "POST", "/v1/messages");
  FakeTextMasker masker;
  auto events = parseStream(anthropicStream({"Hello! ", "Bye! "}, "{\"city\": \"Paris\"}"));
  SseStreamMasker streamMasker(*adapter, masker);
  for (const auto& event : events) {
    auto out = streamMasker.onEvent(event);
    ASSERT_TRUE(out.ok());
    ASSERT_EQ(out->size(), 1u);
    EXPECT_EQ((*out)[0], event);
    EXPECT_FALSE(streamMasker.holding());
  }
}

std::string geminiChunk(const Json& parts, bool finish, size_t index = 0) {
  Json candidate = {{"content", {{"parts", parts}, {"role", "model"}}}, {"index", index}};
  if (finish) candidate["finishReason"] = "STOP";
  Json chunk = {{"candidates", Json::array({candidate})},
                {"usageMetadata", {{"promptTokenCount", 9}, {"totalTokenCount", 9}}},
                {"modelVersion", "gemini-2.0-flash"}};
  return chunk.dump();
}

TEST(SseStreamMaskerGemini, SplitValuesAndHeldTextInTheFinishingChunk) {
  auto adapter = adapterFor("gemini", "generativelanguage.googleapis.com", "POST", kGeminiTarget);
  FakeTextMasker masker;
  auto run = runMasker(*adapter,
                       {dataEvent(geminiChunk({{{"text", "The key is SECRET-"}}}, false)),
                        dataEvent(geminiChunk({{{"text", "99 and mail a@b"}}}, false)),
                        dataEvent(geminiChunk({{{"text", ".com"}}}, true))},
                       masker);
  // The last chunk both continues and ends the channel: the held text goes out inside it.
  ASSERT_EQ(run.out.size(), 3u);
  Json last = Json::parse(run.out[2].data);
  EXPECT_EQ(last["candidates"][0]["content"]["parts"][0]["text"], "[EMAIL]");
  EXPECT_EQ(last["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(clientTexts(*adapter, run.out)["candidates/0/text"], "The key is [SECRET] and mail [EMAIL]");
}

TEST(SseStreamMaskerGemini, FlushCarriesOnlyTheHeldText) {
  auto adapter = adapterFor("gemini", "generativelanguage.googleapis.com", "POST", kGeminiTarget);
  FakeTextMasker masker;
  Json withCall = Json::array({{{"text", "Calling for SECRET-4"}},
                               {{"functionCall", {{"name", "lookup"}, {"args", {{"q", "x@y.com"}}}}}}});
  auto run = runMasker(*adapter,
                       {dataEvent(geminiChunk({{{"text", "Think SECRET-3"}, {"thought", true}}}, false)),
                        dataEvent(geminiChunk(withCall, false)), dataEvent(geminiChunk(Json::array(), true))},
                       masker);
  EXPECT_EQ(run.perInput, (std::vector<size_t>{1, 1, 3}));
  ASSERT_EQ(run.out.size(), 5u);
  // Channels flush in the order they opened: the thought, then the answer.
  Json thought = Json::parse(run.out[2].data);
  EXPECT_EQ(thought["candidates"][0]["content"]["parts"],
            (Json::array({{{"text", "[SECRET]"}, {"thought", true}}})));
  // The function call (already sent, masked whole) is not repeated.
  Json answer = Json::parse(run.out[3].data);
  EXPECT_EQ(answer["candidates"][0]["content"]["parts"], (Json::array({{{"text", "[SECRET]"}}})));
  EXPECT_EQ(Json::parse(run.out[1].data)["candidates"][0]["content"]["parts"][1]["functionCall"]["args"]["q"], "[EMAIL]");
  auto texts = clientTexts(*adapter, run.out);
  EXPECT_EQ(texts["candidates/0/thought"], "Think [SECRET]");
  EXPECT_EQ(texts["candidates/0/text"], "Calling for [SECRET]");
}

TEST(SseStreamMaskerGemini, TruncatedStreamIsFlushedByFinish) {
  auto adapter = adapterFor("gemini", "generativelanguage.googleapis.com", "POST", kGeminiTarget);
  FakeTextMasker masker;
  auto run = runMasker(*adapter, {dataEvent(geminiChunk({{{"text", "cut SECRET-8"}}}, false))}, masker);
  ASSERT_EQ(run.out.size(), 2u);
  EXPECT_EQ(clientTexts(*adapter, run.out)["candidates/0/text"], "cut [SECRET]");
}

}  // namespace
}  // namespace shadowai
