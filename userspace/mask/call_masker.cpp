#include "mask/call_masker.h"

#include <vector>

#include "mask/json_splice.h"
#include "providers/json_text.h"

namespace shadowai {

namespace {

// Consumes SEGMENTS. The tokens are located (and checked to hold the texts the adapter read) before
// masking, and each text is freed once masked: at the peak a prompt is held three times (the body, the
// text or its masked copy, the rewritten body), whatever its size.
Result<std::optional<std::string>> maskSegments(std::string_view body, size_t bodyCapacity,
                                                std::vector<TextSegment> segments, TextMasker& masker, MaskSite site,
                                                std::string_view what) {
  std::vector<JsonStringAt> wanted;
  wanted.reserve(segments.size());
  for (const auto& segment : segments) wanted.push_back(JsonStringAt{&segment.location, segment.text});
  auto spans = locateJsonStrings(body, bodyCapacity, wanted, what);
  if (!spans) return spans.error();
  std::vector<JsonStringAt>().swap(wanted);
  std::vector<JsonStringSplice> splices;
  for (size_t i = 0; i < segments.size(); ++i) {
    auto masked = masker.mask(segments[i].text, site);
    if (!masked) return masked.error();
    const bool changed = *masked != segments[i].text;
    std::string().swap(segments[i].text);
    if (changed) splices.push_back(JsonStringSplice{std::move(segments[i].location), (*spans)[i], std::move(*masked)});
  }
  std::vector<TextSegment>().swap(segments);
  if (splices.empty()) return std::optional<std::string>();
  auto spliced = spliceJsonStrings(body, std::move(splices), what);
  if (!spliced) return spliced.error();
  return std::optional<std::string>(std::move(*spliced));
}

}  // namespace

Result<std::optional<std::string>> maskRequestBody(const ProviderAdapter& adapter, std::string_view target,
                                                   std::string_view body, TextMasker& masker) {
  if (adapter.api() == ApiKind::kUnknown) return std::optional<std::string>();
  auto request = adapter.parseRequest(target, body);
  if (!request) return request.error();
  return maskRequestBody(std::move(*request), body, masker);
}

Result<std::optional<std::string>> maskRequestBody(ParsedRequest request, std::string_view body, TextMasker& masker,
                                                   size_t bodyCapacity) {
  if (request.api == ApiKind::kUnknown) return std::optional<std::string>();
  return maskSegments(body, bodyCapacity, std::move(request.prompt), masker, MaskSite::kRequest, kRequestBody);
}

Result<std::optional<std::string>> maskResponseBody(const ProviderAdapter& adapter, std::string_view body,
                                                    TextMasker& masker, size_t bodyCapacity) {
  if (adapter.api() == ApiKind::kUnknown) return std::optional<std::string>();
  auto response = adapter.parseResponse(body);
  if (!response) return response.error();
  return maskSegments(body, bodyCapacity, std::move(response->generated), masker, MaskSite::kResponse, kResponseBody);
}

}  // namespace shadowai
