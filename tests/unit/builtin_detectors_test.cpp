// The built-in detector file (rules/detectors.json, policy/builtin_detectors.h): the shipped file
// loads and keeps what the detectors relied on when they were C++, and a bad file is refused with
// one line naming the file, the JSON location and, for a validator, the detector.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/file_util.h"
#include "common/run_command.h"
#include "policy/builtin_detectors.h"
#include "support/temp_dir.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kShippedFile = std::string(SHADOWAI_SOURCE_RULES_DIR) + "/detectors.json";

// A file with one detector: the fields given after the required ones.
std::string fileWith(const std::string& extraFields, const std::string& name = "test-token") {
  return R"({"version": 1, "detectors": [{"name": ")" + name +
         R"(", "category": "secret", "label": "TEST_TOKEN", "pattern": "\\btt_[a-z0-9]{16}\\b")" + extraFields + "}]}";
}

// The one problem of TEXT, as "FILE: LOCATION: MESSAGE", and that load's error is that line.
std::string onlyProblem(const std::string& text) {
  std::vector<PolicyProblem> problems;
  auto loaded = BuiltinDetectors::fromString(text, "detectors.json", &problems);
  EXPECT_FALSE(loaded.ok());
  EXPECT_EQ(problems.size(), 1u);
  if (problems.empty() || loaded.ok()) return "";
  EXPECT_EQ(loaded.error().describe(), problems.front().describe());
  return problems.front().describe();
}

TEST(BuiltinDetectors, TheShippedFileLoads) {
  std::vector<PolicyProblem> problems;
  auto loaded = BuiltinDetectors::load(kShippedFile, &problems);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(loaded->file(), kShippedFile);
  EXPECT_GE(loaded->detectors().size(), 40u);
  std::set<std::string> names;
  for (const Detector& detector : loaded->detectors()) {
    EXPECT_TRUE(names.insert(detector.name).second) << detector.name;
    EXPECT_NE(detector.category, DetectorCategory::kCustom) << detector.name;
  }
}

// Order decides ties: vendor prefixes before the generic detectors, secrets before personal data.
TEST(BuiltinDetectors, TheShippedOrderPutsVendorKeysFirstAndSecretsBeforePersonalData) {
  const std::vector<Detector>& detectors = shippedDetectors();
  ASSERT_FALSE(detectors.empty());
  EXPECT_EQ(detectors.front().name, "anthropic-api-key");
  auto indexOf = [&](std::string_view name) {
    for (size_t i = 0; i < detectors.size(); ++i) {
      if (detectors[i].name == name) return i;
    }
    ADD_FAILURE() << "no detector " << name;
    return detectors.size();
  };
  EXPECT_LT(indexOf("openai-api-key"), indexOf("secret-assignment"));
  EXPECT_LT(indexOf("aws-secret-access-key"), indexOf("secret-assignment"));
  EXPECT_LT(indexOf("slack-webhook-url"), indexOf("connection-url-password"));
  bool personalDataSeen = false;
  for (const Detector& detector : detectors) {
    if (detector.category == DetectorCategory::kPii) personalDataSeen = true;
    EXPECT_FALSE(personalDataSeen && detector.category == DetectorCategory::kSecret)
        << detector.name << " is a secret listed after personal data";
  }
}

// What the C++ definitions did by a loop, the file says per detector: a vendor prefix followed by a
// run of one character is a placeholder, never masked.
TEST(BuiltinDetectors, EverySecretDetectorHasAValidator) {
  for (const Detector& detector : shippedDetectors()) {
    if (detector.category != DetectorCategory::kSecret) continue;
    EXPECT_NE(detector.validator, MatchValidator::kNone) << detector.name << " needs at least not-placeholder";
  }
}

