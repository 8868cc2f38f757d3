// What the policy layer sees of one LLM call, whatever the provider: which API, which model, whether
// the answer streams, and every piece of prompt or generated text with the JSON location it came from,
// so the masker can rewrite exactly those strings and the blocker can read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shadowai {

enum class ApiKind {
  kOpenAiChat,
  kOpenAiResponses,
  kOpenAiCompletions,
  kOpenAiEmbeddings,
  kAnthropicMessages,
  kGeminiGenerate,
  kUnknown,
};

// Stable lower-case names for alerts and policy selectors: "openai-chat", ..., "unknown".
std::string_view apiKindName(ApiKind api);

struct TextSegment {
  std::string role;  // system | user | assistant | tool
  std::string text;  // the decoded JSON string value
  // Where the string sits: in the request or response body, or, for a streamed event, in that event's
  // data parsed as JSON. The value there is always a JSON string equal to `text`.
  nlohmann::json::json_pointer location;
  // Empty for text that is whole where it sits (a body, a request, a streamed event that repeats a
  // finished text). For a streamed delta, the stream it continues ("choices/0/content",
  // "content/1"): deltas of one channel concatenate, so a value split across events is caught only by
  // masking them as one stream. Channels of different events with the same name are the same stream.
  std::string channel;

  bool operator==(const TextSegment&) const = default;
};

// Token counts as the provider reported them. A streamed event may carry only one of the two
// (Anthropic's message_start has the input, message_delta the running output), so each is optional and
// the latest value seen for a call wins.
struct Usage {
  std::optional<uint64_t> inputTokens;
  std::optional<uint64_t> outputTokens;

  bool operator==(const Usage&) const = default;
};

struct ParsedRequest {
  ApiKind api = ApiKind::kUnknown;
  std::string model;  // empty when the request does not name one
  bool streaming = false;
  std::vector<TextSegment> prompt;
};

struct ParsedResponseChunk {
  std::vector<TextSegment> generated;
  std::optional<Usage> usage;
  bool done = false;  // the provider said the answer is complete (final event, or a whole body)
  // Channels that get no more deltas after this event (a finish_reason, content_block_stop, a *.done
  // event). An entry also ends every channel below it: "choices/0" ends "choices/0/content", and ""
  // (the end of the whole answer: [DONE], message_stop, response.completed) ends them all.
  std::vector<std::string> endedChannels;
};

// Whether ENDED (an entry of endedChannels) ends CHANNEL.
bool channelEndedBy(std::string_view channel, std::string_view ended);

}  // namespace shadowai
