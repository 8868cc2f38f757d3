// Every built-in detector against a positive example (the exact span it must replace) and a near
// miss it must leave alone; the table must cover every detector.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "mask/detector_set.h"
#include "mask/match_validators.h"
#include "mask_test_values.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using testing::fakeChars;
using testing::kAlnum;
using testing::kHex;

struct DetectorCase {
  std::string detector;
  std::string positiveText;
  std::string expectedSpan;  // what the positive text's match must cover
  std::string negativeText;
};

std::vector<DetectorCase> detectorCases() {
  const std::string alnumDash = std::string(kAlnum) + "_-";
  const std::string base64 = std::string(kAlnum) + "+/";
  const std::string upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string bech32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
  auto around = [](const std::string& value) { return "the value " + value + " is here"; };
  std::vector<DetectorCase> cases;
  auto add = [&](std::string detector, std::string value, std::string negative) {
    cases.push_back({std::move(detector), around(value), value, std::move(negative)});
  };
  add("anthropic-api-key", "sk-ant-api03-" + fakeChars(alnumDash, 93) + "AA", "sk-ant-api03-tooShort1");
  add("openai-api-key", "sk-proj-" + fakeChars(alnumDash, 60, 2), "use sk-learn-compatible-estimators-everywhere");
  add("google-api-key", "AIza" + fakeChars(alnumDash, 35, 3), "AIzaShortValue123");
  add("groq-api-key", "gsk_" + fakeChars(kAlnum, 52, 4), "gsk_" + fakeChars(kAlnum, 20, 4));
  add("xai-api-key", "xai-" + fakeChars(kAlnum, 80, 5), "the xai-grok-2 model");
  add("perplexity-api-key", "pplx-" + fakeChars(kAlnum, 48, 6), "pplx-" + fakeChars(kAlnum, 47, 6) + ".");
  add("replicate-api-token", "r8_" + fakeChars(kAlnum, 37, 7), "r8_" + fakeChars(kAlnum, 36, 7));
  add("huggingface-token", "hf_" + fakeChars(kAlnum, 34, 8), "call hf_hub_download(repo_id)");
  add("aws-access-key-id", "AKIAZ4XJ5QK2L7M3N6P8", "AKIAZ4XJ5QK2L7M3N6P8X9");
  cases.push_back({"aws-secret-access-key", "aws_secret_access_key = " + fakeChars(base64, 40, 9),
                   fakeChars(base64, 40, 9), "aws_secret_access_key = short"});
  cases.push_back({"azure-storage-key", "DefaultEndpointsProtocol=https;AccountKey=" + fakeChars(base64, 86, 10) + "==;",
                   fakeChars(base64, 86, 10) + "==", "AccountKey=abc=="});
  add("google-oauth-client-secret", "GOCSPX-" + fakeChars(alnumDash, 28, 11), "GOCSPX-short");
  add("digitalocean-token", "dop_v1_" + fakeChars(kHex, 64, 12), "dop_v1_" + fakeChars(kHex, 63, 12));
  add("databricks-token", "dapi" + fakeChars(kHex, 32, 13), "the dapiclient module");
  add("vault-token", "hvs." + fakeChars(kAlnum, 90, 14), "hvs.short");
  add("github-token", "ghp_" + fakeChars(kAlnum, 36, 15), "ghp_" + fakeChars(kAlnum, 20, 15));
  add("github-fine-grained-token", "github_pat_" + fakeChars(kAlnum, 22, 16) + "_" + fakeChars(kAlnum, 59, 17),
      "github_pat_short");
  add("gitlab-token", "glpat-" + fakeChars(kAlnum, 20, 18), "glpat-short");
  add("npm-token", "npm_" + fakeChars(kAlnum, 36, 19), "npm_install_script_for_the_package_here");
  add("pypi-token", "pypi-AgEIcHlwaS5vcmc" + fakeChars(alnumDash, 70, 20), "pypi-" + fakeChars(kAlnum, 80, 20));
  add("slack-token", "xoxb-123456789012-1234567890123-" + fakeChars(kAlnum, 24, 21), "xoxb-notatoken");
  add("slack-app-token", "xapp-1-A0123456789-1234567890123-" + fakeChars(kHex, 64, 22), "xapp-1-short");
  add("slack-webhook-url", "https://hooks.slack.com/services/T00000000/B00000000/" + fakeChars(kAlnum, 24, 23),
      "see https://hooks.slack.com/help");
  add("stripe-secret-key", "sk_live_" + fakeChars(kAlnum, 24, 24), "sk_test_" + fakeChars(kAlnum, 24, 24));
  add("stripe-webhook-secret", "whsec_" + fakeChars(kAlnum, 32, 25), "whsec_short");
  add("sendgrid-api-key", "SG." + fakeChars(alnumDash, 22, 26) + "." + fakeChars(alnumDash, 43, 27), "SG.short.value");
  add("twilio-api-key", "SK" + fakeChars(kHex, 32, 28), "SK" + fakeChars(kHex, 31, 28));
  add("twilio-account-sid", "AC" + fakeChars(kHex, 32, 29), "AC" + fakeChars(kHex, 33, 29));
  add("mailgun-api-key", "key-" + fakeChars(kHex, 32, 30), "a key-value store");
  add("shopify-token", "shpat_" + fakeChars(kHex, 32, 31), "shpat_short");
  add("linear-api-key", "lin_api_" + fakeChars(kAlnum, 40, 32), "lin_api_docs");
  add("new-relic-key", "NRAK-" + fakeChars(upperDigits, 27, 33), "NRAK-SHORT");
  add("grafana-service-account-token", "glsa_" + fakeChars(kAlnum, 32, 34) + "_" + fakeChars(kHex, 8, 35),
      "glsa_short_1234abcd");
  add("square-token", "sq0atp-" + fakeChars(alnumDash, 22, 36), "sq0atp-short");
  // The bot's id is public: only the token after the ':' is replaced.
  cases.push_back({"telegram-bot-token", around("123456789:AA" + fakeChars(alnumDash, 33, 37)),
                   "AA" + fakeChars(alnumDash, 33, 37), "123456789:BB" + fakeChars(alnumDash, 33, 37)});
  add("age-secret-key", "AGE-SECRET-KEY-1" + fakeChars(bech32, 58, 38), "AGE-SECRET-KEY-1SHORT");
  add("jwt",
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJub3Rqc29u.c2ln");
  add("private-key-pem",
      "-----BEGIN RSA PRIVATE KEY-----\n" + fakeChars(base64, 64, 39) + "\n" + fakeChars(base64, 64, 40) +
          "\n-----END RSA PRIVATE KEY-----",
      "-----BEGIN PUBLIC KEY-----\n" + fakeChars(base64, 64, 41) + "\n-----END PUBLIC KEY-----");
  cases.push_back({"connection-url-password", "DATABASE_URL=postgres://admin:s3cr3tPass@db.internal.example:5432/app",
                   "postgres://admin:s3cr3tPass@db.internal.example:5432", "see https://example.com/path@v2"});
  cases.push_back({"kubernetes-env-secret", "env:\n  - name: DB_PASSWORD\n    value: \"Zx81Kq02Lm93Nb47Pq\"\n",
                   "Zx81Kq02Lm93Nb47Pq", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: {name: db}"});
  cases.push_back({"basic-auth", "Authorization: Basic YWxpY2U6UzNjcmV0IXB3", "Basic YWxpY2U6UzNjcmV0IXB3",
                   "Basic usage: Basic dGVzdA== is no credential"});
  cases.push_back({"command-line-password", "curl -u alice:S3cr3t!x https://api.example.com/v1", "S3cr3t!x",
                   "docker run -u 1000:1000 app && git push -u origin main"});
  cases.push_back({"bearer-token", "Authorization: Bearer " + fakeChars(kAlnum, 40, 42),
                   "Bearer " + fakeChars(kAlnum, 40, 42), "the Bearer of bad news and other tidings"});
  cases.push_back({"secret-assignment", "db_password=Xk9#mP2vL7q!", "Xk9#mP2vL7q!", "password=changeme123"});
  cases.push_back({"secret-assignment-long", "aws_session_token=" + fakeChars(base64, 900, 43) + "==",
                   fakeChars(base64, 900, 43) + "==", "token=" + std::string(900, 'a')});
  add("email", "john.doe@example.com", "mail john.doe@localhost");
  add("phone-number", "(415) 555-2671", "released 2024-01-15, version 1.2.3, build 20240115, pin 1234");
  add("phone-number-national", "020 3668 6459", "released 2024-01-15, 15.01.2024, order 0012-3456-7890, v10.2.1");
  add("credit-card", "4111 1111 1111 1111", "4111 1111 1111 1112");
  add("iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01");
  add("us-ssn", "123-45-6789", "000-12-3456");
  add("uk-nino", "AB 12 34 56 C", "QQ 12 34 56 C");
  cases.push_back({"date-of-birth", "DOB: 1990-04-12", "1990-04-12", "DOB: unknown"});
  add("ipv4-address", "192.168.1.20", "999.1.1.1");
  add("ipv6-address", "2001:db8::8a2e:370:7334", "at 12:30:45 today");
  add("mac-address", "00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d");
  return cases;
}

std::string base64Chars() { return std::string(kAlnum) + "+/"; }

std::shared_ptr<const DetectorSet> builtinSet() {
  static std::shared_ptr<const DetectorSet> set = [] {
    auto compiled = DetectorSet::compile(shippedDetectors());
    EXPECT_TRUE(compiled.ok()) << compiled.error().describe();
    return compiled.ok() ? *compiled : nullptr;
  }();
  return set;
}

DetectorSelection only(const DetectorSet& set, const std::string& name) {
  DetectorSelection selection(set.detectors().size(), false);
  auto index = set.indexOf(name);
  if (index) selection[*index] = true;
  return selection;
}

std::vector<std::string> spans(const DetectorSet& set, const std::string& text, const DetectorSelection& selection) {
  std::vector<DetectorMatch> matches;
  EXPECT_TRUE(set.scan(text, selection, matches).ok());
  std::vector<std::string> out;
  for (const auto& match : matches) out.push_back(text.substr(match.begin, match.end - match.begin));
  return out;
}

TEST(MaskBuiltinDetectors, AtLeastFortyWellFormedAndUniquelyNamed) {
  const auto& all = shippedDetectors();
  EXPECT_GE(all.size(), 40u);
  std::set<std::string> names;
  for (const Detector& detector : all) {
    EXPECT_TRUE(names.insert(detector.name).second) << detector.name;
    auto checked = checkDetector(detector);
    EXPECT_TRUE(checked.ok()) << detector.name << ": " << (checked.ok() ? "" : checked.error().message);
    EXPECT_FALSE(detector.description.empty()) << detector.name;
  }
  ASSERT_NE(builtinSet(), nullptr);
}

TEST(MaskBuiltinDetectors, EveryDetectorHasAPositiveAndANegativeCase) {
  std::set<std::string> covered;
  for (const auto& c : detectorCases()) {
    ASSERT_NE(shippedBuiltinDetectors().find(c.detector), nullptr) << "unknown detector in the table: " << c.detector;
    covered.insert(c.detector);
  }
  for (const Detector& detector : shippedDetectors()) {
    EXPECT_TRUE(covered.count(detector.name)) << "no test case for built-in detector " << detector.name;
  }
}

TEST(MaskBuiltinDetectors, PositiveCasesMatchTheExactSpan) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  for (const auto& c : detectorCases()) {
    EXPECT_EQ(spans(*set, c.positiveText, only(*set, c.detector)), std::vector<std::string>{c.expectedSpan})
        << c.detector;
  }
}

TEST(MaskBuiltinDetectors, NegativeCasesDoNotMatch) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  for (const auto& c : detectorCases()) {
    EXPECT_TRUE(spans(*set, c.negativeText, only(*set, c.detector)).empty()) << c.detector << ": " << c.negativeText;
  }
}

TEST(MaskBuiltinDetectors, PositiveCasesWinWithEveryDetectorSwitchedOn) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  for (const auto& c : detectorCases()) {
    std::vector<DetectorMatch> matches;
    ASSERT_TRUE(set->scan(c.positiveText, set->all(), matches).ok());
    ASSERT_EQ(matches.size(), 1u) << c.detector;
    EXPECT_EQ(set->detectors()[matches[0].detector].name, c.detector);
  }
}

