// Masking whole request and response bodies per provider: every prompt or answer text the adapter
// finds is masked on its decoded value and written back in place; every other byte is untouched.
#include <gtest/gtest.h>

#include <string>

#include "fake_text_masker.h"
#include "mask/call_masker.h"

namespace shadowai {
namespace {

using testing::FakeTextMasker;

// BODY with each (from, to) replaced once, in order: the exact bytes a masked body must have.
std::string replaced(std::string body, std::initializer_list<std::pair<std::string_view, std::string_view>> edits) {
  for (auto [from, to] : edits) {
    size_t at = body.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) body.replace(at, from.size(), to);
  }
  return body;
}

std::string maskRequest(std::string_view family, std::string_view target, std::string_view body) {
  auto adapter = adapterFor(family, "host", "POST", target);
  FakeTextMasker masker;
  auto out = maskRequestBody(*adapter, target, body, masker);
  EXPECT_TRUE(out.ok()) << out.error().describe();
  if (!out) return "<error>";
  return out->value_or(std::string(body));
}

std::string maskResponse(std::string_view family, std::string_view target, std::string_view body) {
  auto adapter = adapterFor(family, "host", "POST", target);
  FakeTextMasker masker;
  auto out = maskResponseBody(*adapter, body, masker);
  EXPECT_TRUE(out.ok()) << out.error().describe();
  if (!out) return "<error>";
  return out->value_or(std::string(body));
}

TEST(MaskRequestBody, OpenAiChatContentPartsToolCallsAndToolResults) {
  std::string body = R"({
  "model": "gpt-4o", "temperature": 1.0e0, "stream" : false,
  "messages": [
    {"role": "developer", "content": "Never reveal SECRET-42."},
    {"role": "user", "content": [{"type": "text", "text": "mail a\u0040b.com please"},
                                 {"type": "image_url", "image_url": {"url": "https://x/y@z.png"}}]},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "send", "arguments": "{\"to\":\"c@d.org\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "sent to c@d.org with SECRET-7"}
  ]
})";
  EXPECT_EQ(maskRequest("openai-chat", "/v1/chat/completions", body),
            replaced(body, {{"SECRET-42.", "[SECRET]."},
                            {R"("mail a\u0040b.com please")", R"("mail [EMAIL] please")"},
                            {R"({\"to\":\"c@d.org\"})", R"({\"to\":\"[EMAIL]\"})"},
                            {"sent to c@d.org with SECRET-7", "sent to [EMAIL] with [SECRET]"}}));
}

TEST(MaskRequestBody, NothingToMaskForwardsTheOriginal) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  FakeTextMasker masker;
  auto out = maskRequestBody(*adapter, "/v1/chat/completions",
                             R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi there"}]})", masker);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->has_value());
}

TEST(MaskRequestBody, FailsClosed) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/chat/completions");
  FakeTextMasker masker;
  std::string_view target = "/v1/chat/completions";
  // Not JSON, wrong shape, duplicate keys (a first-wins provider would read the unmasked copy).
  EXPECT_FALSE(maskRequestBody(*adapter, target, "{\"messages\":[", masker).ok());
  EXPECT_FALSE(maskRequestBody(*adapter, target, R"({"messages":{"role":"user"}})", masker).ok());
  EXPECT_FALSE(maskRequestBody(*adapter, target,
                               R"({"messages":[{"role":"user","content":"SECRET-1","content":"hi"}]})", masker)
                   .ok());
  EXPECT_FALSE(
      maskRequestBody(*adapter, target, R"({"messages":[],"messages":[{"role":"user","content":"hi"}]})", masker).ok());
  // A NUL byte ends nlohmann's reading; a provider would read (or refuse) the JSON after it, so the
  // adapter refuses the body rather than inspect only its first part.
  using namespace std::string_literals;
  auto afterNul = maskRequestBody(
      *adapter, target, "{\"messages\":[]}\0{\"messages\":[{\"role\":\"user\",\"content\":\"SECRET-1\"}]}"s, masker);
  ASSERT_FALSE(afterNul.ok());
  EXPECT_EQ(afterNul.error().message, "request body is not valid JSON (at byte 16)");
  // The masker itself fails.
  masker.failOn = "boom";
  EXPECT_FALSE(maskRequestBody(*adapter, target, R"({"messages":[{"role":"user","content":"boom"}]})", masker).ok());
}

TEST(MaskRequestBody, UnknownApiHasNothingWeCanFind) {
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", "/v1/images/generations");
  FakeTextMasker masker;
  auto out = maskRequestBody(*adapter, "/v1/images/generations", "not json SECRET-1", masker);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->has_value());
}

TEST(MaskRequestBody, OpenAiResponsesInput) {
  std::string body = R"({"model":"gpt-4.1","instructions":"Key is SECRET-9","input":[
 {"role":"user","content":[{"type":"input_text","text":"I am e@f.io"}]},
 {"type":"function_call","call_id":"c1","name":"lookup","arguments":"{\"q\":\"SECRET-1\"}"},
 {"type":"function_call_output","call_id":"c1","output":"found g@h.net"}]})";
  EXPECT_EQ(maskRequest("openai-chat", "/v1/responses", body),
            replaced(body, {{"Key is SECRET-9", "Key is [SECRET]"},
                            {"I am e@f.io", "I am [EMAIL]"},
                            {R"(\"SECRET-1\")", R"(\"[SECRET]\")"},
                            {"found g@h.net", "found [EMAIL]"}}));
  std::string plain = R"({"model":"gpt-4.1","input":"write to a@b.com"})";
  EXPECT_EQ(maskRequest("openai-chat", "/v1/responses", plain), R"({"model":"gpt-4.1","input":"write to [EMAIL]"})");
}

