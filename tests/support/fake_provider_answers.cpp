#include "support/fake_provider_answers.h"

#include <openssl/evp.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/fake_provider.h"

namespace shadowai::test {
namespace fake_provider {
namespace {

using Json = nlohmann::ordered_json;

// Usage figures: a fixed prompt size, and one output token per streamed piece.
constexpr int kPromptTokens = 12;
constexpr size_t kEmbeddingDimensions = 8;

struct Call {
  const std::string& text;
  std::vector<std::string> pieces;
  std::string model;
  std::string id;  // provider-specific prefix + sequence
  int64_t created;
  int outputTokens() const { return static_cast<int>(pieces.size()); }
};

Answer jsonAnswer(unsigned status, const Json& body) {
  Answer answer;
  answer.status = status;
  answer.body = body.dump();
  return answer;
}

Answer streamAnswer(std::vector<std::string> events) {
  Answer answer;
  answer.contentType = "text/event-stream; charset=utf-8";
  answer.headers.emplace_back("Cache-Control", "no-cache");
  answer.streamed = true;
  answer.events = std::move(events);
  return answer;
}

std::string data(const Json& event) { return "data: " + event.dump() + "\n\n"; }
std::string namedEvent(const std::string& name, const Json& event) {
  return "event: " + name + "\ndata: " + event.dump() + "\n\n";
}

Json openAiUsage(const Call& call) {
  return {{"prompt_tokens", kPromptTokens},
          {"completion_tokens", call.outputTokens()},
          {"total_tokens", kPromptTokens + call.outputTokens()}};
}

// ---- OpenAI chat completions and (legacy) completions ----

Answer chatCompletions(const Call& call, const Json& request) {
  if (!request.value("stream", false)) {
    Json message = {{"role", "assistant"}, {"content", call.text}, {"refusal", nullptr}};
    return jsonAnswer(200, {{"id", call.id}, {"object", "chat.completion"}, {"created", call.created},
                            {"model", call.model},
                            {"choices", Json::array({{{"index", 0}, {"message", message}, {"logprobs", nullptr},
                                                      {"finish_reason", "stop"}}})},
                            {"usage", openAiUsage(call)}, {"system_fingerprint", "fp_shadowai"}});
  }
  const bool withUsage = request.contains("stream_options") && request["stream_options"].is_object() &&
                         request["stream_options"].value("include_usage", false);
  auto chunk = [&](Json delta, Json finishReason) {
    Json event = {{"id", call.id}, {"object", "chat.completion.chunk"}, {"created", call.created},
                  {"model", call.model}, {"system_fingerprint", "fp_shadowai"},
                  {"choices", Json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                                            {"finish_reason", std::move(finishReason)}}})}};
    if (withUsage) event["usage"] = nullptr;
    return data(event);
  };
  std::vector<std::string> events{chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr)};
  for (const auto& piece : call.pieces) events.push_back(chunk({{"content", piece}}, nullptr));
  events.push_back(chunk(Json::object(), "stop"));
  if (withUsage) {
    events.push_back(data({{"id", call.id}, {"object", "chat.completion.chunk"}, {"created", call.created},
                           {"model", call.model}, {"system_fingerprint", "fp_shadowai"},
                           {"choices", Json::array()}, {"usage", openAiUsage(call)}}));
  }
  events.push_back("data: [DONE]\n\n");
  return streamAnswer(std::move(events));
}