TEST(MaskBuiltinDetectors, IdentifiersThatAreNotSecretsStayUnmasked) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  const std::vector<std::string> texts = {
      "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",
      "request id 123e4567-e89b-12d3-a456-426614174000",
      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "version 2.14.1 released on 2024-01-15 at 12:30:45",
      "order 20240115 costs 1234.56 EUR; call extension 4471",
      "Hello world. The answer is 42, see chapter 3.2.",
      "std::vector<int> and Foo::Bar::baz() are C++",
      "max_tokens=1024, temperature=0.7, token_count: 12345678",
      "password: <your-password>, api_key=${OPENAI_API_KEY}, secret: xxxxxxxx1",
  };
  for (const auto& text : texts) EXPECT_TRUE(spans(*set, text, set->all()).empty()) << text;
}

TEST(MaskValidators, UsSsnNeverIssuedRanges) {
  EXPECT_TRUE(usSsnValid("123-45-6789"));
  EXPECT_FALSE(usSsnValid("000-12-3456"));
  EXPECT_FALSE(usSsnValid("666-12-3456"));
  EXPECT_FALSE(usSsnValid("900-12-3456"));
  EXPECT_FALSE(usSsnValid("999-12-3456"));
  EXPECT_FALSE(usSsnValid("123-00-4567"));
  EXPECT_FALSE(usSsnValid("123-45-0000"));
  EXPECT_TRUE(usSsnValid("273 18 5011"));
  EXPECT_FALSE(usSsnValid("273-18 5011"));
}

