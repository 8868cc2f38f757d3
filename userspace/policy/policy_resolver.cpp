#include "policy/policy_resolver.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "common/closest_word.h"
#include "common/json_document.h"

namespace shadowai {
namespace {

constexpr std::string_view kCategoryPrefix = "category:";

// Names quoted from the policy files are cut (printableExcerpt): a 10 MB name is still one short line.
std::string inQuotes(std::string_view text) { return "\"" + printableExcerpt(text) + "\""; }

struct RuleLocation {
  size_t index = 0;
  std::string file;
  std::string pointer;
};

class Resolver {
 public:
  Resolver(const BuiltinDetectors& builtins, std::vector<PolicyProblem>& problems)
      : builtins_(builtins), problems_(problems) {}

  CompiledPolicy resolve(std::vector<PolicyDocument> documents) {
    CompiledPolicy policy;
    policy.detectors = builtins_.detectors();
    for (PolicyDocument& document : documents) addDetectors(document, policy);
    // Every rule first, so an allow rule may name a block rule of a later file.
    for (PolicyDocument& document : documents) {
      for (PolicyRule& rule : document.rules) addRule(std::move(rule), policy);
    }
    for (CompiledRule& compiled : policy.rules) {
      switch (compiled.rule.action) {
        case RuleAction::kMask: resolveMask(compiled, policy); break;
        case RuleAction::kBlock: compileBlock(compiled); break;
        case RuleAction::kAllow: resolveAllow(compiled, policy); break;
      }
    }
    return policy;
  }

 private:
  void problem(const std::string& file, const std::string& pointer, std::string message) {
    problems_.push_back(PolicyProblem{file, pointer, std::move(message)});
  }

  void addDetectors(PolicyDocument& document, CompiledPolicy& policy) {
    for (CustomDetector& custom : document.detectors) {
      const std::string& name = custom.detector.name;
      // A clash with a built-in was reported by the parser.
      if (name.empty() || builtins_.find(name)) continue;
      if (auto first = customDetectors_.find(name); first != customDetectors_.end()) {
        problem(custom.file, childPointer(custom.pointer, "name"),
                "detector " + inQuotes(name) + " is already defined in " + first->second);
        continue;
      }
      customDetectors_[name] = custom.file + " at " + custom.pointer;
      policy.detectors.push_back(std::move(custom.detector));
      ++policy.customDetectorCount;
    }
  }

  void addRule(PolicyRule rule, CompiledPolicy& policy) {
    if (!rule.id.empty()) {
      if (auto first = ruleIds_.find(rule.id); first != ruleIds_.end()) {
        problem(rule.file, childPointer(rule.pointer, "id"),
                "duplicate rule id " + inQuotes(rule.id) + " (first in " + first->second.file + " at " +
                    first->second.pointer + ")");
      } else {
        ruleIds_[rule.id] = RuleLocation{policy.rules.size(), rule.file, rule.pointer};
      }
    }
    CompiledRule compiled;
    compiled.rule = std::move(rule);
    policy.rules.push_back(std::move(compiled));
  }

  // The detectors REFERENCE names, or a problem at its pointer.
  std::optional<std::vector<uint32_t>> resolveReference(const std::string& file, const DetectorReference& reference,
                                                        const CompiledPolicy& policy) {
    const std::vector<Detector>& detectors = policy.detectors;
    std::vector<uint32_t> indexes;
    const std::string& text = reference.text;
    if (text == "all") {
      for (uint32_t i = 0; i < detectors.size(); ++i) indexes.push_back(i);
      return indexes;
    }
    if (text.starts_with(kCategoryPrefix)) {
      std::string_view name = std::string_view(text).substr(kCategoryPrefix.size());
      auto category = detectorCategoryFromString(name);
      if (!category) {
        problem(file, reference.pointer,
                "unknown category " + inQuotes(name) + didYouMean(name, {"secret", "pii", "custom"}) +
                    "; expected category:secret, category:pii or category:custom");
        return std::nullopt;
      }
      for (uint32_t i = 0; i < detectors.size(); ++i) {
        if (detectors[i].category == *category) indexes.push_back(i);
      }
      return indexes;
    }
    if (auto index = detectorIndex(policy, text)) return std::vector<uint32_t>{*index};
    std::vector<std::string_view> names{"all"};
    for (const Detector& detector : detectors) names.push_back(detector.name);
    problem(file, reference.pointer,
            "unknown detector " + inQuotes(text) + didYouMean(text, names) +
                "; expected a detector name, category:secret|pii|custom or all");
    return std::nullopt;
  }

  static std::optional<uint32_t> detectorIndex(const CompiledPolicy& policy, std::string_view name) {
    const auto& detectors = policy.detectors;
    auto it = std::find_if(detectors.begin(), detectors.end(), [&](const Detector& d) { return d.name == name; });
    if (it == detectors.end()) return std::nullopt;
    return static_cast<uint32_t>(it - detectors.begin());
  }

