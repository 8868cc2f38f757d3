#include "mask/mask_session.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "mask_test_values.h"
#include "support/temp_dir.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

std::shared_ptr<const DetectorSet> builtins() {
  static auto set = [] {
    auto compiled = DetectorSet::compile(shippedDetectors());
    EXPECT_TRUE(compiled.ok());
    return compiled.ok() ? *compiled : nullptr;
  }();
  return set;
}

std::shared_ptr<const MaskRules> rulesWith(std::optional<ReplacementStyle> style = std::nullopt) {
  auto rules = std::make_shared<MaskRules>();
  rules->detectors = builtins();
  rules->requestDetectors = rules->detectors->all();
  rules->responseDetectors = rules->detectors->all();
  for (const Detector& detector : rules->detectors->detectors()) {
    rules->styles.push_back(style.value_or(detector.defaultStyle));
  }
  return rules;
}

std::shared_ptr<const PseudonymKey> keyOf(unsigned char fill) {
  std::array<unsigned char, 32> bytes{};
  bytes.fill(fill);
  return std::make_shared<PseudonymKey>(PseudonymKey::fromBytes(bytes));
}

std::string maskOrDie(MaskSession& session, std::string_view text, MaskSite site = MaskSite::kRequest) {
  auto masked = session.mask(text, site);
  EXPECT_TRUE(masked.ok()) << (masked.ok() ? "" : masked.error().describe());
  return masked.ok() ? *masked : std::string();
}

TEST(MaskSession, PlaceholdersNumberPerLabelAndRepeatForTheSameValue) {
  MaskSession session(rulesWith(ReplacementStyle::kPlaceholder), keyOf(1));
  EXPECT_EQ(maskOrDie(session, "a@example.com, b@example.com, a@example.com, 10.0.0.1"),
            "[EMAIL_1], [EMAIL_2], [EMAIL_1], [IP_ADDRESS_1]");
  // The answer reuses the prompt's numbers.
  EXPECT_EQ(maskOrDie(session, "I wrote to b@example.com and c@example.com", MaskSite::kResponse),
            "I wrote to [EMAIL_2] and [EMAIL_3]");
}

TEST(MaskSession, TextWithoutMatchesIsUnchanged) {
  MaskSession session(rulesWith(), keyOf(1));
  EXPECT_EQ(maskOrDie(session, "Hello world."), "Hello world.");
  EXPECT_EQ(session.totalHits(), 0u);
}

TEST(MaskSession, PseudonymsAreStableAcrossSessionsAndDependOnTheKey) {
  auto rules = rulesWith(ReplacementStyle::kPseudonym);
  MaskSession one(rules, keyOf(7));
  MaskSession two(rules, keyOf(7));
  MaskSession other(rules, keyOf(8));
  std::string a = maskOrDie(one, "john@example.com");
  EXPECT_TRUE(std::regex_match(a, std::regex(R"(\[EMAIL_[0-9a-f]{10}\])"))) << a;
  EXPECT_EQ(maskOrDie(two, "john@example.com"), a);
  EXPECT_NE(maskOrDie(other, "john@example.com"), a);
  EXPECT_NE(maskOrDie(one, "jane@example.com"), a);
}

TEST(MaskSession, PseudonymWithoutKeyIsAnError) {
  MaskSession session(rulesWith(ReplacementStyle::kPseudonym), nullptr);
  auto masked = session.mask("john@example.com", MaskSite::kRequest);
  ASSERT_FALSE(masked.ok());
  EXPECT_EQ(masked.error().message.find("john"), std::string::npos);
}

TEST(MaskSession, RedactAndValueOnly) {
  MaskSession session(rulesWith(ReplacementStyle::kRedact), keyOf(1));
  EXPECT_EQ(maskOrDie(session, "password = \"Xk9#mP2vL7q!\" and john@example.com"),
            "password = \"[REDACTED]\" and [REDACTED]");
}

TEST(MaskSession, DefaultStylesAndSelectionPerSite) {
  auto rules = std::make_shared<MaskRules>(*rulesWith());
  rules->responseDetectors.assign(rules->detectors->detectors().size(), false);
  MaskSession session(rules, keyOf(1));
  std::string pem = "-----BEGIN PRIVATE KEY-----\n" + testing::fakeChars(testing::kAlnum, 64) + "\n-----END PRIVATE KEY-----";
  EXPECT_EQ(maskOrDie(session, "key " + pem), "key [REDACTED]");
  EXPECT_EQ(maskOrDie(session, "john@example.com", MaskSite::kResponse), "john@example.com");
}

