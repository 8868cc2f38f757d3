// Anthropic Messages (/v1/messages): "system" and "messages" with string or block content in the
// request; content blocks in the response; message_start / content_block_delta / message_delta /
// message_stop events when streamed.
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class AnthropicMessagesAdapter : public ProviderAdapter {
 public:
  AnthropicMessagesAdapter() : ProviderAdapter(ErrorShape::kAnthropic) {}

  ApiKind api() const override { return ApiKind::kAnthropicMessages; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

}  // namespace shadowai
