#include "policy/policy_runtime.h"

namespace shadowai {

namespace {

// A cache key naming the selection exactly: the detectors of each side and every style.
std::string selectionKey(const MaskSelection& selection) {
  std::string key;
  for (const std::string& name : selection.requestDetectors) key += name + ',';
  key += '|';
  for (const std::string& name : selection.responseDetectors) key += name + ',';
  key += '|';
  for (const auto& [name, style] : selection.styles) key += name + '=' + std::string(toString(style)) + ',';
  return key;
}

}  // namespace

Result<std::shared_ptr<const PolicyRuntime>> PolicyRuntime::create(std::shared_ptr<const Policy> policy,
                                                                   std::shared_ptr<const PseudonymKey> key) {
  auto detectors = DetectorSet::compile(policy->detectors());
  if (!detectors) return makeError("cannot compile the policy's detectors: " + detectors.error().describe());
  std::shared_ptr<PolicyRuntime> runtime(new PolicyRuntime());
  runtime->policy_ = std::move(policy);
  runtime->detectors_ = std::move(*detectors);
  runtime->key_ = std::move(key);
  return std::shared_ptr<const PolicyRuntime>(std::move(runtime));
}

std::shared_ptr<const MaskRules> PolicyRuntime::maskRulesFor(const MaskSelection& selection) const {
  const std::string key = selectionKey(selection);
  std::lock_guard lock(cacheMutex_);
  if (auto found = maskRulesCache_.find(key); found != maskRulesCache_.end()) return found->second;
  auto rules = std::make_shared<MaskRules>();
  rules->detectors = detectors_;
  const auto& all = detectors_->detectors();
  rules->requestDetectors.assign(all.size(), false);
  rules->responseDetectors.assign(all.size(), false);
  rules->styles.reserve(all.size());
  for (const Detector& detector : all) rules->styles.push_back(detector.defaultStyle);
  // The policy validated every name against the same detector list, so an unknown one cannot occur;
  // were it to, it is skipped rather than guessed.
  for (const std::string& name : selection.requestDetectors) {
    if (auto index = detectors_->indexOf(name)) rules->requestDetectors[*index] = true;
  }
  for (const std::string& name : selection.responseDetectors) {
    if (auto index = detectors_->indexOf(name)) rules->responseDetectors[*index] = true;
  }
  for (const auto& [name, style] : selection.styles) {
    if (auto index = detectors_->indexOf(name)) rules->styles[*index] = style;
  }
  std::shared_ptr<const MaskRules> shared = std::move(rules);
  maskRulesCache_.emplace(key, shared);
  return shared;
}

CallGovernance PolicyRuntime::govern(const WorkloadFacts& workload, const CallFacts& call) const {
  CallGovernance governance;
  governance.policy = policy_->forCall(workload, call);
  if (!governance.policy.mask.empty()) governance.mask = maskRulesFor(governance.policy.mask);
  return governance;
}

}  // namespace shadowai
