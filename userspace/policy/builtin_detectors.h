// The built-in detectors: the secrets and personal data shadowai knows without a policy, shipped as
// data in rules/detectors.json (installed as /usr/share/shadowai/detectors.json) and read in the
// policy's own detector format, with the fields only built-ins have (category, validator by name,
// value-only replacement, speed hints). docs/policy.md, "The built-in detectors", has the format.
//
// shadowaid loads them once at start and refuses to start without them; every policy it loads is
// resolved against them. `shadowai policy check` checks the file too. Tests, benchmarks and fuzz
// targets read the source tree's file through tests/support/shipped_detectors.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "mask/detector.h"
#include "policy/policy.h"

namespace shadowai {

class BuiltinDetectors {
 public:
  static constexpr const char* kFileName = "detectors.json";

  // SHADOWAI_INSTALLED_RULES_DIR/detectors.json when it exists, else the source tree's copy (running
  // from a build directory), as Catalog::defaultShippedFile() does for the catalog.
  static std::string defaultFile();
  // Reads and checks FILE. Every problem goes to PROBLEMS (as `shadowai policy check` lists them);
  // the error is the first one, one line: "FILE: /detectors/3/validator: unknown validator ...".
  static Result<BuiltinDetectors> load(const std::string& file, std::vector<PolicyProblem>* problems = nullptr);
  // The same for a document given as text (SOURCE_NAME stands for its file): for the fuzz target and tests.
  static Result<BuiltinDetectors> fromString(std::string_view json, const std::string& sourceName,
                                             std::vector<PolicyProblem>* problems = nullptr);

  // In file order, which decides ties between detectors; names are unique.
  const std::vector<Detector>& detectors() const { return detectors_; }
  // The detector of that name, or null.
  const Detector* find(std::string_view name) const;
  // The file they were read from.
  const std::string& file() const { return file_; }

 private:
  BuiltinDetectors(std::string file, std::vector<Detector> detectors)
      : file_(std::move(file)), detectors_(std::move(detectors)) {}

  std::string file_;
  std::vector<Detector> detectors_;
};

}  // namespace shadowai
