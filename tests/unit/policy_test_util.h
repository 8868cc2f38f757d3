// Helpers for the policy tests: a policy from JSON text, its problems, and call facts.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "support/shipped_detectors.h"

namespace shadowai {

inline std::shared_ptr<const Policy> policyFromJson(const std::string& json) {
  std::vector<PolicyProblem> problems;
  auto policy = Policy::fromString(json, "test.json", shippedBuiltinDetectors(), &problems);
  EXPECT_TRUE(policy.ok()) << (policy.ok() ? "" : policy.error().message);
  return policy.ok() ? *policy : nullptr;
}

inline std::vector<PolicyProblem> problemsOfJson(const std::string& json) {
  std::vector<PolicyProblem> problems;
  (void)Policy::fromString(json, "test.json", shippedBuiltinDetectors(), &problems);
  return problems;
}

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline WorkloadFacts billingWorkload() {
  WorkloadFacts workload;
  workload.cgroupPath = "/system.slice/billing-etl.service";
  workload.unit = "billing-etl.service";
  workload.uid = 1000;
  workload.user = "etl";
  workload.exe = "/usr/bin/python3.11";
  return workload;
}

inline CallFacts openAiCall(std::string model = "gpt-4o-mini") {
  return CallFacts{"openai", "api.openai.com", "openai-chat", std::move(model)};
}

}  // namespace shadowai
