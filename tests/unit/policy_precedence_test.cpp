// Precedence (docs/policy.md): allow rules exempt detectors and block rules wherever they stand;
// the first block rule that fires blocks; masking is the union of the mask rules and a later rule's
// replacement wins; rules are taken in file order (name order in a directory), then rule order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"
#include "support/temp_dir.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string policyWith(const std::string& rules) { return R"({"version": 1, "rules": [)" + rules + "]}"; }

TEST(PolicyPrecedence, MaskingIsTheUnionOfMatchingMaskRules) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "a", "mask": {"detectors": ["email"]}},
    {"id": "b", "mask": {"detectors": ["openai-api-key"], "on": ["request"]}},
    {"id": "c", "match": {"workload": {"unit": ["other.service"]}}, "mask": {"detectors": ["all"]}})"));
  ASSERT_TRUE(policy);
  CallPolicy call = policy->forCall(billingWorkload(), openAiCall());
  EXPECT_THAT(call.mask.requestDetectors, UnorderedElementsAre("email", "openai-api-key"));
  EXPECT_THAT(call.mask.responseDetectors, ElementsAre("email"));
  EXPECT_THAT(call.matchedRules, ElementsAre("a", "b"));
  EXPECT_EQ(call.mask.styles.size(), 2u);
}

TEST(PolicyPrecedence, StylesComeFromReplacementsThenReplacementThenTheDetectorDefault) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "a", "mask": {"detectors": ["email", "openai-api-key"], "replacement": "redact",
                         "replacements": {"email": "pseudonym"}}})"));
  ASSERT_TRUE(policy);
  EXPECT_THAT(policy->forCall(billingWorkload(), openAiCall()).mask.styles,
              UnorderedElementsAre(Pair("email", ReplacementStyle::kPseudonym),
                                   Pair("openai-api-key", ReplacementStyle::kRedact)));
  auto defaults = policyFromJson(policyWith(R"({"id": "a", "mask": {"detectors": ["email"]}})"));
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->forCall(billingWorkload(), openAiCall()).mask.styles.at("email"),
            shippedBuiltinDetectors().find("email")->defaultStyle);
}

TEST(PolicyPrecedence, TheLaterRulesReplacementWins) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "first", "mask": {"detectors": ["email"], "replacement": "pseudonym"}},
    {"id": "second", "mask": {"detectors": ["category:pii"], "replacement": "redact"}},
    {"id": "third", "match": {"call": {"model": ["nothing-*"]}}, "mask": {"detectors": ["email"]}})"));
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->forCall(billingWorkload(), openAiCall()).mask.styles.at("email"), ReplacementStyle::kRedact);

  auto reversed = policyFromJson(policyWith(R"(
    {"id": "second", "mask": {"detectors": ["category:pii"], "replacement": "redact"}},
    {"id": "first", "mask": {"detectors": ["email"], "replacement": "pseudonym"}})"));
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed->forCall(billingWorkload(), openAiCall()).mask.styles.at("email"), ReplacementStyle::kPseudonym);
}

TEST(PolicyPrecedence, AllowExemptsItsDetectorsFromMaskingWhereverItStands) {
  for (bool allowFirst : {true, false}) {
    const std::string mask = R"({"id": "mask", "mask": {"detectors": ["email", "openai-api-key"]}})";
    const std::string allow =
        R"({"id": "lab", "match": {"workload": {"unit": ["billing-*"]}}, "allow": {"detectors": ["email"]}})";
    auto policy = policyFromJson(policyWith(allowFirst ? allow + "," + mask : mask + "," + allow));
    ASSERT_TRUE(policy);
    CallPolicy call = policy->forCall(billingWorkload(), openAiCall());
    EXPECT_THAT(call.mask.requestDetectors, ElementsAre("openai-api-key"));
    EXPECT_FALSE(call.mask.styles.contains("email"));
    // Outside the allow rule's selector, email is masked again.
    WorkloadFacts other = billingWorkload();
    other.unit = "web.service";
    EXPECT_THAT(policy->forCall(other, openAiCall()).mask.requestDetectors,
                UnorderedElementsAre("email", "openai-api-key"));
  }
}

TEST(PolicyPrecedence, AllowExemptsTheBlockRulesItNames) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "no-old-models", "block": {"models": ["gpt-3.5*"]}},
    {"id": "no-deepseek", "block": {"providers": ["openai"], "message": "not here"}},
    {"id": "legacy", "match": {"workload": {"user": ["etl"]}}, "allow": {"rules": ["no-old-models"]}})"));
  ASSERT_TRUE(policy);
  CallPolicy call = policy->forCall(billingWorkload(), openAiCall("gpt-3.5-turbo"));
  ASSERT_TRUE(call.blocked);
  EXPECT_EQ(call.blocked->ruleId, "no-deepseek");  // the exempted rule is skipped, the next one fires
  EXPECT_EQ(call.blocked->message, "not here");
  EXPECT_EQ(call.blocked->reason, "provider openai is not allowed");
  EXPECT_THAT(call.matchedRules, ElementsAre("no-deepseek", "legacy"));

  WorkloadFacts other = billingWorkload();
  other.user = "web";
  call = policy->forCall(other, openAiCall("gpt-3.5-turbo"));
  ASSERT_TRUE(call.blocked);
  EXPECT_EQ(call.blocked->ruleId, "no-old-models");
  EXPECT_EQ(call.blocked->reason, "model gpt-3.5-turbo is not allowed");
}