TEST(MaskValidators, Luhn) {
  EXPECT_TRUE(luhnValid("4111111111111111"));
  EXPECT_TRUE(luhnValid("4111-1111-1111-1111"));
  EXPECT_TRUE(luhnValid("378282246310005"));  // Amex, 15 digits
  EXPECT_FALSE(luhnValid("4111111111111112"));
  EXPECT_FALSE(luhnValid("0000000000000000"));
  EXPECT_FALSE(luhnValid("411111111111"));  // 12 digits
}

TEST(MaskValidators, Iban) {
  EXPECT_TRUE(ibanChecksumValid("GB82WEST12345698765432"));
  EXPECT_TRUE(ibanChecksumValid("DE89 3704 0044 0532 0130 00"));
  EXPECT_FALSE(ibanChecksumValid("GB82WEST12345698765433"));
  EXPECT_FALSE(ibanChecksumValid("gb82west12345698765432"));
}

TEST(MaskValidators, AddressesAndTokens) {
  EXPECT_TRUE(ipv4Valid("10.0.0.1"));
  EXPECT_FALSE(ipv4Valid("256.0.0.1"));
  EXPECT_FALSE(ipv4Valid("10.0.01.1"));
  EXPECT_TRUE(ipv6Valid("::1"));
  EXPECT_TRUE(ipv6Valid("fe80::1"));
  EXPECT_FALSE(ipv6Valid("12:30:45"));
  EXPECT_FALSE(jwtValid("eyJub3Q.eyJqc29u.x"));
  EXPECT_TRUE(highEntropyValid("Xk9#mP2vL7q!"));
  EXPECT_FALSE(highEntropyValid("changeme123"));
  EXPECT_FALSE(highEntropyValid("correcthorsebattery"));
  EXPECT_FALSE(highEntropyValid("12345678"));
}

