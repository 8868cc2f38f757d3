#include "providers/openai_chat_adapter.h"

#include "providers/openai_common.h"

namespace shadowai {

namespace {

// Tool call arguments are JSON text the model wrote (or, in a request, wrote earlier): masked as text.
// In a stream chunk, `channel` is the choice's channel, and each call's arguments stream on their own
// channel, named by the call's "index" (its position in a chunk's array says nothing across chunks).
Status addToolCalls(std::vector<TextSegment>& out, const Json& holder, const JsonPointer& at, std::string_view what,
                    const std::string& channel = {}) {
  auto calls = arrayMember(holder, "tool_calls", at, what, false);
  if (!calls) return calls.error();
  for (size_t i = 0; i < (*calls)->size(); ++i) {
    const Json& call = (**calls)[i];
    auto function = call.find("function");
    if (call.is_object() && function != call.end()) {
      size_t first = out.size();
      addMember(out, "assistant", *function, "arguments", child(child(child(at, "tool_calls"), i), "function"));
      if (!channel.empty()) setChannel(out, first, channel + "/tool_calls/" + indexMember(call, "index", std::to_string(i)));
    }
  }
  // The legacy single function_call of older models.
  auto legacy = holder.find("function_call");
  if (legacy != holder.end()) {
    size_t first = out.size();
    addMember(out, "assistant", *legacy, "arguments", child(at, "function_call"));
    if (!channel.empty()) setChannel(out, first, channel + "/function_call");
  }
  return {};
}

// A choice's "message" (whole response) or "delta" (stream chunk): the same fields either way. A delta's
// texts go on channels of its choice, named by the choice's "index"; a finish_reason ends them all.
Status addGeneratedMessage(ParsedResponseChunk& chunk, const Json& choices, std::string_view member,
                           const JsonPointer& choicesAt, std::string_view what) {
  bool streamed = member == "delta";
  auto& out = chunk.generated;
  for (size_t i = 0; i < choices.size(); ++i) {
    const Json& choice = choices[i];
    JsonPointer choiceAt = child(choicesAt, i);
    if (!choice.is_object()) return shapeError(what, choiceAt, "is not a choice object");
    std::string channel = streamed ? "choices/" + indexMember(choice, "index", std::to_string(i)) : std::string();
    if (streamed && memberOrNull(choice, "finish_reason").is_string()) chunk.endedChannels.push_back(channel);
    auto message = choice.find(member);
    if (message == choice.end() || message->is_null()) continue;
    JsonPointer messageAt = child(choiceAt, member);
    if (!message->is_object()) return shapeError(what, messageAt, "is not an object");
    size_t first = out.size();
    if (auto status = addOpenAiContent(out, "assistant", memberOrNull(*message, "content"), child(messageAt, "content"), what);
        !status) {
      return status;
    }
    if (streamed) setChannel(out, first, channel + "/content");
    first = out.size();
    addMember(out, "assistant", *message, "refusal", messageAt);
    if (streamed) setChannel(out, first, channel + "/refusal");
    if (auto status = addToolCalls(out, *message, messageAt, what, channel); !status) return status;
  }
  return {};
}

}  // namespace

Result<ParsedRequest> OpenAiChatAdapter::parseRequest(std::string_view target, std::string_view body) const {
  auto json = parseJsonObject(body, kRequestBody);
  if (!json) return json.error();
  ParsedRequest request;
  request.api = api();
  readOpenAiModelAndStream(target, *json, request);

  JsonPointer root;
  auto messages = arrayMember(*json, "messages", root, kRequestBody, true);
  if (!messages) return messages.error();
  for (size_t i = 0; i < (*messages)->size(); ++i) {
    const Json& message = (**messages)[i];
    JsonPointer at = child(child(root, "messages"), i);
    if (!message.is_object()) return shapeError(kRequestBody, at, "is not a message object");
    std::string_view role = openAiRole(message);
    if (auto status = addOpenAiContent(request.prompt, role, memberOrNull(message, "content"), child(at, "content"),
                                       kRequestBody);
        !status) {
      return status.error();
    }
    if (auto status = addToolCalls(request.prompt, message, at, kRequestBody); !status) return status.error();
  }
  return request;
}

Result<ParsedResponseChunk> OpenAiChatAdapter::parseResponse(std::string_view body) const {
  auto json = parseJsonObject(body, kResponseBody);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  chunk.done = true;
  JsonPointer root;
  auto choices = arrayMember(*json, "choices", root, kResponseBody, false);
  if (!choices) return choices.error();
  if (auto status = addGeneratedMessage(chunk, **choices, "message", child(root, "choices"), kResponseBody);
      !status) {
    return status.error();
  }
  chunk.usage = usageFrom(memberOrNull(*json, "usage"), "prompt_tokens", "completion_tokens");
  return chunk;
}

Result<ParsedResponseChunk> OpenAiChatAdapter::parseStreamEvent(const SseEvent& event) const {
  ParsedResponseChunk chunk;
  if (isOpenAiDone(event)) {
    chunk.done = true;
    chunk.endedChannels.push_back("");
    return chunk;
  }
  if (!event.hasData) return chunk;
  auto json = parseJsonObject(event.data, kStreamEvent);
  if (!json) return json.error();
  JsonPointer root;
  auto choices = arrayMember(*json, "choices", root, kStreamEvent, false);
  if (!choices) return choices.error();
  if (auto status = addGeneratedMessage(chunk, **choices, "delta", child(root, "choices"), kStreamEvent);
      !status) {
    return status.error();
  }
  // With stream_options.include_usage the last chunk before [DONE] has empty choices and the usage.
  chunk.usage = usageFrom(memberOrNull(*json, "usage"), "prompt_tokens", "completion_tokens");
  return chunk;
}

}  // namespace shadowai
