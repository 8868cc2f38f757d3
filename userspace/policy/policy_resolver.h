// Turns the parsed files into one policy: custom detectors appended to the built-in ones, detector
// references and rule ids resolved across files, block patterns compiled. Reports what only shows
// across files (a duplicate rule id, a reference to a detector of another file that does not exist).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "mask/detector.h"
#include "policy/builtin_detectors.h"
#include "policy/policy.h"
#include "policy/policy_rule.h"
#include "policy/prompt_matcher.h"

namespace shadowai {

struct CompiledRule {
  PolicyRule rule;
  // mask: the detectors it switches on (indexes into CompiledPolicy::detectors) and their style.
  std::vector<std::pair<uint32_t, ReplacementStyle>> maskDetectors;
  // allow: what it exempts, or the whole call when it lists neither detectors nor rules.
  bool exemptsCall = false;
  std::vector<uint32_t> exemptDetectors;
  std::vector<uint32_t> exemptRules;  // indexes into CompiledPolicy::rules
  // block: its patterns and words, null when it has none.
  std::unique_ptr<PromptMatcher> prompt;
};

struct CompiledPolicy {
  std::vector<Detector> detectors;  // built-in, then custom in file order
  std::vector<CompiledRule> rules;  // file order, then rule order
  size_t customDetectorCount = 0;
};

// DOCUMENTS in file order, over BUILTINS. Problems are appended to PROBLEMS; the result is only
// meaningful when none were added.
CompiledPolicy resolvePolicy(std::vector<PolicyDocument> documents, const BuiltinDetectors& builtins,
                             std::vector<PolicyProblem>& problems);

}  // namespace shadowai
