// Policy::checkPrompt: block patterns and words over the decoded text of each prompt segment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "policy/prompt_matcher.h"
#include "policy_test_util.h"

namespace shadowai {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<TextSegment> promptOf(std::vector<std::string> texts) {
  std::vector<TextSegment> segments;
  for (size_t i = 0; i < texts.size(); ++i) {
    segments.push_back(TextSegment{"user", std::move(texts[i]),
                                   nlohmann::json::json_pointer("/messages/" + std::to_string(i) + "/content"), ""});
  }
  return segments;
}

class PolicyPrompt : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = policyFromJson(R"({"version": 1, "rules": [
      {"id": "codenames", "block": {"patterns": ["\\bPRJ-[0-9]{3}\\b", "(?i)project\\s+orion"],
                                    "message": "Codenames stay in the building."}},
      {"id": "words", "block": {"words": ["confidential", "Acme Corp", "C++"]}},
      {"id": "exact", "block": {"words": ["Globex"], "case_sensitive": true}}
    ]})");
    ASSERT_TRUE(policy_);
    call_ = policy_->forCall(billingWorkload(), openAiCall());
    ASSERT_THAT(call_.promptBlockRules, ElementsAre(0u, 1u, 2u));
  }

  std::optional<BlockDecision> check(std::vector<std::string> texts) const {
    return policy_->checkPrompt(call_, promptOf(std::move(texts)));
  }

  std::shared_ptr<const Policy> policy_;
  CallPolicy call_;
};

TEST_F(PolicyPrompt, CleanPromptPasses) {
  EXPECT_FALSE(check({"Summarise this invoice for me.", "Thanks!"}));
  EXPECT_FALSE(policy_->checkPrompt(call_, {}));
}

TEST_F(PolicyPrompt, PatternFiresWithItsNumberAsReason) {
  auto decision = check({"hello", "What did PROJECT   Orion ship?"});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ruleId, "codenames");
  EXPECT_EQ(decision->message, "Codenames stay in the building.");
  EXPECT_EQ(decision->reason, "prompt matched pattern 2");
  decision = check({"see PRJ-042 notes"});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->reason, "prompt matched pattern 1");
  EXPECT_FALSE(check({"see PRJ-0420 notes"}));
}

TEST_F(PolicyPrompt, WordsAreWholeWordsAndCaseInsensitive) {
  auto decision = check({"This is CONFIDENTIAL."});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ruleId, "words");
  EXPECT_EQ(decision->reason, "prompt contained a listed word");
  EXPECT_FALSE(check({"nonconfidential and confidentiality are other words"}));
  EXPECT_TRUE(check({"a memo from acme\n corp"}));  // a phrase spans any white space
  EXPECT_FALSE(check({"acmecorp"}));
  EXPECT_TRUE(check({"write it in C++ please"}));  // punctuation at an edge needs no word boundary
}

TEST_F(PolicyPrompt, CaseSensitiveWords) {
  EXPECT_TRUE(check({"merger with Globex"}));
  EXPECT_FALSE(check({"merger with globex"}));
}

TEST_F(PolicyPrompt, SegmentsAreDecodedSoJsonEscapesCannotHideAWord) {
  // What a provider adapter hands over: the decoded string value, not the JSON text.
  nlohmann::json body = nlohmann::json::parse(R"({"content": "strictly \u0063onfidential\n"})");
  auto decision = check({body["content"].get<std::string>()});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ruleId, "words");
}

TEST_F(PolicyPrompt, EachSegmentIsScannedOnItsOwn) {
  EXPECT_FALSE(check({"project", "orion"}));  // a pattern does not span two messages
}

TEST_F(PolicyPrompt, ReasonNeverHoldsPromptText) {
  for (const std::string& text : {std::string("my confidential plan"), std::string("PRJ-123 and project orion")}) {
    auto decision = check({text});
    ASSERT_TRUE(decision);
    for (const std::string& fragment :
         {std::string("confidential"), std::string("PRJ"), std::string("orion"), std::string("plan")}) {
      EXPECT_THAT(decision->reason, Not(HasSubstr(fragment)));
    }
  }
}

TEST_F(PolicyPrompt, RulesAreCheckedInOrder) {
  auto decision = check({"confidential", "PRJ-123"});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ruleId, "codenames");
}

TEST_F(PolicyPrompt, InvalidUtf8IsStillScanned) {
  auto decision = check({std::string("\xff\xfe confidential \xc3")});
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ruleId, "words");
}

TEST_F(PolicyPrompt, ExemptedRulesAreNotChecked) {
  auto policy = policyFromJson(R"({"version": 1, "rules": [
    {"id": "words", "block": {"words": ["confidential"]}},
    {"id": "lab", "match": {"workload": {"unit": ["billing-*"]}}, "allow": {"rules": ["words"]}}
  ]})");
  ASSERT_TRUE(policy);
  CallPolicy call = policy->forCall(billingWorkload(), openAiCall());
  EXPECT_TRUE(call.promptBlockRules.empty());
  EXPECT_FALSE(policy->checkPrompt(call, promptOf({"confidential"})));
}

TEST_F(PolicyPrompt, ThreadsScanConcurrently) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!check({"PRJ-123"}) || check({"nothing here"})) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(PolicyPromptWords, WordExpressionEscapesAndBoundsWordEdges) {
  EXPECT_EQ(wordExpression("confidential"), "\\bconfidential\\b");
  EXPECT_EQ(wordExpression("Acme  Corp"), "\\bAcme\\s+Corp\\b");
  EXPECT_EQ(wordExpression("C++"), "\\bC\\+\\+");
  EXPECT_EQ(wordExpression("a.b*"), "\\ba\\.b\\*");
}

}  // namespace
}  // namespace shadowai
