// What the proxy does to a body it masks: every text segment the adapter finds goes through a
// MaskSession (every built-in detector) and is spliced back in place (mask/call_masker.cpp, then
// mask/json_splice.cpp), as intercept/call_governance.cpp does for a request. The request fuzz
// targets run it on every input, so a crash in the rewrite path is theirs to find.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "mask/call_masker.h"
#include "mask/mask_session.h"
#include "mask_fuzz_rules.h"

namespace mask_fuzz {

inline std::shared_ptr<const shadowai::PseudonymKey> pseudonymKey() {
  static const auto key =
      std::make_shared<const shadowai::PseudonymKey>(shadowai::PseudonymKey::fromBytes(std::array<unsigned char, 32>{}));
  return key;
}

// A masked body is still the same call to its adapter: its texts are where they were.
inline void checkSamePlaces(const std::vector<shadowai::TextSegment>& before,
                            const std::vector<shadowai::TextSegment>& after) {
  check(before.size() == after.size());
  for (size_t i = 0; i < before.size(); ++i) check(before[i].location == after[i].location);
}

inline void maskRequestLikeTheProxy(const shadowai::ProviderAdapter& adapter, std::string_view target,
                                    std::string_view body) {
  shadowai::MaskSession session(rules(), pseudonymKey());
  auto masked = shadowai::maskRequestBody(adapter, target, body, session);
  if (!masked) {
    check(!masked.error().message.empty());  // refused, and says why
    return;
  }
  if (!*masked) return;  // nothing to mask: the original bytes go out
  auto before = adapter.parseRequest(target, body);
  auto after = adapter.parseRequest(target, **masked);
  check(before.ok() && after.ok());
  checkSamePlaces(before->prompt, after->prompt);
}

inline void maskResponseLikeTheProxy(const shadowai::ProviderAdapter& adapter, std::string_view body) {
  shadowai::MaskSession session(rules(), pseudonymKey());
  auto masked = shadowai::maskResponseBody(adapter, body, session);
  if (!masked) {
    check(!masked.error().message.empty());
    return;
  }
  if (!*masked) return;
  auto before = adapter.parseResponse(body);
  auto after = adapter.parseResponse(**masked);
  check(before.ok() && after.ok());
  checkSamePlaces(before->generated, after->generated);
}

}  // namespace mask_fuzz