Answer completions(const Call& call, const Json& request) {
  auto choice = [](const std::string& text, Json finishReason) {
    return Json::array({{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", finishReason}}});
  };
  Json head = {{"id", call.id}, {"object", "text_completion"}, {"created", call.created}, {"model", call.model}};
  if (!request.value("stream", false)) {
    Json body = head;
    body["choices"] = choice(call.text, "stop");
    body["usage"] = openAiUsage(call);
    return jsonAnswer(200, body);
  }
  const bool withUsage = request.contains("stream_options") && request["stream_options"].is_object() &&
                         request["stream_options"].value("include_usage", false);
  std::vector<std::string> events;
  auto push = [&](Json choices, Json usage) {
    Json event = head;
    event["choices"] = std::move(choices);
    if (withUsage) event["usage"] = std::move(usage);
    events.push_back(data(event));
  };
  for (const auto& piece : call.pieces) push(choice(piece, nullptr), nullptr);
  push(choice("", "stop"), nullptr);
  if (withUsage) push(Json::array(), openAiUsage(call));
  events.push_back("data: [DONE]\n\n");
  return streamAnswer(std::move(events));
}

std::string base64(const std::string& bytes) {
  std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  encoded.resize(static_cast<size_t>(length));
  return encoded;
}

Answer embeddings(const Call& call, const Json& request) {
  const Json input = request.value("input", Json());
  const size_t inputs = input.is_array() && !input.empty() && !input[0].is_number() ? input.size() : 1;
  const bool asBase64 = request.value("encoding_format", "float") == "base64";
  Json items = Json::array();
  for (size_t index = 0; index < inputs; ++index) {
    std::vector<float> vector(kEmbeddingDimensions);
    for (size_t i = 0; i < vector.size(); ++i) vector[i] = static_cast<float>(index + 1) / static_cast<float>(i + 2);
    Json embedding = vector;
    if (asBase64) {  // little-endian float32, as the API sends it
      std::string bytes(vector.size() * sizeof(float), '\0');
      std::memcpy(bytes.data(), vector.data(), bytes.size());
      embedding = base64(bytes);
    }
    items.push_back({{"object", "embedding"}, {"index", index}, {"embedding", embedding}});
  }
  return jsonAnswer(200, {{"object", "list"}, {"data", items}, {"model", call.model},
                          {"usage", {{"prompt_tokens", kPromptTokens}, {"total_tokens", kPromptTokens}}}});
}

// ---- OpenAI Responses ----

Answer responses(const Call& call, const Json& request) {
  const std::string messageId = "msg_" + call.id.substr(5);
  auto textPart = [](const std::string& text) {
    return Json{{"type", "output_text"}, {"text", text}, {"annotations", Json::array()}};
  };
  auto message = [&](const std::string& status, Json content) {
    return Json{{"type", "message"}, {"id", messageId}, {"status", status}, {"role", "assistant"},
                {"content", std::move(content)}};
  };
  auto response = [&](const std::string& status, Json output, Json usage) {
    return Json{{"id", call.id}, {"object", "response"}, {"created_at", call.created}, {"status", status},
                {"error", nullptr}, {"incomplete_details", nullptr}, {"instructions", nullptr},
                {"max_output_tokens", request.value("max_output_tokens", Json())}, {"model", call.model},
                {"output", std::move(output)}, {"parallel_tool_calls", true}, {"previous_response_id", nullptr},
                {"reasoning", {{"effort", nullptr}, {"summary", nullptr}}}, {"store", true},
                {"temperature", 1.0}, {"text", {{"format", {{"type", "text"}}}}}, {"tool_choice", "auto"},
                {"tools", Json::array()}, {"top_p", 1.0}, {"truncation", "disabled"}, {"usage", std::move(usage)},
                {"user", nullptr}, {"metadata", Json::object()}};
  };
  const Json usage = {{"input_tokens", kPromptTokens}, {"input_tokens_details", {{"cached_tokens", 0}}},
                      {"output_tokens", call.outputTokens()}, {"output_tokens_details", {{"reasoning_tokens", 0}}},
                      {"total_tokens", kPromptTokens + call.outputTokens()}};
  const Json done = response("completed", Json::array({message("completed", Json::array({textPart(call.text)}))}), usage);
  if (!request.value("stream", false)) return jsonAnswer(200, done);

  std::vector<std::string> events;
  int sequence = 0;
  auto push = [&](const std::string& type, Json fields) {
    Json event = {{"type", type}, {"sequence_number", sequence++}};
    event.update(fields);
    events.push_back(namedEvent(type, event));
  };
  push("response.created", {{"response", response("in_progress", Json::array(), nullptr)}});
  push("response.in_progress", {{"response", response("in_progress", Json::array(), nullptr)}});
  push("response.output_item.added", {{"output_index", 0}, {"item", message("in_progress", Json::array())}});
  auto at = [&](Json fields) {
    Json located = {{"item_id", messageId}, {"output_index", 0}, {"content_index", 0}};
    located.update(fields);
    return located;
  };
  push("response.content_part.added", at({{"part", textPart("")}}));
  for (const auto& piece : call.pieces) push("response.output_text.delta", at({{"delta", piece}}));
  push("response.output_text.done", at({{"text", call.text}}));
  push("response.content_part.done", at({{"part", textPart(call.text)}}));
  push("response.output_item.done", {{"output_index", 0}, {"item", done["output"][0]}});
  push("response.completed", {{"response", done}});
  return streamAnswer(std::move(events));
}

// ---- Anthropic Messages ----

Answer messages(const Call& call, const Json& request) {
  const Json usage = {{"input_tokens", kPromptTokens}, {"output_tokens", call.outputTokens()}};
  auto message = [&](Json content, Json stopReason, Json messageUsage) {
    return Json{{"id", call.id}, {"type", "message"}, {"role", "assistant"}, {"model", call.model},
                {"content", std::move(content)}, {"stop_reason", std::move(stopReason)}, {"stop_sequence", nullptr},
                {"usage", std::move(messageUsage)}};
  };
  if (!request.value("stream", false)) {
    return jsonAnswer(200, message(Json::array({{{"type", "text"}, {"text", call.text}}}), "end_turn", usage));
  }
  std::vector<std::string> events;
  auto push = [&](const std::string& type, Json fields) {
    Json event = {{"type", type}};
    event.update(fields);
    events.push_back(namedEvent(type, event));
  };
  push("message_start",
       {{"message", message(Json::array(), nullptr, {{"input_tokens", kPromptTokens}, {"output_tokens", 1}})}});
  push("content_block_start", {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}});
  push("ping", Json::object());
  for (const auto& piece : call.pieces) {
    push("content_block_delta", {{"index", 0}, {"delta", {{"type", "text_delta"}, {"text", piece}}}});
  }
  push("content_block_stop", {{"index", 0}});
  push("message_delta", {{"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                         {"usage", {{"output_tokens", call.outputTokens()}}}});
  push("message_stop", Json::object());
  return streamAnswer(std::move(events));
}

// ---- Gemini generateContent ----

Answer generateContent(const Call& call, bool stream, bool sse) {
  auto chunk = [&](const std::string& text, bool last) {
    Json candidate = {{"content", {{"parts", Json::array({{{"text", text}}})}, {"role", "model"}}}};
    if (last) candidate["finishReason"] = "STOP";
    candidate["index"] = 0;
    const int output = last ? call.outputTokens() : 0;
    Json usage = {{"promptTokenCount", kPromptTokens}, {"totalTokenCount", kPromptTokens + output}};
    if (last) usage["candidatesTokenCount"] = output;
    return Json{{"candidates", Json::array({candidate})}, {"usageMetadata", usage}, {"modelVersion", call.model},
                {"responseId", call.id}};
  };
  if (!stream) return jsonAnswer(200, chunk(call.text, true));
  std::vector<std::string> events;
  for (size_t i = 0; i < call.pieces.size(); ++i) {
    const std::string event = chunk(call.pieces[i], i + 1 == call.pieces.size()).dump();
    // With alt=sse, "data: ...\r\n\r\n" as Google sends it; otherwise one JSON array, element by element.
    events.push_back(sse ? "data: " + event + "\r\n\r\n" : (i == 0 ? "[" : ",\r\n") + event);
  }
  if (!sse) events.push_back("]");
  Answer answer = streamAnswer(std::move(events));
  if (!sse) answer.contentType = "application/json; charset=UTF-8";
  return answer;
}

Answer notFound(const RecordedRequest& request) {
  return jsonAnswer(404, {{"error", {{"message", "Unknown request URL: " + request.method + " " + request.target + "."},
                                     {"type", "invalid_request_error"}, {"param", nullptr},
                                     {"code", "unknown_url"}}}});
}

}  // namespace

std::string withoutPieceBreaks(const std::string& text) {
  std::string whole;
  for (char c : text) {
    if (c != kPieceBreak) whole += c;
  }
  return whole;
}

std::vector<std::string> splitIntoPieces(const std::string& text) {
  std::vector<std::string> pieces;
  if (text.find(kPieceBreak) != std::string::npos) {
    size_t start = 0;
    for (;;) {
      const size_t end = text.find(kPieceBreak, start);
      pieces.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) return pieces;
      start = end + 1;
    }
  }
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    pieces.push_back(text.substr(start, end - start));
    start = end;
  }
  if (pieces.empty()) pieces.emplace_back();  // an empty answer still streams one (empty) delta
  return pieces;
}

Answer generateAnswer(const RecordedRequest& request, const std::string& text, uint64_t sequence) {
  const std::string& target = request.target;
  const size_t queryStart = target.find('?');
  const std::string path = target.substr(0, queryStart);
  const std::string query = queryStart == std::string::npos ? "" : target.substr(queryStart + 1);
  if (request.method != "POST") return notFound(request);

  const Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return jsonAnswer(400, {{"error", {{"message", "The request body is not a JSON object."},
                                       {"type", "invalid_request_error"}, {"param", nullptr}, {"code", nullptr}}}});
  }
  const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string serial = std::to_string(1000000 + sequence);
  const std::string whole = withoutPieceBreaks(text);
  Call call{whole, splitIntoPieces(text), body.value("model", "unknown-model"), serial, created};
  auto withId = [&](const std::string& prefix) {
    call.id = prefix + serial;
    return call;
  };

  if (path == "/v1/chat/completions") return chatCompletions(withId("chatcmpl-"), body);
  if (path == "/v1/completions") return completions(withId("cmpl-"), body);
  if (path == "/v1/embeddings") return embeddings(call, body);
  if (path == "/v1/responses") return responses(withId("resp_"), body);
  if (path == "/v1/messages") return messages(withId("msg_"), body);

  static const std::regex kGemini(R"(/(v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent))");
  std::smatch match;
  if (std::regex_match(path, match, kGemini)) {
    call.model = match[2].str();
    const bool stream = match[3].str() == "streamGenerateContent";
    return generateContent(withId("gemini-"), stream, query.find("alt=sse") != std::string::npos);
  }
  return notFound(request);
}

}  // namespace fake_provider

FakeReply openAiErrorReply(unsigned status, const std::string& type, const std::string& message,
                           const std::string& code) {
  nlohmann::ordered_json error = {{"message", message}, {"type", type}, {"param", nullptr}};
  error["code"] = code.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(code);
  return {status, "application/json", nlohmann::ordered_json{{"error", error}}.dump(), {}};
}

FakeReply anthropicErrorReply(unsigned status, const std::string& type, const std::string& message) {
  nlohmann::ordered_json body = {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
  return {status, "application/json", body.dump(), {}};
}

FakeReply geminiErrorReply(unsigned status, const std::string& statusName, const std::string& message) {
  nlohmann::ordered_json body = {{"error", {{"code", status}, {"message", message}, {"status", statusName}}}};
  return {status, "application/json; charset=UTF-8", body.dump(), {}};
}

}  // namespace shadowai::test
