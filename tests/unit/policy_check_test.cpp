// `shadowai policy check`: every kind of problem, each with its file, JSON pointer and message, and
// all problems of a policy reported in one run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_test_util.h"
#include "common/file_util.h"
#include "common/run_command.h"
#include "support/temp_dir.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string describeAll(const std::vector<PolicyProblem>& problems) {
  std::string text;
  for (const PolicyProblem& problem : problems) text += problem.describe() + "\n";
  return text;
}

// The one problem of a policy file holding JSON.
PolicyProblem onlyProblem(const std::string& json) {
  std::vector<PolicyProblem> problems = problemsOfJson(json);
  EXPECT_EQ(problems.size(), 1u) << describeAll(problems);
  if (problems.empty()) return PolicyProblem{};
  EXPECT_EQ(problems.front().file, "test.json");
  return problems.front();
}

void expectOnlyProblem(const std::string& json, const std::string& location, const std::string& message) {
  PolicyProblem problem = onlyProblem(json);
  EXPECT_EQ(problem.location, location);
  EXPECT_EQ(problem.message, message);
}

std::string withRules(const std::string& rules) { return R"({"version": 1, "rules": [)" + rules + "]}"; }
std::string withDetectors(const std::string& detectors) {
  return R"({"version": 1, "detectors": [)" + detectors + "]}";
}

TEST(PolicyCheck, AValidPolicyHasNoProblem) {
  EXPECT_THAT(problemsOfJson(R"({
    "version": 1,
    "comment": "an example",
    "detectors": [
      {"name": "project-codename", "label": "CODENAME", "pattern": "\\bPRJ-[A-Z]{4}\\b", "description": "codenames"},
      {"name": "customer-names", "label": "CUSTOMER", "words": ["Acme Corp", "Globex"], "case_sensitive": false}
    ],
    "rules": [
      {"id": "mask-defaults", "description": "masks",
       "match": {"workload": {"cgroup": ["/system.slice/"], "unit": ["billing-*.service"], "container": ["docker:3f*"],
                              "uid": [1000], "user": ["etl"], "exe": ["/usr/bin/python3*"]},
                 "call": {"provider": ["openai"], "host": ["api.openai.com"], "api": ["openai-chat"],
                          "model": ["gpt-4o*"]}},
       "mask": {"detectors": ["category:secret", "category:pii", "project-codename", "customer-names"],
                "replacement": "placeholder", "replacements": {"email": "pseudonym"}, "on": ["request", "response"]}},
      {"id": "no-codenames", "block": {"patterns": ["(?i)project\\s+orion"], "words": ["confidential"],
                                       "models": ["gpt-3.5*"], "providers": ["deepseek"], "message": "no"}},
      {"id": "lab-exception", "match": {"workload": {"unit": ["lab-*.service"]}},
       "allow": {"detectors": ["email"], "rules": ["no-codenames"]}}
    ]
  })"),
              IsEmpty());
}

TEST(PolicyCheck, DescribeIsFileLocationMessage) {
  EXPECT_EQ((PolicyProblem{"a.json", "/rules/0", "bad"}).describe(), "a.json: /rules/0: bad");
  EXPECT_EQ((PolicyProblem{"a.json", "", "bad"}).describe(), "a.json: bad");
}

TEST(PolicyCheck, JsonSyntaxErrorGivesLineColumnAndByte) {
  PolicyProblem problem = onlyProblem("{\n  \"version\": 1,\n  \"rules\": [,]\n}");
  EXPECT_EQ(problem.location, "line 3, column 13 (byte 31)");
  EXPECT_THAT(problem.message, StartsWith("invalid JSON: syntax error while parsing value"));
}

TEST(PolicyCheck, AHugeBadFileGivesShortProblems) {
  // What the file holds is quoted cut: a 10 MB token, key or name still makes a short line.
  const std::string huge(10 << 20, 'x');
  for (const std::string& json : {"{\"version\": 1, \"rules\": [\"" + huge,
                                  "{\"version\": 1, \"" + huge + "\": 1}",
                                  "{\"version\": \"" + huge + "\"}",
                                  withRules(R"({"id": "a", "mask": {"detectors": [")" + huge + "\"]}}")}) {
    std::vector<PolicyProblem> problems = problemsOfJson(json);
    ASSERT_FALSE(problems.empty());
    for (const PolicyProblem& problem : problems) EXPECT_LT(problem.describe().size(), 300u) << problem.describe().substr(0, 300);
  }
}