TEST(PolicyPrecedence, AllowWithNeitherListExemptsTheCallFromEverything) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "mask", "mask": {"detectors": ["all"]}},
    {"id": "block", "block": {"message": "no"}},
    {"id": "prompt", "block": {"words": ["secret"]}},
    {"id": "lab", "match": {"workload": {"unit": ["billing-*"]}}, "allow": {}})"));
  ASSERT_TRUE(policy);
  CallPolicy call = policy->forCall(billingWorkload(), openAiCall());
  EXPECT_FALSE(call.blocked);
  EXPECT_THAT(call.promptBlockRules, IsEmpty());
  EXPECT_TRUE(call.mask.empty());
  EXPECT_THAT(call.matchedRules, ElementsAre("lab"));
}

TEST(PolicyPrecedence, TheFirstBlockRuleThatFiresBlocks) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "models", "block": {"models": ["o1*"]}},
    {"id": "everything", "match": {"call": {"api": ["openai-chat"]}}, "block": {"message": "chat is off"}},
    {"id": "provider", "block": {"providers": ["openai"]}})"));
  ASSERT_TRUE(policy);
  CallPolicy call = policy->forCall(billingWorkload(), openAiCall());
  ASSERT_TRUE(call.blocked);
  EXPECT_EQ(call.blocked->ruleId, "everything");
  EXPECT_EQ(call.blocked->message, "chat is off");
  EXPECT_EQ(call.blocked->reason, "the rule blocks every call it selects");
  call = policy->forCall(billingWorkload(), openAiCall("o1-mini"));
  ASSERT_TRUE(call.blocked);
  EXPECT_EQ(call.blocked->ruleId, "models");
  EXPECT_NE(call.blocked->message.find("(rule models)"), std::string::npos);  // the default message
}

TEST(PolicyPrecedence, PromptRulesAreListedInOrderUntilARuleFiresOnCallFacts) {
  auto policy = policyFromJson(policyWith(R"(
    {"id": "p1", "block": {"words": ["alpha"]}},
    {"id": "p2", "block": {"patterns": ["beta"], "models": ["o1*"]}},
    {"id": "p3", "block": {"words": ["gamma"]}})"));
  ASSERT_TRUE(policy);
  CallPolicy call = policy->forCall(billingWorkload(), openAiCall());
  EXPECT_FALSE(call.blocked);
  EXPECT_THAT(call.promptBlockRules, ElementsAre(0u, 1u, 2u));
  // p2's model list fires before any prompt is read: the call is blocked, nothing is left to scan.
  call = policy->forCall(billingWorkload(), openAiCall("o1-mini"));
  ASSERT_TRUE(call.blocked);
  EXPECT_EQ(call.blocked->ruleId, "p2");
  EXPECT_THAT(call.promptBlockRules, IsEmpty());
}

TEST(PolicyPrecedence, RulesAreTakenInFileNameOrderAcrossADirectory) {
  test::TempDir dir;
  // Written in reverse so that creation order cannot pass for name order.
  writeText(dir.path() + "/50-site.json", policyWith(R"(
    {"id": "site", "mask": {"detectors": ["email"], "replacement": "redact"}},
    {"id": "site-block", "block": {"providers": ["openai"], "message": "site"}})"));
  writeText(dir.path() + "/00-default.json", policyWith(R"(
    {"id": "default", "mask": {"detectors": ["email"], "replacement": "pseudonym"}},
    {"id": "default-block", "block": {"models": ["gpt-*"], "message": "default"}})"));
  writeText(dir.path() + "/.50-site.json.swp", "not json");
  writeText(dir.path() + "/README", "not json either");
  std::vector<PolicyProblem> problems;
  auto policy = Policy::load(dir.path(), shippedBuiltinDetectors(), &problems);
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_THAT(problems, IsEmpty());
  ASSERT_EQ((*policy)->files().size(), 2u);
  EXPECT_EQ((*policy)->files()[0].filename(), "00-default.json");
  CallPolicy call = (*policy)->forCall(billingWorkload(), openAiCall());
  EXPECT_THAT(call.matchedRules, ElementsAre("default", "default-block", "site", "site-block"));
  EXPECT_EQ(call.mask.styles.at("email"), ReplacementStyle::kRedact);  // the later file's rule
  ASSERT_TRUE(call.blocked);
  EXPECT_EQ(call.blocked->ruleId, "default-block");  // the earlier file's block rule
}

TEST(PolicyPrecedence, AllowMayNameABlockRuleOfALaterFile) {
  test::TempDir dir;
  writeText(dir.path() + "/10-allow.json", policyWith(R"({"id": "lab", "allow": {"rules": ["no-openai"]}})"));
  writeText(dir.path() + "/20-block.json", policyWith(R"({"id": "no-openai", "block": {"providers": ["openai"]}})"));
  auto policy = Policy::load(dir.path(), shippedBuiltinDetectors());
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_FALSE((*policy)->forCall(billingWorkload(), openAiCall()).blocked);
}

}  // namespace
}  // namespace shadowai