TEST(MaskBuiltinDetectors, CardsWithSeparatorsAndOtherBrands) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  auto cards = only(*set, "credit-card");
  EXPECT_EQ(spans(*set, "4111-1111-1111-1111", cards), std::vector<std::string>{"4111-1111-1111-1111"});
  EXPECT_EQ(spans(*set, "amex 3782 822463 10005.", cards), std::vector<std::string>{"3782 822463 10005"});
  EXPECT_EQ(spans(*set, "mc 5555555555554444", cards), std::vector<std::string>{"5555555555554444"});
  EXPECT_TRUE(spans(*set, "id 1234567890123456", cards).empty());
}

// Issue 14: shapes engineers paste that used to pass.
TEST(MaskBuiltinDetectors, SsnWithSpacesDiscover644To649AndTelegramTokensInTheirUrl) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  auto ssn = only(*set, "us-ssn");
  EXPECT_EQ(spans(*set, "ssn 273 18 5011.", ssn), std::vector<std::string>{"273 18 5011"});
  for (std::string notSsn : {"000 12 3456", "666 12 3456", "273 00 5011", "273-18 5011", "273 18-5011", "273 18 50112"}) {
    EXPECT_TRUE(spans(*set, "see " + notSsn + " here", ssn).empty()) << notSsn;
  }
  auto cards = only(*set, "credit-card");
  EXPECT_EQ(spans(*set, "card 6445 6445 6445 6445 ok", cards), std::vector<std::string>{"6445 6445 6445 6445"});
  EXPECT_EQ(spans(*set, "card 6490123456789019", cards), std::vector<std::string>{"6490123456789019"});
  EXPECT_TRUE(spans(*set, "card 6445 6445 6445 6446", cards).empty()) << "fails Luhn";
  EXPECT_TRUE(spans(*set, "card 6435 6445 6445 6445", cards).empty()) << "643 is no card range";

  const std::string token = "AA" + testing::fakeChars(std::string(kAlnum) + "_-", 33, 51);
  const std::string url = "curl https://api.telegram.org/bot123456789:" + token + "/getMe";
  EXPECT_EQ(spans(*set, url, set->all()), std::vector<std::string>{token});
}

