#include "mask/json_strings_masker.h"

#include <vector>

#include "mask/json_splice.h"
#include "providers/json_text.h"

namespace shadowai {

Result<std::optional<std::string>> maskJsonStrings(std::string_view body, TextMasker& masker, MaskSite site) {
  const std::string_view what = site == MaskSite::kRequest ? kRequestBody : kResponseBody;
  auto parsed = parseJson(body, what);
  if (!parsed) return parsed.error();
  std::vector<TextSegment> strings;
  if (auto collected = addStringLeaves(strings, "", *parsed, JsonPointer(), what); !collected) {
    return collected.error();
  }
  std::vector<JsonStringReplacement> replacements;
  for (TextSegment& segment : strings) {
    auto masked = masker.mask(segment.text, site);
    if (!masked) return masked.error();
    if (*masked == segment.text) continue;
    replacements.push_back({std::move(segment.location), std::move(segment.text), std::move(*masked)});
  }
  if (replacements.empty()) return std::optional<std::string>();
  return rewriteJsonStrings(body, replacements, what);
}

}  // namespace shadowai