TEST(PolicyCheck, TopLevelMustBeAnObject) {
  expectOnlyProblem("[1]", "", "expected a JSON object with \"version\" and \"rules\"");
}

TEST(PolicyCheck, MissingVersion) {
  expectOnlyProblem(R"({"rules": []})", "", "missing \"version\": this build reads version 1");
}

TEST(PolicyCheck, UnsupportedVersion) {
  expectOnlyProblem(R"({"version": 2})", "/version", "unsupported version 2: this build reads version 1");
  expectOnlyProblem(R"({"version": "1"})", "/version", "unsupported version \"1\": this build reads version 1");
}

TEST(PolicyCheck, UnknownTopLevelKeySuggestsTheKnownOne) {
  expectOnlyProblem(R"({"version": 1, "rule": []})", "/rule", "unknown key \"rule\" (did you mean \"rules\"?)");
  expectOnlyProblem(R"({"version": 1, "owner": "me"})", "/owner", "unknown key \"owner\"");
}

TEST(PolicyCheck, UnknownRuleKey) {
  expectOnlyProblem(withRules(R"({"id": "r", "mach": {}, "mask": {"detectors": ["email"]}})"), "/rules/0/mach",
                    "unknown key \"mach\" (did you mean \"match\"?)");
}

TEST(PolicyCheck, UnknownSelectorKey) {
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"workload": {"unt": ["a.service"]}}, "allow": {}})"),
                    "/rules/0/match/workload/unt", "unknown key \"unt\" (did you mean \"unit\"?)");
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"call": {"modle": ["gpt-4o"]}}, "allow": {}})"),
                    "/rules/0/match/call/modle", "unknown key \"modle\" (did you mean \"model\"?)");
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"workloads": {}}, "allow": {}})"), "/rules/0/match/workloads",
                    "unknown key \"workloads\" (did you mean \"workload\"?)");
}

TEST(PolicyCheck, UnknownActionKey) {
  expectOnlyProblem(withRules(R"({"id": "r", "block": {"word": ["x"]}})"), "/rules/0/block/word",
                    "unknown key \"word\" (did you mean \"words\"?)");
}

TEST(PolicyCheck, WrongTypes) {
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"workload": {"unit": "a.service"}}, "allow": {}})"),
                    "/rules/0/match/workload/unit", "expected an array of strings");
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"workload": {"user": [7]}}, "allow": {}})"),
                    "/rules/0/match/workload/user/0", "expected a string");
  expectOnlyProblem(withRules(R"({"id": 3, "allow": {}})"), "/rules/0/id", "expected a string");
  expectOnlyProblem(withRules(R"({"id": "r", "match": [], "allow": {}})"), "/rules/0/match", "expected an object");
  expectOnlyProblem(withRules(R"({"id": "r", "block": {"case_sensitive": "yes"}})"), "/rules/0/block/case_sensitive",
                    "expected true or false");
  expectOnlyProblem(R"({"version": 1, "rules": {}})", "/rules", "expected an array of rules");
  expectOnlyProblem(withRules(R"("r")"), "/rules/0", "expected a rule object");
  expectOnlyProblem(withRules(R"({"id": "r", "mask": ["email"]})"), "/rules/0/mask", "expected an object");
}