TEST(BuiltinDetectors, TheFieldsOnlyBuiltinsHaveAreRead) {
  const BuiltinDetectors& builtins = shippedBuiltinDetectors();
  const Detector* basic = builtins.find("basic-auth");
  ASSERT_NE(basic, nullptr);
  EXPECT_EQ(basic->endPassDatabase, "http-basic");
  EXPECT_EQ(basic->validator, MatchValidator::kBasicCredentials);
  EXPECT_TRUE(basic->caseless);
  const Detector* pem = builtins.find("private-key-pem");
  ASSERT_NE(pem, nullptr);
  EXPECT_EQ(pem->defaultStyle, ReplacementStyle::kRedact);
  const Detector* kubernetes = builtins.find("kubernetes-env-secret");
  ASSERT_NE(kubernetes, nullptr);
  EXPECT_TRUE(kubernetes->replaceValueOnly);
  EXPECT_EQ(kubernetes->valueMarker, "value:");
  const Detector* longValue = builtins.find("secret-assignment-long");
  ASSERT_NE(longValue, nullptr);
  EXPECT_TRUE(longValue->extendsToValueEnd);
  const Detector* ipv4 = builtins.find("ipv4-address");
  ASSERT_NE(ipv4, nullptr);
  EXPECT_TRUE(ipv4->wholeNumberToken);
  EXPECT_EQ(ipv4->endPassPattern, R"(\.[0-9]{1,3}\.[0-9]{1,3}\b)");
  EXPECT_EQ(builtins.find("no-such-detector"), nullptr);
}

TEST(BuiltinDetectors, AValidatorIsNamedAndAnUnknownNameIsOneLineNamingTheFileAndDetector) {
  EXPECT_EQ(onlyProblem(fileWith(R"(, "validator": "luhm")")),
            "detectors.json: /detectors/0/validator: unknown validator \"luhm\" of detector \"test-token\" (did you "
            "mean \"luhn\"?); expected one of none, luhn, iban-checksum, us-ssn, ipv4, ipv6, jwt, high-entropy, "
            "not-placeholder, basic-credentials, password-value, national-phone");
  for (std::string_view name : matchValidatorNames()) {
    auto loaded = BuiltinDetectors::fromString(fileWith(R"(, "validator": ")" + std::string(name) + "\""), "d.json");
    ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
    EXPECT_EQ(toString(loaded->detectors().front().validator), name);
  }
}

TEST(BuiltinDetectors, EveryProblemPointsAtItsField) {
  EXPECT_EQ(onlyProblem(R"({"version": 1, "detectors": [{"name": "x", "label": "X", "pattern": "\\bx[0-9]{4}"}]})"),
            "detectors.json: /detectors/0: missing \"category\"");
  EXPECT_THAT(onlyProblem(R"({"version": 1, "detectors": [{"name": "test-token", "category": "custom", "label": "T", )"
                         R"("pattern": "\\btt_[a-z0-9]{16}"}]})"),
              HasSubstr("/detectors/0/category: category \"custom\" of detector \"test-token\" is for a policy's own "
                        "detectors; expected \"secret\" or \"pii\""));
  EXPECT_EQ(onlyProblem(fileWith(R"(, "validatr": "luhn")")),
            "detectors.json: /detectors/0/validatr: unknown key \"validatr\" (did you mean \"validator\"?)");
  EXPECT_EQ(onlyProblem(fileWith(R"(, "value_marker": "value:")")),
            "detectors.json: /detectors/0/value_marker: value marker is only meaningful with replace-value-only");
  EXPECT_THAT(onlyProblem(fileWith(R"(, "end_pass_pattern": "(tt_")")),
              HasSubstr("detectors.json: /detectors/0/end_pass_pattern: end-pass pattern does not compile: "));
  EXPECT_EQ(onlyProblem(fileWith(R"(, "default_replacement": "hide")")),
            "detectors.json: /detectors/0/default_replacement: unknown replacement \"hide\"; expected placeholder, "
            "pseudonym or redact");
  EXPECT_EQ(onlyProblem(fileWith(R"(, "end_pass_database": "")")),
            "detectors.json: /detectors/0/end_pass_database: empty string: give a value or leave the key out");
  EXPECT_EQ(onlyProblem(R"({"version": 1, "detectors": []})"),
            "detectors.json: /detectors: empty list: the built-in detectors are the point of this file");
  EXPECT_EQ(onlyProblem(R"({"version": 1})"), "detectors.json: missing \"detectors\"");
  EXPECT_THAT(onlyProblem(R"({"version": 1, "rules": [], "detectors": [{"name": "x", "category": "pii", "label": "X", )"
                          R"("pattern": "\\bx[0-9]{4}"}]})"),
              HasSubstr("detectors.json: /rules: unknown key \"rules\""));
  EXPECT_THAT(onlyProblem(R"({"version": 1, "detectors": [)"), HasSubstr("detectors.json: line 1, column 30"));
}

TEST(BuiltinDetectors, NamesAreUniqueInTheFile) {
  const std::string one = R"({"name": "dup", "category": "pii", "label": "DUP", "pattern": "\\bdup[0-9]{4}"})";
  EXPECT_EQ(onlyProblem(R"({"version": 1, "detectors": [)" + one + ", " + one + "]}"),
            "detectors.json: /detectors/1/name: duplicate detector name \"dup\" (first at /detectors/0)");
}

TEST(BuiltinDetectors, AMissingFileIsOneLine) {
  test::TempDir dir;
  auto loaded = BuiltinDetectors::load(dir.path() + "/detectors.json");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().describe(), dir.path() + "/detectors.json: cannot read: No such file or directory");
}

