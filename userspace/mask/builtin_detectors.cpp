// The detectors shadowai ships. Each pattern bounds every repetition (a stream's hold-back and the
// confirmation window depend on it) and anchors on a word boundary or a distinctive prefix, so prose
// does not match; what a pattern cannot check (checksums, ranges) is the validator's job.
#include "mask/detector.h"

namespace shadowai {

const std::vector<Detector>& builtinDetectors() {
  static const std::vector<Detector> detectors = [] {
    std::vector<Detector> list;
    auto add = [&](std::string name, DetectorCategory category, std::string label, std::string description,
                   std::string pattern) -> Detector& {
      Detector& detector = list.emplace_back();
      detector.name = std::move(name);
      detector.category = category;
      detector.label = std::move(label);
      detector.description = std::move(description);
      detector.pattern = std::move(pattern);
      return detector;
    };
    add("openai-api-key", DetectorCategory::kSecret, "OPENAI_KEY", "OpenAI API key (sk-, sk-proj-)",
        R"(\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,200})");
    add("email", DetectorCategory::kPii, "EMAIL", "email address",
        R"(\b[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b)");
    return list;
  }();
  return detectors;
}

}  // namespace shadowai