// HTTP credentials wherever they are written: Basic headers, curl's -u, URLs of any scheme (the
// user may be empty). References to a password ($PASS) and numeric user:group pairs are no secret.
TEST(MaskBuiltinDetectors, HttpCredentialsInHeadersCommandLinesAndUrls) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"curl -H 'Authorization: Basic YWxpY2U6UzNjcmV0IXB3' https://x.example", "Basic YWxpY2U6UzNjcmV0IXB3"},
      {"authorization: basic ZGVwbG95OlBhNTV3MHJkIzE=", "basic ZGVwbG95OlBhNTV3MHJkIzE="},
      {"curl -u alice:S3cr3t!x https://api.example.com", "S3cr3t!x"},
      {"curl --user 'deploy:Pa55w0rd#1' https://x.example", "Pa55w0rd#1"},
      {"curl -s -X POST -u \"svc:Zq8-wW3p\" https://x.example", "Zq8-wW3p"},
      {"REDIS_URL=redis://:p4ssw0rdX@cache:6379/0", "redis://:p4ssw0rdX@cache:6379"},
      {"amqps://guest:Gu3st!9@mq.internal:5671", "amqps://guest:Gu3st!9@mq.internal:5671"},
      {"mongodb+srv://app:Xy12zzQ@cluster0.ab1cd.mongodb.net/db", "mongodb+srv://app:Xy12zzQ@cluster0.ab1cd.mongodb.net"},
      {"ftp://bob:hunter22@files.example.com/pub", "ftp://bob:hunter22@files.example.com"},
      {"git clone https://oauth2:glp4tTok3n9@gitlab.example.com/g/r.git", "https://oauth2:glp4tTok3n9@gitlab.example.com"},
  };
  for (const auto& [text, value] : cases) EXPECT_EQ(spans(*set, text, set->all()), std::vector<std::string>{value}) << text;
  for (std::string notACredential :
       {"curl -u \"$USER:$PASS\" https://x.example", "docker run -u 1000:1000 app", "git push -u origin main",
        "Basic usage is simple", "Basic dGVzdA== (\"test\", no colon)", "see https://example.com:8080/@alice"}) {
    EXPECT_TRUE(spans(*set, notACredential, set->all()).empty()) << notACredential;
  }
}

// A value longer than the old limit of 200 characters (an AWS session token) is replaced whole: no
// tail of it goes out after the placeholder.
TEST(MaskBuiltinDetectors, LongAssignedValuesAreReplacedWhole) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  const std::string base64 = std::string(kAlnum) + "+/";
  for (size_t size : {199u, 200u, 900u, 4000u, 4096u, 30000u}) {
    const std::string value = testing::fakeChars(base64, size, 60 + size) + "=";
    const std::string text = "aws_session_token = " + value + "\nregion = eu-west-1";
    EXPECT_EQ(spans(*set, text, set->all()), std::vector<std::string>{value}) << size;
  }
}

