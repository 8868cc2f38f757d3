// Fuzzes the masking stream: the first byte seeds where the rest of the input is cut into deltas,
// and the concatenated stream output and hit counts must equal masking the whole text at once
// (abort otherwise).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mask/mask_session.h"
#include "mask_fuzz_rules.h"

namespace {

using mask_fuzz::check;
using mask_fuzz::rules;

std::shared_ptr<const shadowai::PseudonymKey> key() {
  static auto made = std::make_shared<shadowai::PseudonymKey>(shadowai::PseudonymKey::fromBytes({}));
  return made;
}

}  // namespace

// libFuzzer calls this once before the first input: compiling every detector takes long enough
// under the sanitizers that the first input would otherwise count against -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mask_fuzz::rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint32_t state = data[0] * 2654435761u + 1;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  shadowai::MaskSession whole(rules(), key());
  auto expected = whole.mask(text, shadowai::MaskSite::kResponse);
  check(expected.ok());

  shadowai::MaskSession streamed(rules(), key());
  auto stream = streamed.openStream(shadowai::MaskSite::kResponse);
  std::string out;
  size_t fed = 0;
  while (fed < text.size()) {
    state = state * 1103515245u + 12345u;
    // Mostly small deltas (as SSE tokens are), sometimes large ones.
    size_t step = (state >> 16) % 8 == 0 ? 1 + (state >> 8) % 512 : 1 + (state >> 20) % 6;
    step = std::min(step, text.size() - fed);
    auto piece = stream->feed(text.substr(fed, step));
    check(piece.ok());
    out += *piece;
    fed += step;
  }
  auto rest = stream->finish();
  check(rest.ok());
  out += *rest;
  check(out == *expected);
  check(streamed.hits() == whole.hits());
  return 0;
}
