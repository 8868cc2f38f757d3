#include "mask/call_masker.h"

#include <vector>

#include "mask/json_splice.h"
#include "providers/json_text.h"

namespace shadowai {

namespace {

// Consumes SEGMENTS: each text moves into its replacement rather than being copied.
Result<std::optional<std::string>> maskSegments(std::string_view body, std::vector<TextSegment> segments,
                                                TextMasker& masker, MaskSite site, std::string_view what) {
  std::vector<JsonStringReplacement> replacements;
  replacements.reserve(segments.size());
  for (auto& segment : segments) {
    auto masked = masker.mask(segment.text, site);
    if (!masked) return masked.error();
    replacements.push_back(
        JsonStringReplacement{std::move(segment.location), std::move(segment.text), std::move(*masked)});
  }
  std::vector<TextSegment>().swap(segments);
  return rewriteJsonStrings(body, std::move(replacements), what);
}

}  // namespace

Result<std::optional<std::string>> maskRequestBody(const ProviderAdapter& adapter, std::string_view target,
                                                   std::string_view body, TextMasker& masker) {
  if (adapter.api() == ApiKind::kUnknown) return std::optional<std::string>();
  auto request = adapter.parseRequest(target, body);
  if (!request) return request.error();
  return maskRequestBody(std::move(*request), body, masker);
}

Result<std::optional<std::string>> maskRequestBody(ParsedRequest request, std::string_view body, TextMasker& masker) {
  if (request.api == ApiKind::kUnknown) return std::optional<std::string>();
  return maskSegments(body, std::move(request.prompt), masker, MaskSite::kRequest, kRequestBody);
}

Result<std::optional<std::string>> maskResponseBody(const ProviderAdapter& adapter, std::string_view body,
                                                    TextMasker& masker) {
  if (adapter.api() == ApiKind::kUnknown) return std::optional<std::string>();
  auto response = adapter.parseResponse(body);
  if (!response) return response.error();
  return maskSegments(body, std::move(response->generated), masker, MaskSite::kResponse, kResponseBody);
}

}  // namespace shadowai