TEST(MaskRequestBody, AnthropicSystemMessagesAndToolResults) {
  std::string body = R"({"model":"claude-sonnet-4-20250514","max_tokens":1024,
"system":[{"type":"text","text":"Operator a@b.com","cache_control":{"type":"ephemeral"}}],
"messages":[{"role":"user","content":"Token SECRET-123 leaked"},
 {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"who":"c@d.com","n":1.50}}]},
 {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"owner e@f.com"}]}]}]})";
  EXPECT_EQ(maskRequest("anthropic-messages", "/v1/messages", body),
            replaced(body, {{"Operator a@b.com", "Operator [EMAIL]"},
                            {"Token SECRET-123 leaked", "Token [SECRET] leaked"},
                            {"\"c@d.com\"", "\"[EMAIL]\""},
                            {"owner e@f.com", "owner [EMAIL]"}}));
}

TEST(MaskRequestBody, GeminiContentsPartsAndSystemInstruction) {
  std::string target = "/v1beta/models/gemini-2.0-flash:generateContent";
  std::string body = R"({"systemInstruction":{"parts":[{"text":"Admin is a@b.com"}]},
"contents":[{"role":"user","parts":[{"text":"My key SECRET-5"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},
 {"role":"model","parts":[{"functionCall":{"name":"f","args":{"email":"c@d.com"}}}]},
 {"role":"function","parts":[{"functionResponse":{"name":"f","response":{"result":"ok SECRET-6"}}}]}],
"generationConfig":{"temperature":0.10}})";
  EXPECT_EQ(maskRequest("gemini", target, body),
            replaced(body, {{"Admin is a@b.com", "Admin is [EMAIL]"},
                            {"My key SECRET-5", "My key [SECRET]"},
                            {"\"c@d.com\"", "\"[EMAIL]\""},
                            {"ok SECRET-6", "ok [SECRET]"}}));
}

TEST(MaskResponseBody, PerProvider) {
  std::string chat = R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,
"message":{"role":"assistant","content":"Reach a@b.com","refusal":null},"finish_reason":"stop"}],
"usage":{"prompt_tokens":9,"completion_tokens":12}})";
  EXPECT_EQ(maskResponse("openai-chat", "/v1/chat/completions", chat), replaced(chat, {{"Reach a@b.com", "Reach [EMAIL]"}}));

  std::string responses = R"({"id":"resp_1","object":"response","output":[{"type":"message","id":"msg_1",
"role":"assistant","content":[{"type":"output_text","text":"Use SECRET-3","annotations":[]}]}],
"usage":{"input_tokens":5,"output_tokens":3}})";
  EXPECT_EQ(maskResponse("openai-chat", "/v1/responses", responses), replaced(responses, {{"Use SECRET-3", "Use [SECRET]"}}));

  std::string anthropic = R"({"id":"msg_1","type":"message","role":"assistant","content":[
{"type":"thinking","thinking":"user is a@b.com","signature":"sig"},{"type":"text","text":"Done, SECRET-8."}],
"usage":{"input_tokens":10,"output_tokens":20}})";
  EXPECT_EQ(maskResponse("anthropic-messages", "/v1/messages", anthropic),
            replaced(anthropic, {{"user is a@b.com", "user is [EMAIL]"}, {"Done, SECRET-8.", "Done, [SECRET]."}}));

  std::string gemini = R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Mail a@b.com"}]},
"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3}})";
  EXPECT_EQ(maskResponse("gemini", "/v1beta/models/gemini-2.0-flash:generateContent", gemini),
            replaced(gemini, {{"Mail a@b.com", "Mail [EMAIL]"}}));
}

// streamGenerateContent without alt=sse: a JSON array of responses, buffered whole by the caller. The
// value split between two elements cannot be caught here (each element is masked on its own).
TEST(MaskResponseBody, GeminiJsonArrayStream) {
  std::string body = "[{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Key SECRET-1 \"}],\"role\": \"model\"},"
                     "\"index\": 0}]}\r\n,\r\n{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"and a@b.com\"}],"
                     "\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}]}]";
  EXPECT_EQ(maskResponse("gemini", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", body),
            replaced(body, {{"Key SECRET-1 ", "Key [SECRET] "}, {"and a@b.com", "and [EMAIL]"}}));
}

TEST(MaskResponseBody, FailsClosed) {
  auto adapter = adapterFor("anthropic-messages", "api.anthropic.com", "POST", "/v1/messages");
  FakeTextMasker masker;
  EXPECT_FALSE(maskResponseBody(*adapter, "<html>502</html>", masker).ok());
  EXPECT_FALSE(maskResponseBody(*adapter, R"({"content":[{"type":"text","text":"a","text":"SECRET-1"}]})", masker).ok());
  masker.failOn = "x";
  EXPECT_FALSE(maskResponseBody(*adapter, R"({"content":[{"type":"text","text":"x"}]})", masker).ok());
}

}  // namespace
}  // namespace shadowai
