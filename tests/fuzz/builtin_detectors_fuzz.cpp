// BuiltinDetectors::fromString on arbitrary bytes: the built-in detector file (rules/detectors.json)
// uses the policy's detector format plus the fields only built-ins have (category, validator by
// name, value-only replacement, end-pass hints), which the policy target never reaches: they are
// unknown keys in a policy file. Every mistake must come back as problems with a message, never as
// a crash; a file that loads has unique, checked detectors.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/builtin_detectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  std::vector<shadowai::PolicyProblem> problems;
  auto loaded = shadowai::BuiltinDetectors::fromString(json, "fuzz.json", &problems);
  if (!loaded) {
    if (problems.empty() || loaded.error().message.empty()) std::abort();
    for (const shadowai::PolicyProblem& problem : problems) {
      if (problem.message.empty() || problem.file != "fuzz.json") std::abort();
    }
    // One line, whatever the input holds.
    if (loaded.error().message.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  if (!problems.empty() || loaded->detectors().empty()) std::abort();
  std::set<std::string> names;
  for (const shadowai::Detector& detector : loaded->detectors()) {
    if (!names.insert(detector.name).second) std::abort();
    if (detector.category == shadowai::DetectorCategory::kCustom) std::abort();
    if (loaded->find(detector.name) == nullptr) std::abort();
    if (!shadowai::checkDetector(detector)) std::abort();
  }
  return 0;
}