TEST(PolicyCheck, MissingOrBadRuleId) {
  expectOnlyProblem(withRules(R"({"allow": {}})"), "/rules/0", "missing \"id\"");
  expectOnlyProblem(withRules(R"({"id": "has space", "allow": {}})"), "/rules/0/id",
                    "rule id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
}

TEST(PolicyCheck, DuplicateRuleIdsAcrossFiles) {
  test::TempDir dir;
  writeText(dir.path() + "/00-a.json", withRules(R"({"id": "same", "allow": {}})"));
  writeText(dir.path() + "/10-b.json", withRules(R"({"id": "other", "allow": {}}, {"id": "same", "allow": {}})"));
  std::vector<PolicyProblem> problems = Policy::check(dir.path(), shippedBuiltinDetectors());
  ASSERT_EQ(problems.size(), 1u) << describeAll(problems);
  EXPECT_EQ(problems[0].file, dir.path() + "/10-b.json");
  EXPECT_EQ(problems[0].location, "/rules/1/id");
  EXPECT_EQ(problems[0].message, "duplicate rule id \"same\" (first in " + dir.path() + "/00-a.json at /rules/0)");
}

TEST(PolicyCheck, UnknownDetectorSuggestsTheKnownOne) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["emial"]}})"), "/rules/0/mask/detectors/0",
                    "unknown detector \"emial\" (did you mean \"email\"?); expected a detector name, "
                    "category:secret|pii|custom or all");
  expectOnlyProblem(
      withRules(R"({"id": "r", "allow": {"detectors": ["nothing-like-it"]}})"), "/rules/0/allow/detectors/0",
      "unknown detector \"nothing-like-it\"; expected a detector name, category:secret|pii|custom or all");
}

TEST(PolicyCheck, UnknownCategory) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["category:secrets"]}})"),
                    "/rules/0/mask/detectors/0",
                    "unknown category \"secrets\" (did you mean \"secret\"?); expected category:secret, category:pii "
                    "or category:custom");
}

TEST(PolicyCheck, BadReplacementStyle) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["email"], "replacement": "redacted"}})"),
                    "/rules/0/mask/replacement",
                    "unknown replacement \"redacted\" (did you mean \"redact\"?); expected placeholder, pseudonym or "
                    "redact");
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["email"], "replacements": {"email": "hash"}}})"),
                    "/rules/0/mask/replacements/email",
                    "unknown replacement \"hash\"; expected placeholder, pseudonym or redact");
}

TEST(PolicyCheck, ReplacementForADetectorTheRuleDoesNotMask) {
  expectOnlyProblem(
      withRules(R"({"id": "r", "mask": {"detectors": ["email"], "replacements": {"openai-api-key": "redact"}}})"),
      "/rules/0/mask/replacements/openai-api-key", "detector \"openai-api-key\" is not among this rule's detectors");
}

