// Fuzzes whole-text masking with every built-in detector: the scan must succeed on any bytes, its
// matches must be sorted, non-overlapping and inside the text, pendingSuffix must stay within
// maxWindow, masking must never fail, and it counts one finding per distinct value of a detector.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

#include "mask/mask_session.h"
#include "mask_fuzz_rules.h"

namespace {

using mask_fuzz::check;
using mask_fuzz::rules;

}  // namespace

// libFuzzer calls this once before the first input: compiling every detector takes long enough
// under the sanitizers that the first input would otherwise count against -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mask_fuzz::rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& set = *rules()->detectors;
  std::vector<shadowai::DetectorMatch> matches;
  check(set.scan(text, set.all(), matches).ok());
  size_t lastEnd = 0;
  for (const auto& match : matches) {
    check(match.begin >= lastEnd && match.begin < match.end && match.end <= text.size());
    check(match.end - match.begin <= set.maxWindow());
    lastEnd = match.end;
  }
  check(set.pendingSuffix(text, set.all()) <= std::min(set.maxWindow(), text.size()));

  std::array<unsigned char, 32> key{};
  shadowai::MaskSession session(rules(), std::make_shared<shadowai::PseudonymKey>(shadowai::PseudonymKey::fromBytes(key)));
  auto masked = session.mask(text, shadowai::MaskSite::kRequest);
  check(masked.ok());
  // One finding per distinct value of a detector: the same address twice counts once.
  std::set<std::pair<uint32_t, std::string_view>> distinct;
  for (const auto& match : matches) distinct.emplace(match.detector, text.substr(match.begin, match.end - match.begin));
  check(session.totalHits() == distinct.size());
  if (matches.empty()) check(*masked == text);
  return 0;
}
