// Rule selectors: each field of `match`, AND across fields, OR within a field's list, and facts the
// daemon does not know matching nothing.
#include <gtest/gtest.h>

#include "policy/rule_selector.h"
#include "policy_test_util.h"

namespace shadowai {
namespace {

// Whether a mask rule with MATCH (a JSON object, or "" for none) applies to the call.
bool selects(const std::string& match, const WorkloadFacts& workload, const CallFacts& call) {
  std::string rule = R"({"id": "r", )" + (match.empty() ? std::string() : R"("match": )" + match + ", ") +
                     R"("mask": {"detectors": ["email"]}})";
  auto policy = policyFromJson(R"({"version": 1, "rules": [)" + rule + "]}");
  if (!policy) return false;
  return !policy->forCall(workload, call).matchedRules.empty();
}

bool selectsWorkload(const std::string& workloadSelector, const WorkloadFacts& workload) {
  return selects(R"({"workload": )" + workloadSelector + "}", workload, openAiCall());
}

bool selectsCall(const std::string& callSelector, const CallFacts& call) {
  return selects(R"({"call": )" + callSelector + "}", billingWorkload(), call);
}

TEST(PolicySelector, RuleWithoutMatchAppliesToEveryCall) {
  EXPECT_TRUE(selects("", WorkloadFacts{}, CallFacts{}));
  EXPECT_TRUE(selects("", billingWorkload(), openAiCall()));
}

TEST(PolicySelector, CgroupIsAPathPrefixOnSlashBoundaries) {
  WorkloadFacts workload = billingWorkload();
  EXPECT_TRUE(selectsWorkload(R"({"cgroup": ["/system.slice"]})", workload));
  EXPECT_TRUE(selectsWorkload(R"({"cgroup": ["/system.slice/"]})", workload));
  EXPECT_TRUE(selectsWorkload(R"({"cgroup": ["/system.slice/billing-etl.service"]})", workload));
  EXPECT_TRUE(selectsWorkload(R"({"cgroup": ["/"]})", workload));
  EXPECT_FALSE(selectsWorkload(R"({"cgroup": ["/system.slice/billing"]})", workload));
  EXPECT_FALSE(selectsWorkload(R"({"cgroup": ["/user.slice"]})", workload));
  workload.cgroupPath = "/system.slicex/a.service";
  EXPECT_FALSE(selectsWorkload(R"({"cgroup": ["/system.slice"]})", workload));
  EXPECT_TRUE(cgroupPrefixMatches("/system.slice", "/system.slice"));
  EXPECT_FALSE(cgroupPrefixMatches("/a", ""));
}

TEST(PolicySelector, UnitIsAGlob) {
  WorkloadFacts workload = billingWorkload();
  EXPECT_TRUE(selectsWorkload(R"({"unit": ["billing-*.service"]})", workload));
  EXPECT_TRUE(selectsWorkload(R"({"unit": ["billing-et?.service"]})", workload));
  EXPECT_FALSE(selectsWorkload(R"({"unit": ["lab-*.service"]})", workload));
  workload.unit.clear();  // no unit: not even "*" selects it
  EXPECT_FALSE(selectsWorkload(R"({"unit": ["*"]})", workload));
}

TEST(PolicySelector, ContainerIsAGlob) {
  WorkloadFacts workload = billingWorkload();
  workload.containerId = "docker:3f9a0c1d2e";
  EXPECT_TRUE(selectsWorkload(R"({"container": ["docker:3f*"]})", workload));
  EXPECT_FALSE(selectsWorkload(R"({"container": ["containerd:*"]})", workload));
  EXPECT_FALSE(selectsWorkload(R"({"container": ["*"]})", billingWorkload()));
}

TEST(PolicySelector, UidIsANumber) {
  WorkloadFacts workload = billingWorkload();
  EXPECT_TRUE(selectsWorkload(R"({"uid": [0, 1000]})", workload));
  EXPECT_FALSE(selectsWorkload(R"({"uid": [1001]})", workload));
  workload.uid.reset();
  EXPECT_FALSE(selectsWorkload(R"({"uid": [0]})", workload));
}

TEST(PolicySelector, UserIsExact) {
  EXPECT_TRUE(selectsWorkload(R"({"user": ["etl"]})", billingWorkload()));
  EXPECT_FALSE(selectsWorkload(R"({"user": ["et*"]})", billingWorkload()));
  EXPECT_FALSE(selectsWorkload(R"({"user": ["ETL"]})", billingWorkload()));
}

TEST(PolicySelector, ExeIsAGlobAcrossSlashes) {
  EXPECT_TRUE(selectsWorkload(R"({"exe": ["/usr/bin/python3*"]})", billingWorkload()));
  EXPECT_TRUE(selectsWorkload(R"({"exe": ["/usr/*"]})", billingWorkload()));
  EXPECT_FALSE(selectsWorkload(R"({"exe": ["/usr/bin/node"]})", billingWorkload()));
}

TEST(PolicySelector, ProviderIsExact) {
  EXPECT_TRUE(selectsCall(R"({"provider": ["anthropic", "openai"]})", openAiCall()));
  EXPECT_FALSE(selectsCall(R"({"provider": ["open*"]})", openAiCall()));
}

TEST(PolicySelector, HostIsACaseInsensitiveGlob) {
  EXPECT_TRUE(selectsCall(R"({"host": ["api.openai.com"]})", openAiCall()));
  EXPECT_TRUE(selectsCall(R"({"host": ["*.OpenAI.com"]})", openAiCall()));
  EXPECT_FALSE(selectsCall(R"({"host": ["*.anthropic.com"]})", openAiCall()));
}

TEST(PolicySelector, ApiIsExact) {
  EXPECT_TRUE(selectsCall(R"({"api": ["openai-chat"]})", openAiCall()));
  EXPECT_FALSE(selectsCall(R"({"api": ["openai-responses"]})", openAiCall()));
}

TEST(PolicySelector, ModelIsAGlob) {
  EXPECT_TRUE(selectsCall(R"({"model": ["gpt-4o*"]})", openAiCall("gpt-4o-mini")));
  EXPECT_FALSE(selectsCall(R"({"model": ["gpt-4o*"]})", openAiCall("gpt-3.5-turbo")));
  EXPECT_FALSE(selectsCall(R"({"model": ["*"]})", openAiCall("")));
  EXPECT_FALSE(selectsCall(R"({"model": ["gpt-4o"]})", openAiCall(std::string("gpt-4o\0x", 8))));
}

TEST(PolicySelector, FieldsAreAndedAndListsAreOred) {
  const std::string both = R"({"workload": {"unit": ["billing-*.service"], "uid": [1000]},
                               "call": {"provider": ["openai"], "model": ["gpt-4o*", "o1*"]}})";
  EXPECT_TRUE(selects(both, billingWorkload(), openAiCall("o1-preview")));
  EXPECT_FALSE(selects(both, billingWorkload(), openAiCall("gpt-3.5-turbo")));
  WorkloadFacts otherUser = billingWorkload();
  otherUser.uid = 0;
  EXPECT_FALSE(selects(both, otherUser, openAiCall()));
}

}  // namespace
}  // namespace shadowai
