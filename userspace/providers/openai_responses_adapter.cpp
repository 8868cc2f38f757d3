#include "providers/openai_responses_adapter.h"

#include "providers/openai_common.h"

namespace shadowai {

namespace {

// One item of a request's input or a response's output. Items are the same types in both directions:
// messages (content string or parts), function and custom tool calls (arguments/input the model
// wrote), their outputs (what a tool returned), and reasoning summaries.
Status addItem(std::vector<TextSegment>& out, const Json& item, const JsonPointer& at, std::string_view what) {
  if (!item.is_object()) return shapeError(what, at, "is not an item object");
  std::string type = stringMember(item, "type");
  if (type.empty() || type == "message") {
    return addOpenAiContent(out, openAiRole(item), memberOrNull(item, "content"), child(at, "content"), what);
  }
  if (type == "function_call") {
    addMember(out, "assistant", item, "arguments", at);
  } else if (type == "custom_tool_call") {
    addMember(out, "assistant", item, "input", at);
  } else if (type.ends_with("_call_output")) {
    const Json& output = memberOrNull(item, "output");
    return addOpenAiContent(out, "tool", output, child(at, "output"), what);
  } else if (type == "reasoning") {
    const Json& summary = memberOrNull(item, "summary");
    for (size_t i = 0; summary.is_array() && i < summary.size(); ++i) {
      addMember(out, "assistant", summary[i], "text", child(child(at, "summary"), i));
    }
  }
  return {};
}

Status addItems(std::vector<TextSegment>& out, const Json& holder, std::string_view key, const JsonPointer& at,
                std::string_view what) {
  auto items = arrayMember(holder, key, at, what, false);
  if (!items) return items.error();
  for (size_t i = 0; i < (*items)->size(); ++i) {
    if (auto status = addItem(out, (**items)[i], child(child(at, key), i), what); !status) return status;
  }
  return {};
}

// A whole response object: the body of a non-streamed call, or `response` in lifecycle events.
Status addResponseObject(ParsedResponseChunk& chunk, const Json& response, const JsonPointer& at, std::string_view what) {
  if (!response.is_object()) return shapeError(what, at, "is not a response object");
  if (auto status = addItems(chunk.generated, response, "output", at, what); !status) return status;
  chunk.usage = usageFrom(memberOrNull(response, "usage"), "input_tokens", "output_tokens");
  return {};
}

// Where a streamed text sits: "output/<output_index>[/content/<content_index>][/summary/<summary_index>]"
// (the item, then the part), then what kind of text it is ("output_text", "function_call_arguments"),
// so a *.delta event and its *.done event name the same channel.
std::string responsesPlace(const Json& event) {
  std::string place = "output/" + indexMember(event, "output_index", "-");
  if (event.contains("content_index")) place += "/content/" + indexMember(event, "content_index", "-");
  if (event.contains("summary_index")) place += "/summary/" + indexMember(event, "summary_index", "-");
  return place;
}

std::string responsesChannel(const Json& event, std::string_view type) {
  std::string_view kind = type;
  if (kind.starts_with("response.")) kind.remove_prefix(std::string_view("response.").size());
  kind = kind.substr(0, kind.rfind('.'));  // drop ".delta" / ".done"
  return responsesPlace(event) + "/" + std::string(kind);
}

// The end of a part or an item ends every text inside it; any other *.done ends its own channel.
std::string responsesEndedChannel(const Json& event, std::string_view type) {
  if (type == "response.output_item.done") return "output/" + indexMember(event, "output_index", "-");
  if (type == "response.content_part.done" || type == "response.reasoning_summary_part.done") {
    return responsesPlace(event);
  }
  return responsesChannel(event, type);
}

}  // namespace

Result<ParsedRequest> OpenAiResponsesAdapter::parseRequest(std::string_view target, std::string_view body) const {
  auto json = parseJsonObject(body, kRequestBody);
  if (!json) return json.error();
  ParsedRequest request;
  request.api = api();
  readOpenAiModelAndStream(target, *json, request);

  JsonPointer root;
  addMember(request.prompt, "system", *json, "instructions", root);
  const Json& input = memberOrNull(*json, "input");
  if (input.is_string()) {
    addText(request.prompt, "user", input, child(root, "input"));
  } else if (input.is_array()) {
    if (auto status = addItems(request.prompt, *json, "input", root, kRequestBody); !status) return status.error();
  } else if (!input.is_null()) {
    return shapeError(kRequestBody, child(root, "input"), "is not a string or an array of items");
  }
  return request;
}

Result<ParsedResponseChunk> OpenAiResponsesAdapter::parseResponse(std::string_view body) const {
  auto json = parseJsonObject(body, kResponseBody);
  if (!json) return json.error();
  ParsedResponseChunk chunk;
  chunk.done = true;
  if (auto status = addResponseObject(chunk, *json, JsonPointer(), kResponseBody); !status) return status.error();
  return chunk;
}

Result<ParsedResponseChunk> OpenAiResponsesAdapter::parseStreamEvent(const SseEvent& event) const {
  ParsedResponseChunk chunk;
  if (!event.hasData) return chunk;
  auto json = parseJsonObject(event.data, kStreamEvent);
  if (!json) return json.error();
  JsonPointer root;
  std::string type = stringMember(*json, "type");

  // Deltas of any kind of generated text (output_text, refusal, function_call_arguments,
  // reasoning_summary_text, audio transcript, ...) all carry it in "delta"; the matching ".done"
  // events repeat the whole text under the name of what it is, and end the delta's channel.
  bool isDelta = type.ends_with(".delta");
  bool isDone = type.ends_with(".done");
  if (isDelta) {
    addMember(chunk.generated, "assistant", *json, "delta", root);
    setChannel(chunk.generated, 0, responsesChannel(*json, type));
  } else if (isDone) {
    for (std::string_view key : {"text", "refusal", "arguments", "input", "transcript"}) {
      addMember(chunk.generated, "assistant", *json, key, root);
    }
    chunk.endedChannels.push_back(responsesEndedChannel(*json, type));
  }
  if (type == "response.content_part.added" || type == "response.content_part.done") {
    const Json& part = memberOrNull(*json, "part");
    addMember(chunk.generated, "assistant", part, "text", child(root, "part"));
    addMember(chunk.generated, "assistant", part, "refusal", child(root, "part"));
  } else if (type == "response.output_item.added" || type == "response.output_item.done") {
    if (auto status = addItem(chunk.generated, memberOrNull(*json, "item"), child(root, "item"), kStreamEvent);
        !status) {
      return status.error();
    }
  } else if (json->contains("response")) {
    // response.created / in_progress / completed / incomplete / failed carry the whole response so far.
    if (auto status = addResponseObject(chunk, memberOrNull(*json, "response"), child(root, "response"), kStreamEvent); !status) {
      return status.error();
    }
  }
  chunk.done = type == "response.completed" || type == "response.incomplete" || type == "response.failed" ||
               type == "error";
  if (chunk.done) chunk.endedChannels.push_back("");
  return chunk;
}

}  // namespace shadowai