// A policy's custom detector cannot use what only built-ins may say: the policy format is unchanged.
TEST(BuiltinDetectors, APolicyFileCannotUseTheBuiltinOnlyFields) {
  std::vector<PolicyProblem> problems;
  auto policy = Policy::fromString(
      R"({"version": 1, "detectors": [{"name": "codename", "label": "CODE", "words": ["orion"], "validator": "luhn"}]})",
      "policy.json", shippedBuiltinDetectors(), &problems);
  EXPECT_FALSE(policy.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].describe(), "policy.json: /detectors/0/validator: unknown key \"validator\"");
}

// `shadowai policy check` checks the built-in file first; a bad one is reported in its own line and
// fails the check.
TEST(BuiltinDetectors, PolicyCheckReportsABadBuiltinFile) {
  test::TempDir dir;
  const std::string policyDir = dir.path() + "/policy.d";
  std::filesystem::create_directories(policyDir);
  ASSERT_TRUE(writeFileAtomic(policyDir + "/00-default.json", R"({"version": 1, "rules": []})"));
  ASSERT_TRUE(writeFileAtomic(dir.path() + "/detectors.json", fileWith(R"(, "validator": "luhm")")));
  auto bad = runCommand({SHADOWAI_CLI_BINARY, "policy", "check", policyDir, "--detectors", dir.path() + "/detectors.json"});
  ASSERT_TRUE(bad) << bad.error().describe();
  EXPECT_EQ(bad->exitCode, 2) << bad->output;
  EXPECT_EQ(bad->output, dir.path() + "/detectors.json: /detectors/0/validator: unknown validator \"luhm\" of detector "
                                      "\"test-token\" (did you mean \"luhn\"?); expected one of none, luhn, "
                                      "iban-checksum, us-ssn, ipv4, ipv6, jwt, high-entropy, not-placeholder, "
                                      "basic-credentials, password-value, national-phone\n");

  auto missing = runCommand({SHADOWAI_CLI_BINARY, "policy", "check", policyDir, "--detectors", dir.path() + "/none.json"});
  ASSERT_TRUE(missing) << missing.error().describe();
  EXPECT_EQ(missing->exitCode, 2) << missing->output;
  EXPECT_EQ(missing->output, dir.path() + "/none.json: cannot read: No such file or directory\n");

  auto shipped = runCommand({SHADOWAI_CLI_BINARY, "policy", "check", policyDir, "--detectors", kShippedFile});
  ASSERT_TRUE(shipped) << shipped.error().describe();
  EXPECT_EQ(shipped->exitCode, 0) << shipped->output;
  EXPECT_EQ(shipped->output, "policy OK: 1 file, 0 rules, 0 custom detectors, " +
                                 std::to_string(shippedDetectors().size()) + " built-in detectors\n");

  auto json = runCommand({SHADOWAI_CLI_BINARY, "policy", "check", policyDir, "--json", "--detectors", kShippedFile});
  ASSERT_TRUE(json) << json.error().describe();
  EXPECT_THAT(json->output, HasSubstr("\"detectors_file\": \"" + kShippedFile + "\""));
  EXPECT_THAT(json->output, Not(HasSubstr("\"valid\": false")));
}

}  // namespace
}  // namespace shadowai
