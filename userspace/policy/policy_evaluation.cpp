// Policy::forCall and Policy::checkPrompt: which rules apply to a call and what they decide, in the
// precedence docs/policy.md describes (allow exemptions, then the first block rule that fires, then
// the union of the mask rules with the later rule's replacement winning).
#include <string>

#include "common/printable_text.h"
#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "policy/rule_selector.h"

namespace shadowai {
namespace {

BlockDecision blockDecision(const PolicyRule& rule, std::string reason) {
  std::string message = rule.block.message;
  if (message.empty()) message = "This call is not allowed by the host's LLM usage policy (rule " + rule.id + ").";
  return BlockDecision{rule.id, std::move(message), std::move(reason)};
}

// Why a block rule fires before the prompt is read, or nullopt when it does not (yet).
std::optional<std::string> firesOnCallFacts(const BlockAction& block, const CallFacts& call) {
  for (const std::string& glob : block.models) {
    if (!call.model.empty() && globMatches(glob, call.model)) {
      return "model " + printableText(call.model) + " is not allowed";
    }
  }
  for (const std::string& provider : block.providers) {
    if (provider == call.provider) return "provider " + printableText(call.provider) + " is not allowed";
  }
  const bool hasConditions =
      !block.models.empty() || !block.providers.empty() || !block.patterns.empty() || !block.words.empty();
  if (!hasConditions) return std::string("the rule blocks every call it selects");
  return std::nullopt;
}

}  // namespace

CallPolicy Policy::forCall(const WorkloadFacts& workload, const CallFacts& call) const {
  const CompiledPolicy& policy = impl_->compiled;
  std::vector<uint32_t> selected;
  for (uint32_t i = 0; i < policy.rules.size(); ++i) {
    if (selectorMatches(policy.rules[i].rule.match, workload, call)) selected.push_back(i);
  }

  // (1) Exemptions come from every allow rule that selects the call, wherever it stands.
  bool exemptCall = false;
  std::vector<bool> exemptDetector(policy.detectors.size(), false);
  std::vector<bool> exemptRule(policy.rules.size(), false);
  for (uint32_t i : selected) {
    const CompiledRule& rule = policy.rules[i];
    if (rule.rule.action != RuleAction::kAllow) continue;
    exemptCall = exemptCall || rule.exemptsCall;
    for (uint32_t detector : rule.exemptDetectors) exemptDetector[detector] = true;
    for (uint32_t blockRule : rule.exemptRules) exemptRule[blockRule] = true;
  }

  CallPolicy result;
  std::vector<bool> onRequest(policy.detectors.size(), false);
  std::vector<bool> onResponse(policy.detectors.size(), false);
  for (uint32_t i : selected) {
    const CompiledRule& rule = policy.rules[i];
    const RuleAction action = rule.rule.action;
    if (action != RuleAction::kAllow && (exemptCall || exemptRule[i])) continue;
    result.matchedRules.push_back(rule.rule.id);
    if (action == RuleAction::kBlock) {
      // (2) The first block rule that fires decides; once one has fired on call facts, later rules
      // cannot change the outcome, and earlier prompt rules need not be read.
      if (result.blocked) continue;
      if (auto reason = firesOnCallFacts(rule.rule.block, call)) {
        result.blocked = blockDecision(rule.rule, std::move(*reason));
        result.promptBlockRules.clear();
      } else if (rule.prompt) {
        result.promptBlockRules.push_back(i);
      }
    } else if (action == RuleAction::kMask) {
      // (3) The union of the mask rules; a later rule's replacement overrides an earlier one's.
      for (const auto& [detector, style] : rule.maskDetectors) {
        if (exemptDetector[detector]) continue;
        onRequest[detector] = onRequest[detector] || rule.rule.mask.onRequest;
        onResponse[detector] = onResponse[detector] || rule.rule.mask.onResponse;
        result.mask.styles[policy.detectors[detector].name] = style;
      }
    }
  }
  for (uint32_t detector = 0; detector < policy.detectors.size(); ++detector) {
    if (onRequest[detector]) result.mask.requestDetectors.push_back(policy.detectors[detector].name);
    if (onResponse[detector]) result.mask.responseDetectors.push_back(policy.detectors[detector].name);
  }
  return result;
}

std::optional<BlockDecision> Policy::checkPrompt(const CallPolicy& call, const std::vector<TextSegment>& prompt) const {
  const CompiledPolicy& policy = impl_->compiled;
  for (uint32_t index : call.promptBlockRules) {
    if (index >= policy.rules.size() || !policy.rules[index].prompt) continue;
    const CompiledRule& rule = policy.rules[index];
    // Segment by segment: each is one decoded string, so neither JSON escapes nor the text of a
    // neighbouring message can hide or make up a match.
    for (const TextSegment& segment : prompt) {
      auto fired = rule.prompt->firstMatch(segment.text);
      if (!fired) {
        // Fail closed, as masking does: a prompt that could not be checked does not go out.
        return blockDecision(rule.rule, "prompt could not be checked: " + fired.error().message);
      }
      if (!*fired) continue;
      const uint32_t expression = **fired;
      const size_t patterns = rule.rule.block.patterns.size();
      return blockDecision(rule.rule, expression < patterns ? "prompt matched pattern " + std::to_string(expression + 1)
                                                            : std::string("prompt contained a listed word"));
    }
  }
  return std::nullopt;
}

}  // namespace shadowai
