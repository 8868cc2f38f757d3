// The per-provider understanding of an LLM call. The proxy picks an adapter once per request from the
// catalog entry's apiFamily and the request line, then asks it for the request's model and prompt
// text, for the generated text and usage of the response (a whole body, or each streamed event), and
// for refusals in the provider's own error shape.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "providers/provider_call.h"
#include "providers/provider_errors.h"
#include "providers/sse_event.h"

namespace shadowai {

class ProviderAdapter {
 public:
  explicit ProviderAdapter(ErrorShape errorShape) : errorShape_(errorShape) {}
  virtual ~ProviderAdapter() = default;
  ProviderAdapter(const ProviderAdapter&) = delete;
  ProviderAdapter& operator=(const ProviderAdapter&) = delete;

  virtual ApiKind api() const = 0;

  // `target` is the request target as sent ("/v1beta/models/x:streamGenerateContent?alt=sse"); some
  // APIs carry the model or the streaming choice there rather than in the body.
  virtual Result<ParsedRequest> parseRequest(std::string_view target, std::string_view body) const = 0;
  // A complete non-streamed response body (or Gemini's JSON-array stream when alt=sse is absent).
  virtual Result<ParsedResponseChunk> parseResponse(std::string_view body) const = 0;
  // One event of an SSE response. Segment locations point into the event's data parsed as JSON.
  virtual Result<ParsedResponseChunk> parseStreamEvent(const SseEvent& event) const = 0;

  std::string errorBody(int status, std::string_view message) const {
    return providerErrorBody(errorShape_, status, message);
  }
  std::string_view errorContentType() const { return kProviderErrorContentType; }
  ErrorShape errorShape() const { return errorShape_; }

 private:
  ErrorShape errorShape_;
};

// Never null: a call the adapters do not understand gets an adapter of ApiKind::kUnknown, which is
// still proxied and recorded, and refused in the error shape of its family. `host` is the SNI; the
// choice does not depend on it today, since the catalog's apiFamily already says who answers there.
std::unique_ptr<ProviderAdapter> adapterFor(std::string_view apiFamily, std::string_view host,
                                            std::string_view method, std::string_view target);

}  // namespace shadowai