TEST(PolicyCheck, InvalidCustomDetector) {
  PolicyProblem problem = onlyProblem(withDetectors(R"({"name": "codename", "label": "CODE", "pattern": "PRJ-(["})"));
  EXPECT_EQ(problem.location, "/detectors/0/pattern");
  EXPECT_THAT(problem.message, StartsWith("pattern does not compile: "));
  expectOnlyProblem(withDetectors(R"({"name": "Code Name", "label": "CODE", "words": ["x"]})"), "/detectors/0/name",
                    "name must be 1-64 characters of a-z, 0-9 and '-'");
  expectOnlyProblem(withDetectors(R"({"name": "codename", "label": "code", "words": ["x"]})"), "/detectors/0/label",
                    "label must be 1-32 characters of A-Z, 0-9 and '_'");
  expectOnlyProblem(withDetectors(R"({"name": "codename", "label": "CODE", "words": ["x"], "pattern": "x"})"),
                    "/detectors/0", "needs exactly one of a pattern and a word list");
  expectOnlyProblem(withDetectors(R"({"name": "codename", "label": "CODE", "pattern": "PRJ-[A-Z]+"})"),
                    "/detectors/0/pattern",
                    "pattern can match text of unbounded length; bound every repetition (e.g. {1,64})");
  expectOnlyProblem(withDetectors(R"({"label": "CODE", "words": ["x"]})"), "/detectors/0", "missing \"name\"");
  expectOnlyProblem(withDetectors(R"({"name": "codename", "label": "CODE", "words": ["x"], "max_length": 0})"),
                    "/detectors/0/max_length", "expected a positive integer (bytes)");
}

TEST(PolicyCheck, CustomDetectorNameClashesWithABuiltin) {
  expectOnlyProblem(withDetectors(R"({"name": "email", "label": "MAIL", "words": ["x"]})"), "/detectors/0/name",
                    "detector name \"email\" is taken by a built-in detector; choose another name");
}

TEST(PolicyCheck, CustomDetectorDefinedTwice) {
  test::TempDir dir;
  const std::string detector = withDetectors(R"({"name": "codename", "label": "CODE", "words": ["orion"]})");
  writeText(dir.path() + "/00-a.json", detector);
  writeText(dir.path() + "/10-b.json", detector);
  std::vector<PolicyProblem> problems = Policy::check(dir.path(), shippedBuiltinDetectors());
  ASSERT_EQ(problems.size(), 1u) << describeAll(problems);
  EXPECT_EQ(problems[0].file, dir.path() + "/10-b.json");
  EXPECT_EQ(problems[0].location, "/detectors/0/name");
  EXPECT_EQ(problems[0].message,
            "detector \"codename\" is already defined in " + dir.path() + "/00-a.json at /detectors/0");
}

TEST(PolicyCheck, CustomDetectorsOfOtherFilesCanBeReferenced) {
  test::TempDir dir;
  writeText(dir.path() + "/00-rules.json", withRules(R"({"id": "r", "mask": {"detectors": ["codename"]}})"));
  writeText(dir.path() + "/10-detectors.json",
            withDetectors(R"({"name": "codename", "label": "CODE", "words": ["orion"]})"));
  EXPECT_THAT(Policy::check(dir.path(), shippedBuiltinDetectors()), IsEmpty());
}

TEST(PolicyCheck, BlockPatternThatDoesNotCompileQuotesVectorscan) {
  PolicyProblem problem = onlyProblem(withRules(R"({"id": "r", "block": {"patterns": ["fine", "(unclosed"]}})"));
  EXPECT_EQ(problem.location, "/rules/0/block/patterns/1");
  EXPECT_THAT(problem.message, StartsWith("pattern does not compile: "));
  EXPECT_THAT(problem.message, HasSubstr("parenthesis"));  // Vectorscan's own words
  problem = onlyProblem(withRules(R"({"id": "r", "block": {"patterns": ["(a)\\1"]}})"));
  EXPECT_EQ(problem.location, "/rules/0/block/patterns/0");
  EXPECT_THAT(problem.message, StartsWith("pattern does not compile: "));
}

TEST(PolicyCheck, RuleWithNoAction) {
  expectOnlyProblem(withRules(R"({"id": "r"})"), "/rules/0", "needs one of \"mask\", \"block\" or \"allow\"");
}

TEST(PolicyCheck, RuleWithSeveralActions) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["email"]}, "allow": {}})"), "/rules/0",
                    "has both \"mask\" and \"allow\": a rule does one thing; split it into two rules");
}

TEST(PolicyCheck, MaskWithoutDetectors) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"replacement": "redact"}})"), "/rules/0/mask",
                    "missing \"detectors\"");
}

TEST(PolicyCheck, EmptyLists) {
  const std::string message = "empty list: give at least one value or leave the key out";
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"call": {"model": []}}, "allow": {}})"),
                    "/rules/0/match/call/model", message);
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": []}})"), "/rules/0/mask/detectors", message);
  expectOnlyProblem(withRules(R"({"id": "r", "block": {"words": []}})"), "/rules/0/block/words", message);
  expectOnlyProblem(withRules(R"({"id": "r", "allow": {"rules": []}})"), "/rules/0/allow/rules", message);
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"workload": {"uid": []}}, "allow": {}})"),
                    "/rules/0/match/workload/uid", message);
  expectOnlyProblem(withRules(R"({"id": "r", "block": {"words": [""]}})"), "/rules/0/block/words/0", "empty string");
}

TEST(PolicyCheck, BlankBlockWord) {
  expectOnlyProblem(withRules(R"({"id": "r", "block": {"words": ["ok", "  "]}})"), "/rules/0/block/words/1",
                    "blank word");
}

TEST(PolicyCheck, CommentMustBeText) {
  expectOnlyProblem(R"({"version": 1, "comment": 7})", "/comment", "expected a string or an array of strings");
  expectOnlyProblem(withRules(R"({"id": "r", "comment": [1], "allow": {}})"), "/rules/0/comment",
                    "expected a string or an array of strings");
}