// A Google service-account file pasted into a prompt: its private key's line breaks are "\n"
// escapes, or "\\n" when that JSON is itself a string inside pasted JSON, or gone. The whole block
// is found in every case, and a public key still is not.
TEST(MaskBuiltinDetectors, PrivateKeysWhateverBecameOfTheirLineBreaks) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  const std::string base64 = std::string(kAlnum) + "+/";
  const std::string lineA = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + testing::fakeChars(base64, 32, 70);
  const std::string lineB = testing::fakeChars(base64, 64, 71);
  for (std::string lineBreak : {"\n", "\\n", "\\\\n", ""}) {
    const std::string block = "-----BEGIN PRIVATE KEY-----" + lineBreak + lineA + lineBreak + lineB + lineBreak +
                              "-----END PRIVATE KEY-----";
    const std::string text = R"({"type": "service_account", "private_key": ")" + block + lineBreak +
                             R"(", "client_email": "svc@proj.iam.gserviceaccount.com"})";
    auto found = spans(*set, text, only(*set, "private-key-pem"));
    EXPECT_EQ(found, std::vector<std::string>{block}) << "line break " << lineBreak;
  }
  EXPECT_TRUE(spans(*set, "-----BEGIN PUBLIC KEY-----\\n" + lineB + "\\n-----END PUBLIC KEY-----", set->all()).empty());
}

// Assignments inside JSON that is itself a string of a JSON document (once or twice escaped): the
// key name is recognised through the escapes and only the value is replaced.
TEST(MaskBuiltinDetectors, AssignmentsInsideEscapedJson) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  const std::string value = "Xk9#mP2vL7q!";
  for (std::string quote : {"\"", "\\\"", "\\\\\\\""}) {
    const std::string text = "{" + quote + "user" + quote + ": " + quote + "admin" + quote + ", " + quote + "password" +
                             quote + ": " + quote + value + quote + "}";
    EXPECT_EQ(spans(*set, text, set->all()), std::vector<std::string>{value}) << text;
  }
  const std::string awsSecret = testing::fakeChars(base64Chars(), 40, 72);
  EXPECT_EQ(spans(*set, "{\\\"aws_secret_access_key\\\": \\\"" + awsSecret + "\\\"}", set->all()),
            std::vector<std::string>{awsSecret});
}

// Credentials as real configuration formats name them: the value is replaced, the name and the
// syntax around it stay. Names that only look like credential names stay untouched.
TEST(MaskBuiltinDetectors, AssignmentsInTheFormatsEngineersPaste) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  const std::string v = "Zx81Kq02Lm93Nb47Pq";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"DJANGO_SECRET_KEY=django-insecure-7x!k2m#p9q@w4e", "django-insecure-7x!k2m#p9q@w4e"},  // .env
      {"SECRET_KEY = 'django-insecure-7x!k2m#p9q@w4e'", "django-insecure-7x!k2m#p9q@w4e"},      // Django
      {"const config = { secretKey: \"" + v + "\" };", v},                                         // camelCase
      {"  secret_key = \"" + v + "\"", v},                                                        // Terraform
      {"\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ3aM9Kp2L\",", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ3aM9Kp2L"},
      {"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + v +
           "=;EntityPath=q",
       v + "="},                                                                                   // Azure Service Bus
      {"api-key: " + v, v},                                                                         // YAML
      {"curl -H \"X-API-Key: " + v + "\" https://api.example.com/v1", v},                          // HTTP header
      {"[database]\npassword = " + v + "\n", v},                                                   // INI
      {"docker run -e DB_PASSWORD=" + v + " app", v},                                               // docker run -e
      {"export GITHUB_TOKEN=" + v, v},                                                              // shell
      {"credentials: " + v, v},
      {"ConnectionString=" + v, v},
      {"private-key: " + v, v},
  };
  for (const auto& [text, value] : cases) EXPECT_EQ(spans(*set, text, set->all()), std::vector<std::string>{value}) << text;
  for (std::string notACredential : {"tokenizer: gpt2-large-v3", "max_tokens=1024", "sort_key=created_at2",
                                     "keyboard: us-intl-2", "monkey=banana12x", "token_count: 12345678"}) {
    EXPECT_TRUE(spans(*set, notACredential, set->all()).empty()) << notACredential;
  }
}

// A key written as its prefix and a run of one character comes from documentation or a template;
// AWS's own documented example key is masked all the same.
TEST(MaskBuiltinDetectors, PlaceholderKeysPassAndTheDocumentedAwsExampleDoesNot) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  for (std::string placeholder : {std::string("AKIAXXXXXXXXXXXXXXXX"), "ghp_" + std::string(36, 'x'), "hf_" + std::string(34, 'x'),
                                  "npm_" + std::string(36, '0'), "sk_live_" + std::string(24, 'X')}) {
    EXPECT_TRUE(spans(*set, "export KEY=" + placeholder + " # set yours", set->all()).empty()) << placeholder;
  }
  EXPECT_EQ(spans(*set, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", set->all()),
            std::vector<std::string>{"AKIAIOSFODNN7EXAMPLE"});
  EXPECT_TRUE(notPlaceholderValid("ghp_" + testing::fakeChars(kAlnum, 36, 52)));
  EXPECT_FALSE(notPlaceholderValid("AKIAXXXXXXXXXXXXXXXX"));
}

