#include "policy/builtin_detectors.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "common/file_util.h"
#include "policy/policy_parser.h"

namespace shadowai {

std::string BuiltinDetectors::defaultFile() {
  const std::string installed = std::string(SHADOWAI_INSTALLED_RULES_DIR) + "/" + kFileName;
  std::error_code error;
  if (std::filesystem::exists(installed, error)) return installed;
  return std::string(SHADOWAI_SOURCE_RULES_DIR) + "/" + kFileName;
}

Result<BuiltinDetectors> BuiltinDetectors::load(const std::string& file, std::vector<PolicyProblem>* problems) {
  auto text = readFile(file);
  if (!text) {
    const Error& error = text.error();
    PolicyProblem problem{
        file, "",
        error.errnum != 0 ? "cannot read: " + std::error_code(error.errnum, std::generic_category()).message()
                          : error.message};
    if (problems) problems->push_back(problem);
    return makeError(problem.describe());
  }
  return fromString(*text, file, problems);
}

Result<BuiltinDetectors> BuiltinDetectors::fromString(std::string_view json, const std::string& sourceName,
                                                      std::vector<PolicyProblem>* problems) {
  std::vector<PolicyProblem> found;
  std::vector<Detector> detectors = parseBuiltinDetectorDocument(json, sourceName, found);
  if (problems) problems->insert(problems->end(), found.begin(), found.end());
  if (!found.empty()) return makeError(summarizeProblems(found));
  return BuiltinDetectors(sourceName, std::move(detectors));
}

const Detector* BuiltinDetectors::find(std::string_view name) const {
  auto it = std::find_if(detectors_.begin(), detectors_.end(), [&](const Detector& d) { return d.name == name; });
  return it == detectors_.end() ? nullptr : &*it;
}

}  // namespace shadowai
