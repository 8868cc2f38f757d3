#include "intercept/wire.h"

#include <cstdio>

#include "intercept/scenario.h"

namespace shadowai::bench::intercept {
namespace {

// Words for prompt and answer text, picked deterministically so every run sends the same bytes.
std::string filler(size_t bytes, uint32_t seed) {
  static const char* const kWords[] = {"the", "invoice", "total", "for", "march", "was", "reviewed", "by",
                                       "finance", "and", "approved", "after", "a", "second", "check", "of",
                                       "vendor", "terms", "please", "summarize", "key", "risks", "in", "plain",
                                       "language", "with", "three", "bullet", "points", "each", "short"};
  std::string text;
  uint32_t state = seed;
  while (text.size() < bytes) {
    state = state * 1664525u + 1013904223u;
    if (!text.empty()) text += ' ';
    text += kWords[(state >> 16) % (sizeof(kWords) / sizeof(kWords[0]))];
  }
  text.resize(bytes);
  if (!text.empty() && text.back() == ' ') text.back() = '.';
  return text;
}

// A JSON document built from TEMPLATE with "@" replaced by filler text so that it is exactly SIZE
// bytes long.
std::string sizedJson(const std::string& templ, size_t size, uint32_t seed) {
  const size_t at = templ.find('@');
  const size_t fixed = templ.size() - 1;
  return templ.substr(0, at) + filler(size > fixed ? size - fixed : 0, seed) + templ.substr(at + 1);
}

std::string requestBody(bool stream) {
  const std::string system = filler(400, 7);
  const std::string templ =
      R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":")" + system +
      R"("},{"role":"user","content":"@"}],"temperature":0.2,"max_tokens":256)" +
      (stream ? R"(,"stream":true,"stream_options":{"include_usage":true})" : "") + "}";
  return sizedJson(templ, kRequestBodyBytes, 11);
}

// The whole request as the client writes it: what the OpenAI Python SDK sends, give or take.
std::string requestText(bool stream) {
  const std::string body = requestBody(stream);
  return std::string("POST ") + kPath + " HTTP/1.1\r\n" + "Host: " + kProviderHost + "\r\n" +
         "Accept: application/json\r\n"
         "Content-Type: application/json\r\n"
         "User-Agent: OpenAI/Python 1.51.0\r\n"
         "X-Stainless-Lang: python\r\n"
         "X-Stainless-Package-Version: 1.51.0\r\n"
         "Authorization: Bearer " +
         kClientKey + "\r\n" + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const char* const kResponseHeaderFields =
    "Date: Tue, 01 Apr 2025 12:00:00 GMT\r\n"
    "access-control-expose-headers: X-Request-ID\r\n"
    "openai-organization: bench-org\r\n"
    "openai-processing-ms: 412\r\n"
    "openai-version: 2020-10-01\r\n"
    "x-ratelimit-limit-requests: 10000\r\n"
    "x-ratelimit-remaining-requests: 9999\r\n"
    "x-request-id: req_0123456789abcdef0123456789abcdef\r\n";

std::string responseBody() {
  const std::string templ =
      R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1743508800,)"
      R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"@",)"
      R"("refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":512,"completion_tokens":160,)"
      R"("total_tokens":672,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},)"
      R"("service_tier":"default","system_fingerprint":"fp_0123456789"})";
  return sizedJson(templ, kResponseBodyBytes, 23);
}

std::string responseText() {
  const std::string body = responseBody();
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ") +
         std::to_string(body.size()) + "\r\nConnection: keep-alive\r\n" + kResponseHeaderFields + "\r\n" + body;
}

std::string streamHeaderText() {
  return std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n") +
         "Connection: keep-alive\r\n" + kResponseHeaderFields + "\r\n";
}

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// The events of a streamed answer, each a whole HTTP chunk: COUNT content deltas, the usage event,
// and [DONE] with the last chunk.
std::vector<std::string> streamEventChunks(int count) {
  std::vector<std::string> chunks;
  const std::string prefix =
      R"(data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1743508800,)"
      R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789","choices":[{"index":0,"delta":{)";
  for (int i = 0; i < count; ++i) {
    const std::string delta = i == 0 ? R"("role":"assistant","content":"")"
                                     : R"("content":")" + filler(24, 100 + static_cast<uint32_t>(i)) + R"(")";
    chunks.push_back(chunk(prefix + delta + R"(},"logprobs":null,"finish_reason":null}]})" + "\n\n"));
  }
  chunks.push_back(chunk(
      R"(data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1743508800,)"
      R"("model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0123456789","choices":[],)"
      R"("usage":{"prompt_tokens":512,"completion_tokens":160,"total_tokens":672}})"
      "\n\n"));
  chunks.push_back(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
  return chunks;
}

}  // namespace

Wire makeWire(int streamEvents) {
  Wire wire;
  wire.request = requestText(false);
  wire.streamRequest = requestText(true);
  wire.response = responseText();
  wire.streamHeader = streamHeaderText();
  wire.streamChunks = streamEventChunks(streamEvents);
  wire.responseBodyBytes = responseBody().size();
  wire.eventsPerStream = static_cast<uint32_t>(streamEvents + 2);
  return wire;
}

}  // namespace shadowai::bench::intercept