TEST(PolicyCheck, DetectorMustBeAnObject) {
  expectOnlyProblem(withDetectors(R"("codename")"), "/detectors/0", "expected a detector object");
}

TEST(PolicyCheck, EmptyReplacements) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["email"], "replacements": {}}})"),
                    "/rules/0/mask/replacements", "empty object: name a detector or leave it out");
}

TEST(PolicyCheck, UnknownMaskSite) {
  expectOnlyProblem(withRules(R"({"id": "r", "mask": {"detectors": ["email"], "on": ["requests"]}})"),
                    "/rules/0/mask/on/0",
                    "unknown site \"requests\" (did you mean \"request\"?); expected \"request\" or \"response\"");
}

TEST(PolicyCheck, UidMustBeANonNegativeInteger) {
  const std::string message = "expected a uid: an integer from 0 to 4294967294";
  for (const char* uid : {"-1", "1.5", "\"1000\"", "4294967295"}) {
    expectOnlyProblem(
        withRules(R"({"id": "r", "match": {"workload": {"uid": [)" + std::string(uid) + R"(]}}, "allow": {}})"),
        "/rules/0/match/workload/uid/0", message);
  }
}

TEST(PolicyCheck, CgroupMustBeAnAbsolutePath) {
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"workload": {"cgroup": ["system.slice"]}}, "allow": {}})"),
                    "/rules/0/match/workload/cgroup/0",
                    "expected a cgroup path from the cgroup v2 root, starting with '/'");
}

TEST(PolicyCheck, UnknownApi) {
  expectOnlyProblem(withRules(R"({"id": "r", "match": {"call": {"api": ["openai-chats"]}}, "allow": {}})"),
                    "/rules/0/match/call/api/0",
                    "unknown api \"openai-chats\" (did you mean \"openai-chat\"?); expected one of openai-chat, "
                    "openai-responses, openai-completions, openai-embeddings, anthropic-messages, gemini-generate, "
                    "unknown");
}

TEST(PolicyCheck, AllowNamesAnUnknownRule) {
  expectOnlyProblem(withRules(R"({"id": "no-codenames", "block": {"words": ["orion"]}},
                                 {"id": "r", "allow": {"rules": ["no-codename"]}})"),
                    "/rules/1/allow/rules/0", "unknown rule id \"no-codename\" (did you mean \"no-codenames\"?)");
}

TEST(PolicyCheck, AllowNamesARuleThatDoesNotBlock) {
  expectOnlyProblem(withRules(R"({"id": "m", "mask": {"detectors": ["email"]}},
                                 {"id": "r", "allow": {"rules": ["m"]}})"),
                    "/rules/1/allow/rules/0",
                    "rule \"m\" is not a block rule; only block rules are exempted by id (list detectors to exempt "
                    "from masking)");
}

TEST(PolicyCheck, HostileKeysAreQuotedPrintably) {
  PolicyProblem problem = onlyProblem("{\"version\": 1, \"\\u001b[31m\": 1}");
  EXPECT_EQ(problem.message, "unknown key \"\\x1b[31m\"");
}

TEST(PolicyCheck, EveryProblemIsReportedNotOnlyTheFirst) {
  std::vector<PolicyProblem> problems = problemsOfJson(R"({
    "version": 1,
    "rules": [
      {"id": "a", "mask": {"detectors": ["emial"], "replacement": "blur"}},
      {"id": "a", "match": {"workload": {"unt": ["x"]}}, "block": {"patterns": ["("]}}
    ]
  })");
  ASSERT_EQ(problems.size(), 5u) << describeAll(problems);
  EXPECT_EQ(problems[0].location, "/rules/0/mask/replacement");
  EXPECT_EQ(problems[1].location, "/rules/1/match/workload/unt");
  EXPECT_EQ(problems[2].location, "/rules/1/id");
  EXPECT_EQ(problems[3].location, "/rules/0/mask/detectors/0");
  EXPECT_EQ(problems[4].location, "/rules/1/block/patterns/0");
}

