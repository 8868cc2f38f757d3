// Masking the text of one LLM call in its bodies: the prompt in the request, and the answer when it
// comes back whole (a non-streamed response, or Gemini's JSON-array stream buffered whole). The
// adapter says where the text is; each piece is masked on its decoded value (so "\u0040" cannot hide
// an '@' from a detector) and written back in place. Streamed (SSE) answers go through SseStreamMasker.
//
// Fail closed: an error means the body could not be read, masked or rewritten, and the caller must
// refuse the call rather than forward anything unmasked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "mask/text_masker.h"
#include "providers/provider_adapter.h"

namespace shadowai {

// The request body with every prompt segment masked; nullopt when nothing changed (forward the
// original bytes). A body with duplicate object keys is refused even when nothing matched. Calls of
// an API the adapters do not understand (ApiKind::kUnknown) have no text we can find: nullopt, and
// whether such calls may pass at all is the policy's decision.
Result<std::optional<std::string>> maskRequestBody(const ProviderAdapter& adapter, std::string_view target,
                                                   std::string_view body, TextMasker& masker);

// The same for a request the adapter has parsed already (REQUEST is BODY as the adapter read it;
// its prompt texts are consumed). BODY_CAPACITY: the bytes readable from BODY's start (its string's
// capacity); a body with kJsonReadPadding spare (reserveJsonPadding) is read where it is, not copied.
Result<std::optional<std::string>> maskRequestBody(ParsedRequest request, std::string_view body, TextMasker& masker,
                                                   size_t bodyCapacity = 0);

// The same for a whole response body (BODY_CAPACITY as above).
Result<std::optional<std::string>> maskResponseBody(const ProviderAdapter& adapter, std::string_view body,
                                                    TextMasker& masker, size_t bodyCapacity = 0);

}  // namespace shadowai
