// What the masking fuzz targets share: every built-in detector on both sides, compiled once, and
// an abort for a broken invariant (libFuzzer reports it as a crash with the input).
#pragma once

#include <cstdlib>
#include <memory>

#include "mask/mask_session.h"
#include "support/shipped_detectors.h"

namespace mask_fuzz {

inline void check(bool condition) {
  if (!condition) std::abort();
}

inline std::shared_ptr<const shadowai::MaskRules> rules() {
  static auto made = [] {
    auto compiled = shadowai::DetectorSet::compile(shadowai::shippedDetectors());
    check(compiled.ok());
    return shadowai::MaskRules::everything(*compiled);
  }();
  return made;
}

}  // namespace mask_fuzz
