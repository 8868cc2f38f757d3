#include "mask/call_masker.h"

#include <vector>

#include "mask/json_splice.h"
#include "providers/json_text.h"

namespace shadowai {

namespace {

Result<std::optional<std::string>> maskSegments(std::string_view body, const std::vector<TextSegment>& segments,
                                                TextMasker& masker, MaskSite site, std::string_view what) {
  std::vector<JsonStringReplacement> replacements;
  replacements.reserve(segments.size());
  for (const auto& segment : segments) {
    auto masked = masker.mask(segment.text, site);
    if (!masked) return masked.error();
    replacements.push_back(JsonStringReplacement{segment.location, segment.text, std::move(*masked)});
  }
  return rewriteJsonStrings(body, replacements, what);
}

}  // namespace

Result<std::optional<std::string>> maskRequestBody(const ProviderAdapter& adapter, std::string_view target,
                                                   std::string_view body, TextMasker& masker) {
  if (adapter.api() == ApiKind::kUnknown) return std::optional<std::string>();
  auto request = adapter.parseRequest(target, body);
  if (!request) return request.error();
  return maskSegments(body, request->prompt, masker, MaskSite::kRequest, kRequestBody);
}

Result<std::optional<std::string>> maskResponseBody(const ProviderAdapter& adapter, std::string_view body,
                                                    TextMasker& masker) {
  if (adapter.api() == ApiKind::kUnknown) return std::optional<std::string>();
  auto response = adapter.parseResponse(body);
  if (!response) return response.error();
  return maskSegments(body, response->generated, masker, MaskSite::kResponse, kResponseBody);
}

}  // namespace shadowai