  // The union of REFERENCES, in detector order.
  std::vector<uint32_t> resolveReferences(const std::string& file, const std::vector<DetectorReference>& references,
                                          const CompiledPolicy& policy) {
    std::vector<bool> selected(policy.detectors.size(), false);
    for (const DetectorReference& reference : references) {
      if (auto indexes = resolveReference(file, reference, policy)) {
        for (uint32_t index : *indexes) selected[index] = true;
      }
    }
    std::vector<uint32_t> indexes;
    for (uint32_t i = 0; i < selected.size(); ++i) {
      if (selected[i]) indexes.push_back(i);
    }
    return indexes;
  }

  void resolveMask(CompiledRule& compiled, const CompiledPolicy& policy) {
    const PolicyRule& rule = compiled.rule;
    const MaskAction& mask = rule.mask;
    std::vector<uint32_t> indexes = resolveReferences(rule.file, mask.detectors, policy);
    for (uint32_t index : indexes) {
      const Detector& detector = policy.detectors[index];
      ReplacementStyle style = mask.replacement.value_or(detector.defaultStyle);
      if (auto it = mask.replacements.find(detector.name); it != mask.replacements.end()) style = it->second;
      compiled.maskDetectors.emplace_back(index, style);
    }
    // A replacement for a detector the rule does not mask would silently do nothing.
    for (const auto& [name, style] : mask.replacements) {
      const std::string pointer = childPointer(mask.replacementsPointer, name);
      auto index = detectorIndex(policy, name);
      if (!index) {
        std::vector<std::string_view> names;
        for (const Detector& detector : policy.detectors) names.push_back(detector.name);
        problem(rule.file, pointer, "unknown detector " + inQuotes(name) + didYouMean(name, names));
      } else if (std::find(indexes.begin(), indexes.end(), *index) == indexes.end()) {
        problem(rule.file, pointer, "detector " + inQuotes(name) + " is not among this rule's detectors");
      }
    }
  }

  void compileBlock(CompiledRule& compiled) {
    const PolicyRule& rule = compiled.rule;
    const BlockAction& block = rule.block;
    const std::string blockPointer = childPointer(rule.pointer, "block");
    bool patternsCompile = true;
    for (size_t i = 0; i < block.patterns.size(); ++i) {
      if (auto error = PromptMatcher::patternError(block.patterns[i])) {
        problem(rule.file, childPointer(childPointer(blockPointer, "patterns"), i),
                "pattern does not compile: " + printableExcerpt(*error));
        patternsCompile = false;
      }
    }
    if (!patternsCompile || (block.patterns.empty() && block.words.empty())) return;
    auto matcher = PromptMatcher::compile(block.patterns, block.words, block.caseSensitive);
    if (!matcher) {
      problem(rule.file, blockPointer, printableExcerpt(matcher.error().message));
      return;
    }
    compiled.prompt = std::move(*matcher);
  }

  void resolveAllow(CompiledRule& compiled, const CompiledPolicy& policy) {
    const PolicyRule& rule = compiled.rule;
    compiled.exemptsCall = rule.allow.detectors.empty() && rule.allow.rules.empty();
    compiled.exemptDetectors = resolveReferences(rule.file, rule.allow.detectors, policy);
    std::vector<std::string_view> ids;
    for (const auto& [id, location] : ruleIds_) ids.push_back(id);
    for (const DetectorReference& reference : rule.allow.rules) {
      auto it = ruleIds_.find(reference.text);
      if (it == ruleIds_.end()) {
        problem(rule.file, reference.pointer,
                "unknown rule id " + inQuotes(reference.text) + didYouMean(reference.text, ids));
        continue;
      }
      const PolicyRule& target = policy.rules[it->second.index].rule;
      if (target.action != RuleAction::kBlock) {
        problem(
            rule.file, reference.pointer,
            "rule " + inQuotes(reference.text) +
                " is not a block rule; only block rules are exempted by id (list detectors to exempt from masking)");
        continue;
      }
      compiled.exemptRules.push_back(static_cast<uint32_t>(it->second.index));
    }
  }

  const BuiltinDetectors& builtins_;
  std::vector<PolicyProblem>& problems_;
  std::map<std::string, std::string, std::less<>> customDetectors_;  // name -> "FILE at POINTER"
  std::map<std::string, RuleLocation, std::less<>> ruleIds_;
};

}  // namespace

CompiledPolicy resolvePolicy(std::vector<PolicyDocument> documents, const BuiltinDetectors& builtins,
                             std::vector<PolicyProblem>& problems) {
  return Resolver(builtins, problems).resolve(std::move(documents));
}

}  // namespace shadowai
