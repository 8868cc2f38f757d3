#include "providers/anthropic_messages_adapter.h"

#include "providers/json_text.h"

namespace shadowai {

namespace {

Status addBlocks(std::vector<TextSegment>& out, std::string_view role, const Json& content, const JsonPointer& at,
                 std::string_view what, int depth);

// One content block. Text lives in "text" (text), "thinking" (thinking), tool_use "input" (JSON the
// model wrote), tool_result "content" (a string or blocks: what a tool returned), and a plain-text
// document's source "data".
Status addBlock(std::vector<TextSegment>& out, std::string_view role, const Json& block, const JsonPointer& at,
                std::string_view what, int depth) {
  if (!block.is_object()) return shapeError(what, at, "is not a content block object");
  std::string type = stringMember(block, "type");
  addMember(out, role, block, "text", at);
  if (type == "thinking") {
    addMember(out, role, block, "thinking", at);
  } else if (type == "tool_use" || type == "server_tool_use") {
    return addStringLeaves(out, role, memberOrNull(block, "input"), child(at, "input"), what);
  } else if (type == "tool_result" && depth == 0) {
    return addBlocks(out, "tool", memberOrNull(block, "content"), child(at, "content"), what, depth + 1);
  } else if (type == "document") {
    const Json& source = memberOrNull(block, "source");
    if (stringMember(source, "type") == "text") addMember(out, role, source, "data", child(at, "source"));
  }
  return {};
}

// Content that is a string, or an array of blocks.
Status addBlocks(std::vector<TextSegment>& out, std::string_view role, const Json& content, const JsonPointer& at,
                 std::string_view what, int depth) {
  if (content.is_null()) return {};
  if (content.is_string()) {
    addText(out, role, content, at);
    return {};
  }
  if (!content.is_array()) return shapeError(what, at, "is not a string or an array of content blocks");
  for (size_t i = 0; i < content.size(); ++i) {
    if (auto status = addBlock(out, role, content[i], child(at, i), what, depth); !status) return status;
  }
  return {};
}

std::string_view anthropicRole(const Json& message) {
  return stringMember(message, "role") == "assistant" ? "assistant" : "user";
}

}  // namespace

Result<ParsedRequest> AnthropicMessagesAdapter::parseRequest(std::string_view /*target*/, std::string_view body) const {
  auto json = parseJsonObject(body, kRequestBody);
  if (!json) return json.error();
  ParsedRequest request;
  request.api = api();
  request.model = stringMember(*json, "model");
  request.streaming = trueMember(*json, "stream");

  JsonPointer root;
  if (auto status = addBlocks(request.prompt, "system", memberOrNull(*json, "system"), child(root, "system"),
                              kRequestBody, 0);
      !status) {
    return status.error();
  }
  const Json& messages = memberOrNull(*json, "messages");
  if (!messages.is_array()) return shapeError(kRequestBody, child(root, "messages"), "is not an array of messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    JsonPointer at = child(child(root, "messages"), i);
    if (!messages[i].is_object()) return shapeError(kRequestBody, at, "is not a message object");
    if (auto status = addBlocks(request.prompt, anthropicRole(messages[i]), memberOrNull(messages[i], "content"),
                                child(at, "content"), kRequestBody, 0);
        !status) {
      return status.error();
    }
  }
  return request;
}

Result<ParsedResponseChunk> AnthropicMessagesAdapter::parseResponse(std::string_view body) const {
  auto json = parseJsonObject(body, kResponseBody);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  chunk.done = true;
  if (auto status = addBlocks(chunk.generated, "assistant", memberOrNull(*json, "content"), child(JsonPointer(), "content"),
                              kResponseBody, 0);
      !status) {
    return status.error();
  }
  chunk.usage = usageFrom(memberOrNull(*json, "usage"), "input_tokens", "output_tokens");
  return chunk;
}

Result<ParsedResponseChunk> AnthropicMessagesAdapter::parseStreamEvent(const SseEvent& event) const {
  ParsedResponseChunk chunk;
  if (!event.hasData) return chunk;
  auto json = parseJsonObject(event.data, kStreamEvent);
  if (!json) return json.error();
  JsonPointer root;
  // The data's "type" is authoritative; the `event:` line repeats it.
  std::string type = stringMember(*json, "type");
  if (type == "message_start") {
    const Json& message = memberOrNull(*json, "message");
    JsonPointer messageAt = child(root, "message");
    if (auto status = addBlocks(chunk.generated, "assistant", memberOrNull(message, "content"),
                                child(messageAt, "content"), kStreamEvent, 0);
        !status) {
      return status.error();
    }
    chunk.usage = usageFrom(memberOrNull(message, "usage"), "input_tokens", "output_tokens");
  } else if (type == "content_block_start") {
    if (auto status = addBlock(chunk.generated, "assistant", memberOrNull(*json, "content_block"),
                               child(root, "content_block"), kStreamEvent, 0);
        !status) {
      return status.error();
    }
  } else if (type == "content_block_delta") {
    // text_delta, thinking_delta, and input_json_delta (tool input JSON, streamed as text).
    const Json& delta = memberOrNull(*json, "delta");
    // A block streams one kind of delta, so the block's index names the channel.
    for (std::string_view key : {"text", "thinking", "partial_json"}) {
      addMember(chunk.generated, "assistant", delta, key, child(root, "delta"));
    }
    setChannel(chunk.generated, 0, "content/" + indexMember(*json, "index", "-"));
  } else if (type == "content_block_stop") {
    chunk.endedChannels.push_back("content/" + indexMember(*json, "index", "-"));
  } else if (type == "message_delta") {
    // Cumulative output tokens (and, on newer API versions, input tokens too).
    chunk.usage = usageFrom(memberOrNull(*json, "usage"), "input_tokens", "output_tokens");
  }
  chunk.done = type == "message_stop" || type == "error";
  if (chunk.done) chunk.endedChannels.push_back("");
  return chunk;
}

}  // namespace shadowai