TEST(MaskBuiltinDetectors, PhoneFormats) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  auto phones = only(*set, "phone-number");
  for (std::string phone : {"+1 415 555 2671", "415-555-2671", "415.555.2671", "+44 20 7946 0958", "+4915112345678",
                            "+33 1 23 45 67 89"}) {
    EXPECT_EQ(spans(*set, "call " + phone + " now", phones), std::vector<std::string>{phone}) << phone;
  }
  for (std::string notPhone : {"1.2.3.4", "2024-01-15", "3.14159", "v10.2.1", "1234", "12:30:45", "555-1234"}) {
    EXPECT_TRUE(spans(*set, "see " + notPhone + " here", phones).empty()) << notPhone;
  }
}

// National formats of the largest economies are phones; digit groups that only look like them
// (dates, times, versions, order and invoice numbers, IPs, card-like numbers failing Luhn) are not.
TEST(MaskBuiltinDetectors, NationalPhoneFormats) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  for (std::string phone : {"020 3668 6459", "0161 496 0000", "07700 900123", "030 12345678", "0151/12345678",
                            "05 72 62 03 95", "05.72.62.03.95", "03-4627-6521", "090-1234-5678", "06 6982 1234",
                            "347 123 4567", "011 2345 6789", "98765 43210", "138 0013 8000", "010-1234 5678",
                            "(010) 12345678", "(11) 96419-8796", "(21) 2345-6789"}) {
    EXPECT_EQ(spans(*set, "call " + phone + " now", set->all()), std::vector<std::string>{phone}) << phone;
  }
  for (std::string notPhone :
       {"2024-01-15", "15.01.2024", "01/02/2024", "12:30:45", "v0.12.3", "v1.2.3.4", "0.5 1234", "build 20240115",
        "order 0012-3456-7890", "invoice 2024-0042-17", "3841-917646-3648", "4111 1111 1111 1112", "ISBN 978-3-16-148410-0",
        "01 02 03", "0800 1234", "since 1999 2000 2001", "12345 67890"}) {
    EXPECT_TRUE(spans(*set, "see " + notPhone + " here", set->all()).empty()) << notPhone;
  }
}

// A partial mask of a longer number hides a part and shows the rest: a number that continues past a
// candidate through one of its own separators is not masked in part.
TEST(MaskBuiltinDetectors, NoPartOfALongerNumberIsMasked) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  for (std::string longer : {"3841-917646-3648", "ref 1234-415-555-2671", "07.12.34.56.78.90", "1.10.0.0.1"}) {
    EXPECT_TRUE(spans(*set, "id " + longer + " ok", set->all()).empty()) << longer;
  }
  // Beside other text, or joined by a separator the number does not use, it is still found.
  EXPECT_EQ(spans(*set, "hosts 10.0.0.1-10.0.0.9 up", set->all()), (std::vector<std::string>{"10.0.0.1", "10.0.0.9"}));
  EXPECT_EQ(spans(*set, "call 415-555-2671.", set->all()), std::vector<std::string>{"415-555-2671"});
  EXPECT_EQ(spans(*set, "tel:415-555-2671, fax 415-555-2672", set->all()),
            (std::vector<std::string>{"415-555-2671", "415-555-2672"}));
  EXPECT_TRUE(continuesALongerNumber("1-415-555-2671", 2, 14));
  EXPECT_FALSE(continuesALongerNumber("x 415-555-2671 y", 2, 14));
}

TEST(MaskBuiltinDetectors, Ipv6CompressedForms) {
  auto set = builtinSet();
  ASSERT_NE(set, nullptr);
  auto ipv6 = only(*set, "ipv6-address");
  for (std::string address : {"::1", "fe80::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.1"}) {
    EXPECT_EQ(spans(*set, "addr " + address + " up", ipv6), std::vector<std::string>{address}) << address;
  }
}

}  // namespace
}  // namespace shadowai
