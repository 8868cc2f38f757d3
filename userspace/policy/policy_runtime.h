// PolicyRuntime: a loaded Policy made ready for the proxy: its detectors compiled once into a
// DetectorSet, the host's pseudonym key, and the per-call mask rules (built once per distinct mask
// selection and shared). PolicyHolder is the daemon's current runtime: a reload builds a new one
// and swaps it in; calls in flight keep the runtime they started with (they hold a shared_ptr).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "mask/mask_session.h"
#include "policy/policy.h"

namespace shadowai {

// What the interception does with one call.
struct CallGovernance {
  CallPolicy policy;
  std::shared_ptr<const MaskRules> mask;  // null: nothing to mask on either side
  bool masksRequest() const { return mask && policy.mask.requestDetectors.size() != 0; }
  bool masksResponse() const { return mask && policy.mask.responseDetectors.size() != 0; }
};

class PolicyRuntime {
 public:
  static Result<std::shared_ptr<const PolicyRuntime>> create(std::shared_ptr<const Policy> policy,
                                                             std::shared_ptr<const PseudonymKey> key);

  const Policy& policy() const { return *policy_; }
  const DetectorSet& detectors() const { return *detectors_; }
  const std::shared_ptr<const PseudonymKey>& pseudonymKey() const { return key_; }

  // Thread-safe.
  CallGovernance govern(const WorkloadFacts& workload, const CallFacts& call) const;

 private:
  PolicyRuntime() = default;
  std::shared_ptr<const MaskRules> maskRulesFor(const MaskSelection& selection) const;

  std::shared_ptr<const Policy> policy_;
  std::shared_ptr<const DetectorSet> detectors_;
  std::shared_ptr<const PseudonymKey> key_;
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const MaskRules>> maskRulesCache_;
};

class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const PolicyRuntime> runtime) : current_(std::move(runtime)) {}
  std::shared_ptr<const PolicyRuntime> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(std::shared_ptr<const PolicyRuntime> runtime) {
    std::lock_guard lock(mutex_);
    current_ = std::move(runtime);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicyRuntime> current_;
};

}  // namespace shadowai
