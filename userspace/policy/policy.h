// Policy: what the host owner decided for LLM calls, read from JSON files in a policy directory
// (/etc/shadowai/policy.d/*.json, merged in name order). Rules select workloads and calls and then
// mask (which detectors, which replacement), block (patterns and words over prompt text, models or
// providers not allowed) or allow (exceptions). See docs/policy.md for the format and precedence.
//
// A Policy is immutable once loaded and shared by every proxy thread; a reload builds a new one and
// swaps the pointer, so calls in flight finish under the policy they started with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "mask/detector.h"
#include "providers/provider_call.h"

namespace shadowai {

// Who is calling, as the daemon attributed the connection.
struct WorkloadFacts {
  std::string cgroupPath;            // from the cgroup v2 root: "/system.slice/billing-etl.service"
  std::string unit;                  // systemd unit, "" when none
  std::string containerId;           // "<runtime>:<full id>", "" when not a container
  std::optional<uint32_t> uid;
  std::string user;                  // user name of uid, "" when unknown
  std::string exe;                   // executable path, "" when unknown
};

// What is being called, known before the prompt is read.
struct CallFacts {
  std::string provider;  // catalog provider id: "openai"
  std::string host;      // "api.openai.com"
  std::string api;       // apiKindName(): "openai-chat"
  std::string model;     // "" when the request names none
};

// Which detectors mask which side of a call and how, by detector name (built-in or custom).
struct MaskSelection {
  std::vector<std::string> requestDetectors;
  std::vector<std::string> responseDetectors;
  std::map<std::string, ReplacementStyle> styles;  // every detector named above has an entry

  bool empty() const { return requestDetectors.empty() && responseDetectors.empty(); }
  bool operator==(const MaskSelection&) const = default;
};

struct BlockDecision {
  std::string ruleId;
  std::string message;  // the rule's message, for the client's error
  // What fired, for the alert, never the prompt text itself: "model gpt-3.5-turbo is not allowed",
  // "prompt matched pattern 2", "prompt contained a listed word".
  std::string reason;

  bool operator==(const BlockDecision&) const = default;
};

// The policy for one call once its workload and call facts are known.
struct CallPolicy {
  MaskSelection mask;
  std::optional<BlockDecision> blocked;  // blocked before its prompt is read (provider, model, workload)
  std::vector<uint32_t> promptBlockRules;  // block rules with prompt patterns or words to check
  std::vector<std::string> matchedRules;   // ids of every rule that applied, in order
};

struct PolicyProblem {
  std::string file;      // the file, as given or found in the directory
  std::string location;  // JSON pointer of the offending value ("/rules/2/match/unit"), "" for the file
  std::string message;   // what is wrong, one line

  // "FILE: LOCATION: MESSAGE" (without LOCATION when empty)
  std::string describe() const;
  bool operator==(const PolicyProblem&) const = default;
};

// The one line a failed load says: the first problem and how many more there are.
std::string summarizeProblems(const std::vector<PolicyProblem>& problems);

struct PolicyDocument;    // policy/policy_rule.h
class BuiltinDetectors;  // policy/builtin_detectors.h

class Policy {
 public:
  // Loads a directory (every *.json in name order) or a single file, over BUILTINS (the built-in
  // detectors, loaded once by the caller). Every problem is reported.
  static Result<std::shared_ptr<const Policy>> load(const std::filesystem::path& dirOrFile,
                                                    const BuiltinDetectors& builtins,
                                                    std::vector<PolicyProblem>* problems = nullptr);
  // All problems in the files, empty when the policy is valid (what `shadowai policy check` prints).
  static std::vector<PolicyProblem> check(const std::filesystem::path& dirOrFile, const BuiltinDetectors& builtins);
  // One policy document given as text (SOURCE_NAME stands for its file in problems): for the fuzz
  // target and for tests that need no files.
  static Result<std::shared_ptr<const Policy>> fromString(std::string_view json, const std::string& sourceName,
                                                          const BuiltinDetectors& builtins,
                                                          std::vector<PolicyProblem>* problems = nullptr);
  // The files a load of DIR_OR_FILE reads, in merge order (a directory's *.json by name, hidden files
  // skipped), or the problem that there are none.
  static std::vector<std::filesystem::path> policyFiles(const std::filesystem::path& dirOrFile,
                                                        std::vector<PolicyProblem>& problems);

  ~Policy();

  // Built-in detectors followed by the policy's custom ones.
  const std::vector<Detector>& detectors() const;
  size_t customDetectorCount() const;
  size_t ruleCount() const;
  const std::vector<std::filesystem::path>& files() const;

  CallPolicy forCall(const WorkloadFacts& workload, const CallFacts& call) const;
  // The first prompt block rule of CALL that fires on the prompt's text segments (decoded text, so
  // JSON escapes cannot hide a word), or nullopt.
  std::optional<BlockDecision> checkPrompt(const CallPolicy& call, const std::vector<TextSegment>& prompt) const;

 private:
  struct Impl;
  explicit Policy(std::unique_ptr<Impl> impl);
  static Result<std::shared_ptr<const Policy>> build(std::vector<std::filesystem::path> files,
                                                     std::vector<PolicyDocument> documents,
                                                     const BuiltinDetectors& builtins,
                                                     std::vector<PolicyProblem> found,
                                                     std::vector<PolicyProblem>* problems);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowai
