// A call on a catalog host that no adapter understands (another API family, an unknown path, a GET).
// It is still proxied and recorded as API "unknown"; it has no prompt or generated text we can read,
// and refusals use the error shape of the host's family.
#pragma once

#include "providers/provider_adapter.h"

namespace shadowai {

class UnknownApiAdapter : public ProviderAdapter {
 public:
  explicit UnknownApiAdapter(ErrorShape errorShape) : ProviderAdapter(errorShape) {}

  ApiKind api() const override { return ApiKind::kUnknown; }
  Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const override;
  Result<ParsedResponseChunk> parseResponse(std::string_view body) const override;
  Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const override;
};

}  // namespace shadowai
