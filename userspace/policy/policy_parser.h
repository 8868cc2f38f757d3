// Reads one policy file (JSON text) into a PolicyDocument, checking its schema (docs/policy.md); and
// the built-in detector file, which uses the same detector format with a few more fields.
// Every problem is reported, not only the first, each with the JSON pointer of the offending value,
// so `shadowai policy check` can list them all in one run. Names that refer across files (detectors,
// rule ids) are resolved later, by policy_resolver.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "policy/policy_rule.h"

namespace shadowai {

class BuiltinDetectors;  // policy/builtin_detectors.h

// The only policy format this build reads; a file must say so with "version": 1.
inline constexpr int kPolicyFormatVersion = 1;

// Parses TEXT, read from FILE. What could be read is returned even when PROBLEMS grew: the resolver
// still checks it, so one run reports as much as possible. A custom detector may not take the name
// of one of BUILTINS.
PolicyDocument parsePolicyDocument(std::string_view text, const std::string& file, const BuiltinDetectors& builtins,
                                   std::vector<PolicyProblem>& problems);

// Parses the built-in detector file (BuiltinDetectors::load): every detector checked (checkDetector),
// names unique. The detectors are only meaningful when PROBLEMS did not grow.
std::vector<Detector> parseBuiltinDetectorDocument(std::string_view text, const std::string& file,
                                                   std::vector<PolicyProblem>& problems);

}  // namespace shadowai
