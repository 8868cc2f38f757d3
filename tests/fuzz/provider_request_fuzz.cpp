// Fuzzes every adapter's request, response and stream-event parsing on arbitrary bytes, and the
// masking of request and response bodies the proxy does with them (body_masking.h). The first byte
// picks the adapter; the rest is the body. Besides crashes, it checks the contract the masker relies
// on: each segment's JSON pointer resolves, in the parsed body, to a string equal to its text.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "body_masking.h"
#include "providers/provider_adapter.h"

namespace {

using mask_fuzz::check;

struct Route {
  std::string_view family, target;
};

constexpr std::array kRoutes = {
    Route{"openai-chat", "/v1/chat/completions"},
    Route{"openai-chat", "/v1/responses"},
    Route{"openai-chat", "/v1/completions"},
    Route{"openai-chat", "/v1/embeddings"},
    Route{"azure-openai", "/openai/deployments/d/chat/completions?api-version=2024-10-21"},
    Route{"anthropic-messages", "/v1/messages"},
    Route{"gemini", "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"},
    Route{"cohere", "/v2/chat"},
};

void checkSegments(std::string_view body, const std::vector<shadowai::TextSegment>& segments) {
  if (segments.empty()) return;
  auto json = nlohmann::json::parse(body, nullptr, false);
  check(!json.is_discarded());
  for (const auto& segment : segments) {
    check(!segment.text.empty());
    check(segment.role == "system" || segment.role == "user" || segment.role == "assistant" || segment.role == "tool");
    check(json.contains(segment.location));
    const auto& value = json.at(segment.location);
    check(value.is_string() && value.get_ref<const std::string&>() == segment.text);
  }
}

}  // namespace

// libFuzzer calls this once before the first input: compiling every detector takes long enough
// under the sanitizers that the first input would otherwise count against -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mask_fuzz::rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Route& route = kRoutes[data[0] % kRoutes.size()];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto adapter = shadowai::adapterFor(route.family, "", "POST", route.target);

  if (auto request = adapter->parseRequest(route.target, body)) {
    checkSegments(body, request->prompt);
  } else {
    check(!request.error().message.empty());
  }
  mask_fuzz::maskRequestLikeTheProxy(*adapter, route.target, body);
  if (auto response = adapter->parseResponse(body)) {
    checkSegments(body, response->generated);
  } else {
    check(!response.error().message.empty());
  }
  mask_fuzz::maskResponseLikeTheProxy(*adapter, body);
  shadowai::SseEvent event;
  event.hasData = true;
  event.data = std::string(body);
  if (auto chunk = adapter->parseStreamEvent(event)) {
    checkSegments(body, chunk->generated);
  } else {
    check(!chunk.error().message.empty());
  }
  (void)adapter->errorBody(403, body);
  return 0;
}
