// The policy as written: one file's custom detectors and rules after the schema is checked, before
// names are resolved across files (policy_resolver.h) and patterns compiled (prompt_matcher.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mask/detector.h"

namespace shadowai {

// An empty list means the field was not given (an empty list in a file is an error), so it does not
// restrict the match.
struct WorkloadSelector {
  std::vector<std::string> cgroups;     // path prefixes on '/' boundaries
  std::vector<std::string> units;       // globs
  std::vector<std::string> containers;  // globs over "<runtime>:<id>"
  std::vector<uint32_t> uids;
  std::vector<std::string> users;  // exact
  std::vector<std::string> exes;   // globs
};

struct CallSelector {
  std::vector<std::string> providers;  // exact
  std::vector<std::string> hosts;      // globs, case-insensitive
  std::vector<std::string> apis;       // exact apiKindName()
  std::vector<std::string> models;     // globs
};

struct RuleSelector {
  WorkloadSelector workload;
  CallSelector call;
};

// A detector reference as written: a name, "category:NAME" or "all", with where it was written so
// the resolver can point at it.
struct DetectorReference {
  std::string text;
  std::string pointer;
};

struct MaskAction {
  std::vector<DetectorReference> detectors;
  std::optional<ReplacementStyle> replacement;  // nullopt: each detector's defaultStyle
  std::map<std::string, ReplacementStyle> replacements;
  std::string replacementsPointer;  // of the "replacements" object, for its keys' problems
  bool onRequest = true;
  bool onResponse = true;
};

struct BlockAction {
  std::vector<std::string> patterns;  // Vectorscan regexes over each prompt segment
  std::vector<std::string> words;     // whole words or phrases
  bool caseSensitive = false;         // for words; patterns say (?i) themselves
  std::vector<std::string> models;    // globs
  std::vector<std::string> providers;
  std::string message;  // "" for the default message
};

struct AllowAction {
  std::vector<DetectorReference> detectors;
  std::vector<DetectorReference> rules;  // ids of block rules (a reference, like a detector's)
};

enum class RuleAction { kMask, kBlock, kAllow };

struct PolicyRule {
  std::string id;
  std::string description;
  std::string file;     // where it was written, for problems found after parsing
  std::string pointer;  // "/rules/3"
  RuleSelector match;
  RuleAction action = RuleAction::kMask;
  MaskAction mask;
  BlockAction block;
  AllowAction allow;
};

struct CustomDetector {
  Detector detector;
  std::string file;
  std::string pointer;  // "/detectors/0"
};

// One file's content. Problems found while reading it are reported beside it, not in it.
struct PolicyDocument {
  std::string file;
  std::vector<CustomDetector> detectors;
  std::vector<PolicyRule> rules;
};

}  // namespace shadowai