TEST(MaskSession, HitsCountPerDetectorAndSiteWithoutValues) {
  MaskSession session(rulesWith(), keyOf(1));
  maskOrDie(session, "a@example.com b@example.com 10.0.0.1");
  maskOrDie(session, "c@example.com", MaskSite::kResponse);
  // A value masked again (an API that repeats its answer) is still one finding.
  maskOrDie(session, "again: a@example.com and 10.0.0.1");
  maskOrDie(session, "c@example.com", MaskSite::kResponse);
  auto hits = session.hits();
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0], (DetectorHits{"email", DetectorCategory::kPii, MaskSite::kRequest, 2}));
  EXPECT_EQ(hits[1], (DetectorHits{"email", DetectorCategory::kPii, MaskSite::kResponse, 1}));
  EXPECT_EQ(hits[2], (DetectorHits{"ipv4-address", DetectorCategory::kPii, MaskSite::kRequest, 1}));
  EXPECT_EQ(session.totalHits(), 4u);
  EXPECT_EQ(toString(MaskSite::kResponse), "response");
}

TEST(MaskPseudonymKey, CreatesAPrivateKeyFileAndReadsItBack) {
  test::TempDir dir;
  std::string path = dir.path() + "/pseudonym.key";
  auto created = PseudonymKey::loadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.error().describe();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, 32);
  auto loaded = PseudonymKey::loadOrCreate(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->bytes(), created->bytes());
  test::TempDir other;
  auto fresh = PseudonymKey::loadOrCreate(other.path() + "/k");
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->bytes(), created->bytes());
}

TEST(MaskPseudonymKey, RefusesOpenModesAndWrongSizes) {
  test::TempDir dir;
  std::string open = dir.path() + "/open.key";
  std::ofstream(open) << std::string(32, 'k');
  ::chmod(open.c_str(), 0644);
  auto refused = PseudonymKey::loadOrCreate(open);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("0644"), std::string::npos) << refused.error().message;

  std::string shortKey = dir.path() + "/short.key";
  std::ofstream(shortKey) << "tiny";
  ::chmod(shortKey.c_str(), 0600);
  auto wrongSize = PseudonymKey::loadOrCreate(shortKey);
  ASSERT_FALSE(wrongSize.ok());
  EXPECT_NE(wrongSize.error().message.find("32 bytes"), std::string::npos);
  EXPECT_EQ(wrongSize.error().message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace shadowai

namespace shadowai {
namespace {

// Text dense with near-matches of the detectors our own automaton confirms (PEM and JWT fragments,
// repeated key prefixes): the shapes issue 12 timed at 0.2-1 MB/s, 1 MiB of them here.
std::string slowToMask() {
  std::string text;
  while (text.size() < (1u << 20)) {
    text += "-----BEGIN PRIVATE KEY----- eyJhbGciOiJIUzI1NiJ9.eyJ sk-proj- password=x fe80::1:2 ";
  }
  return text;
}

// A call whose text is shaped to be slow to mask runs out of its CPU budget and fails (the proxy
// refuses it or cuts its stream), whole or streamed; a budget far above the work changes nothing.
TEST(MaskSession, ACallPastItsCpuBudgetFailsInsteadOfHoldingTheThread) {
  const std::string slow = slowToMask();
  MaskSession whole(rulesWith(), keyOf(1));
  whole.setCpuLimit(std::chrono::milliseconds(1));
  auto masked = whole.mask(slow, MaskSite::kRequest);
  ASSERT_FALSE(masked.ok());
  EXPECT_EQ(masked.error().message,
            "masking this call took more than its CPU budget of 1 ms (intercept.max_mask_cpu_ms)");
  // Spent once, the budget stays spent: every later text of the call fails at once.
  EXPECT_FALSE(whole.mask("hello", MaskSite::kResponse).ok());

  MaskSession streamed(rulesWith(), keyOf(1));
  streamed.setCpuLimit(std::chrono::milliseconds(1));
  auto stream = streamed.openStream(MaskSite::kResponse);
  bool failed = false;
  for (size_t at = 0; at < slow.size() && !failed; at += 512) failed = !stream->feed(slow.substr(at, 512)).ok();
  EXPECT_TRUE(failed) << "a stream of " << slow.size() << " bytes never ran out of a 1 ms budget";

  MaskSession generous(rulesWith(), keyOf(1));
  generous.setCpuLimit(std::chrono::seconds(600));
  auto fine = generous.mask("mail john.doe@example.com", MaskSite::kRequest);
  ASSERT_TRUE(fine.ok()) << fine.error().describe();
  EXPECT_EQ(fine->find("john.doe@example.com"), std::string::npos);
  EXPECT_GT(generous.cpuSpent().count(), 0);
}

}  // namespace
}  // namespace shadowai
