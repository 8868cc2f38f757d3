// The built-in detectors as this source tree ships them (rules/detectors.json), for the tests, the
// benchmarks and the fuzz targets: read and checked once, the run ends with one line naming the
// problem when the file is missing or bad. The source tree's file, never an installed one, so what
// is tested is what this tree would ship. (shadowaid reads BuiltinDetectors::defaultFile() instead.)
#pragma once

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "mask/detector.h"
#include "policy/builtin_detectors.h"

namespace shadowai {

inline const BuiltinDetectors& shippedBuiltinDetectors() {
  static const BuiltinDetectors loaded = [] {
    auto builtins = BuiltinDetectors::load(std::string(SHADOWAI_SOURCE_RULES_DIR) + "/" + BuiltinDetectors::kFileName);
    if (!builtins) {
      std::fprintf(stderr, "the built-in detectors: %s\n", builtins.error().describe().c_str());
      std::exit(2);
    }
    return std::move(*builtins);
  }();
  return loaded;
}

// The detectors alone, in file order.
inline const std::vector<Detector>& shippedDetectors() { return shippedBuiltinDetectors().detectors(); }

}  // namespace shadowai