TEST(PolicyCheck, ProblemsOfSeveralFilesNameTheirFile) {
  test::TempDir dir;
  writeText(dir.path() + "/00-a.json", "{");
  writeText(dir.path() + "/10-b.json", R"({"rules": []})");
  std::vector<PolicyProblem> problems = Policy::check(dir.path(), shippedBuiltinDetectors());
  ASSERT_EQ(problems.size(), 2u) << describeAll(problems);
  EXPECT_EQ(problems[0].file, dir.path() + "/00-a.json");
  EXPECT_EQ(problems[1].file, dir.path() + "/10-b.json");
  auto policy = Policy::load(dir.path(), shippedBuiltinDetectors());
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(policy.error().message, HasSubstr("(and 1 more; see `shadowai policy check`)"));
}

TEST(PolicyCheck, DirectoryWithoutPolicyFiles) {
  test::TempDir dir;
  writeText(dir.path() + "/README", "x");
  std::vector<PolicyProblem> problems = Policy::check(dir.path(), shippedBuiltinDetectors());
  ASSERT_EQ(problems.size(), 1u) << describeAll(problems);
  EXPECT_EQ(problems[0].file, dir.path());
  EXPECT_EQ(problems[0].location, "");
  EXPECT_EQ(problems[0].message, "no *.json file in this directory: a policy needs one");
}

TEST(PolicyCheck, MissingPath) {
  test::TempDir dir;
  std::vector<PolicyProblem> problems = Policy::check(dir.path() + "/nope", shippedBuiltinDetectors());
  ASSERT_EQ(problems.size(), 1u) << describeAll(problems);
  EXPECT_EQ(problems[0].file, dir.path() + "/nope");
  EXPECT_EQ(problems[0].message, "cannot read: No such file or directory");
}

TEST(PolicyCheck, ASingleFileIsAPolicy) {
  test::TempDir dir;
  writeText(dir.path() + "/site.policy", withRules(R"({"id": "r", "allow": {}})"));
  auto policy = Policy::load(dir.path() + "/site.policy", shippedBuiltinDetectors());
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_EQ((*policy)->ruleCount(), 1u);
  EXPECT_EQ((*policy)->files().size(), 1u);
}

// Without a path, `shadowai policy check` checks the policy the daemon would load: the policy_dir of
// the configuration (--config here), not a fixed directory.
TEST(PolicyCheckCommand, WithoutAPathChecksThePolicyDirOfTheConfiguration) {
  test::TempDir scratch;
  const std::string policyDir = scratch.path() + "/policy.d";
  std::filesystem::create_directories(policyDir);
  ASSERT_TRUE(writeFileAtomic(policyDir + "/10-broken.json", "{\"version\": 1, \"rules\": [{\"id\": 5}]}"));
  const std::string config = scratch.path() + "/shadowaid.json";
  ASSERT_TRUE(writeFileAtomic(config, "{\"policy_dir\": \"" + policyDir + "\"}"));

  auto broken = runCommand({SHADOWAI_CLI_BINARY, "--config", config, "policy", "check"});
  ASSERT_TRUE(broken) << broken.error().describe();
  EXPECT_EQ(broken->exitCode, 2) << broken->output;
  EXPECT_THAT(broken->output, HasSubstr("10-broken.json")) << "it did not read the configured directory";

  ASSERT_TRUE(writeFileAtomic(policyDir + "/10-broken.json", "{\"version\": 1, \"rules\": []}"));
  auto valid = runCommand({SHADOWAI_CLI_BINARY, "--config", config, "policy", "check"});
  ASSERT_TRUE(valid) << valid.error().describe();
  EXPECT_EQ(valid->exitCode, 0) << valid->output;
  EXPECT_THAT(valid->output, HasSubstr("policy OK: 1 file")) << valid->output;

  auto missing = runCommand({SHADOWAI_CLI_BINARY, "--config", scratch.path() + "/none.json", "policy", "check"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->exitCode, 2);
  EXPECT_THAT(missing->output, HasSubstr("none.json")) << missing->output;
}

}  // namespace
}  // namespace shadowai
