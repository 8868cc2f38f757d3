// The shipped default policy (rules/policy.d/00-default.json): valid, masks every built-in secret and
// personal-data detector in both directions with placeholders, blocks nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using ::testing::IsEmpty;

const std::string kDefaultPolicyDir = std::string(SHADOWAI_SOURCE_RULES_DIR) + "/policy.d";

TEST(PolicyDefault, IsValid) {
  EXPECT_THAT(Policy::check(kDefaultPolicyDir, shippedBuiltinDetectors()), IsEmpty());
  auto policy = Policy::load(kDefaultPolicyDir, shippedBuiltinDetectors());
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_EQ((*policy)->files().size(), 1u);
  EXPECT_EQ((*policy)->customDetectorCount(), 0u);
}

TEST(PolicyDefault, MasksEveryBuiltinSecretAndPiiDetectorWithPlaceholders) {
  auto policy = Policy::load(kDefaultPolicyDir, shippedBuiltinDetectors());
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  std::vector<std::string> expected;
  for (const Detector& detector : shippedDetectors()) {
    if (detector.category == DetectorCategory::kSecret || detector.category == DetectorCategory::kPii) {
      expected.push_back(detector.name);
    }
  }
  ASSERT_FALSE(expected.empty());
  for (const WorkloadFacts& workload : {WorkloadFacts{}, billingWorkload()}) {
    CallPolicy call = (*policy)->forCall(workload, openAiCall());
    EXPECT_EQ(call.mask.requestDetectors, expected);
    EXPECT_EQ(call.mask.responseDetectors, expected);
    for (const std::string& name : expected) EXPECT_EQ(call.mask.styles.at(name), ReplacementStyle::kPlaceholder);
  }
}

TEST(PolicyDefault, BlocksNothing) {
  auto policy = Policy::load(kDefaultPolicyDir, shippedBuiltinDetectors());
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  for (const CallFacts& call : {openAiCall(), openAiCall("gpt-3.5-turbo"),
                                CallFacts{"deepseek", "api.deepseek.com", "openai-chat", "deepseek-chat"}}) {
    CallPolicy decided = (*policy)->forCall(billingWorkload(), call);
    EXPECT_FALSE(decided.blocked);
    EXPECT_THAT(decided.promptBlockRules, IsEmpty());
    std::vector<TextSegment> prompt{TextSegment{"user", "confidential project orion", nlohmann::json::json_pointer(), ""}};
    EXPECT_FALSE((*policy)->checkPrompt(decided, prompt));
  }
}

}  // namespace
}  // namespace shadowai
