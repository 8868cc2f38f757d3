// Loading a policy: finding its files, parsing each (policy_parser.h), resolving them into one
// (policy_resolver.h). Evaluation is in policy_evaluation.cpp.
#include "policy/policy.h"

#include <algorithm>
#include <system_error>

#include "common/file_util.h"
#include "policy/builtin_detectors.h"
#include "policy/policy_impl.h"
#include "policy/policy_parser.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

std::string cannotRead(const std::error_code& error) { return "cannot read: " + error.message(); }

}  // namespace

std::string PolicyProblem::describe() const {
  if (location.empty()) return file + ": " + message;
  return file + ": " + location + ": " + message;
}

std::string summarizeProblems(const std::vector<PolicyProblem>& problems) {
  if (problems.empty()) return "";
  std::string message = problems.front().describe();
  if (problems.size() > 1) {
    message += " (and " + std::to_string(problems.size() - 1) + " more; see `shadowai policy check`)";
  }
  return message;
}

Policy::Policy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Policy::~Policy() = default;

std::vector<fs::path> Policy::policyFiles(const fs::path& dirOrFile, std::vector<PolicyProblem>& problems) {
  std::error_code error;
  fs::file_status status = fs::status(dirOrFile, error);
  if (error) {
    problems.push_back(PolicyProblem{dirOrFile.string(), "", cannotRead(error)});
    return {};
  }
  if (!fs::is_directory(status)) return {dirOrFile};

  std::vector<fs::path> files;
  fs::directory_iterator it(dirOrFile, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    // Editors leave ".#x.json" and ".x.json.swp" behind; a half-written file must not break a reload.
    if (name.starts_with('.') || !name.ends_with(".json")) continue;
    std::error_code typeError;
    if (it->is_directory(typeError)) continue;
    files.push_back(it->path());
  }
  if (error) {
    problems.push_back(PolicyProblem{dirOrFile.string(), "", cannotRead(error)});
    return {};
  }
  // Byte order, not the locale's: "00-" < "50-" < "a" on every host.
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
  if (files.empty()) {
    problems.push_back(PolicyProblem{dirOrFile.string(), "", "no *.json file in this directory: a policy needs one"});
  }
  return files;
}

Result<std::shared_ptr<const Policy>> Policy::load(const fs::path& dirOrFile, const BuiltinDetectors& builtins,
                                                   std::vector<PolicyProblem>* problems) {
  std::vector<PolicyProblem> found;
  std::vector<fs::path> files = policyFiles(dirOrFile, found);
  std::vector<PolicyDocument> documents;
  for (const fs::path& file : files) {
    auto text = readFile(file.string());
    if (!text) {
      const Error& error = text.error();
      found.push_back(PolicyProblem{
          file.string(), "",
          error.errnum != 0 ? cannotRead(std::error_code(error.errnum, std::generic_category())) : error.message});
      continue;
    }
    documents.push_back(parsePolicyDocument(*text, file.string(), builtins, found));
  }
  return build(std::move(files), std::move(documents), builtins, std::move(found), problems);
}

Result<std::shared_ptr<const Policy>> Policy::fromString(std::string_view json, const std::string& sourceName,
                                                         const BuiltinDetectors& builtins,
                                                         std::vector<PolicyProblem>* problems) {
  std::vector<PolicyProblem> found;
  std::vector<PolicyDocument> documents;
  documents.push_back(parsePolicyDocument(json, sourceName, builtins, found));
  return build({fs::path(sourceName)}, std::move(documents), builtins, std::move(found), problems);
}

Result<std::shared_ptr<const Policy>> Policy::build(std::vector<fs::path> files, std::vector<PolicyDocument> documents,
                                                    const BuiltinDetectors& builtins, std::vector<PolicyProblem> found,
                                                    std::vector<PolicyProblem>* problems) {
  auto impl = std::make_unique<Impl>();
  impl->files = std::move(files);
  impl->compiled = resolvePolicy(std::move(documents), builtins, found);
  // One file's problems together, in file order, whichever stage found them (a directory's own
  // problem first); within a file, the order they were found in.
  auto fileRank = [&](const PolicyProblem& problem) {
    auto it = std::find_if(impl->files.begin(), impl->files.end(),
                           [&](const fs::path& file) { return file.string() == problem.file; });
    return it == impl->files.end() ? -1 : static_cast<long>(it - impl->files.begin());
  };
  std::stable_sort(found.begin(), found.end(),
                   [&](const PolicyProblem& a, const PolicyProblem& b) { return fileRank(a) < fileRank(b); });
  if (problems) problems->insert(problems->end(), found.begin(), found.end());
  if (!found.empty()) return makeError(summarizeProblems(found));
  return std::shared_ptr<const Policy>(new Policy(std::move(impl)));
}

std::vector<PolicyProblem> Policy::check(const fs::path& dirOrFile, const BuiltinDetectors& builtins) {
  std::vector<PolicyProblem> problems;
  (void)load(dirOrFile, builtins, &problems);
  return problems;
}

const std::vector<Detector>& Policy::detectors() const { return impl_->compiled.detectors; }
size_t Policy::customDetectorCount() const { return impl_->compiled.customDetectorCount; }
size_t Policy::ruleCount() const { return impl_->compiled.rules.size(); }
const std::vector<fs::path>& Policy::files() const { return impl_->files; }

}  // namespace shadowai
