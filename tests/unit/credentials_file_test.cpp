#include "credentials/credential_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "sk-test-SECRETVALUE-0123456789";

std::string parseError(const std::string& json) {
  auto file = parseCredentialFile(json, "creds.json");
  if (file) return "(parsed)";
  return file.error().describe();
}

std::string withKeys(const std::string& keys) { return R"({"mode": "require-managed", "keys": )" + keys + "}"; }

TEST(CredentialFile, ReadsModesKeysAndSelectors) {
  auto file = parseCredentialFile(R"({
    "comment": ["managed keys"],
    "schema": 1,
    "mode": "require-managed",
    "providers": {"anthropic": {"mode": "pass-through", "comment": "trial"}},
    "keys": [
      {"provider": "openai", "key": "sk-a", "label": "fleet"},
      {"provider": "openai", "key": "sk-b", "selector": {"cgroup": "/system.slice/billing-etl.service"}},
      {"provider": "google-gemini", "key": "AIza-c", "selector": {"unit": "report@1.service"}, "comment": "x"}
    ]})",
                                  "creds.json");
  ASSERT_TRUE(file) << file.error().describe();
  EXPECT_EQ(file->mode, CredentialMode::kRequireManaged);
  ASSERT_EQ(file->providerModes.size(), 1u);
  EXPECT_EQ(file->providerModes.at("anthropic"), CredentialMode::kPassThrough);
  ASSERT_EQ(file->keys.size(), 3u);
  EXPECT_EQ(file->keys[0].providerId, "openai");
  EXPECT_EQ(file->keys[0].label, "fleet");
  EXPECT_EQ(file->keys[0].selector.kind, KeySelector::Kind::kProviderWide);
  EXPECT_EQ(file->keys[0].key.reveal(), "sk-a");
  EXPECT_EQ(file->keys[0].source, "creds.json: /keys/0");
  EXPECT_EQ(file->keys[1].selector, (KeySelector{KeySelector::Kind::kCgroup, "/system.slice/billing-etl.service"}));
  EXPECT_EQ(file->keys[2].selector, (KeySelector{KeySelector::Kind::kUnit, "report@1.service"}));
}

TEST(CredentialFile, ModeIsRequiredAndKeysAreOptional) {
  EXPECT_EQ(parseError("{}"), "creds.json: /mode: missing: say \"require-managed\" or \"pass-through\"");
  auto file = parseCredentialFile(R"({"mode": "pass-through"})", "creds.json");
  ASSERT_TRUE(file) << file.error().describe();
  EXPECT_TRUE(file->keys.empty());
  EXPECT_EQ(file->mode, CredentialMode::kPassThrough);
}

TEST(CredentialFile, SchemaErrorsNameTheFileAndPointer) {
  EXPECT_EQ(parseError("[]"), "creds.json: expected a JSON object");
  EXPECT_EQ(parseError(R"({"mode": "strict"})"), "creds.json: /mode: expected \"require-managed\" or \"pass-through\"");
  EXPECT_EQ(parseError(R"({"mode": "pass-through", "moda": 1})"),
            "creds.json: the top-level object has an unknown field (allowed: comment, schema, mode, providers, keys"
            "; its name is withheld: the file holds keys)");
  EXPECT_EQ(parseError(R"({"mode": "pass-through", "schema": 2})"), "creds.json: /schema: expected 1");
  EXPECT_EQ(parseError(R"({"mode": "pass-through", "providers": {"OpenAI": {"mode": "pass-through"}}})"),
            "creds.json: /providers: a name is not a provider id like \"openai\" (lower-case letters, digits, "
            "'-', '_', '.'; the name is withheld: the file holds keys)");
  EXPECT_EQ(parseError(R"({"mode": "pass-through", "providers": {"openai": {"mod": "pass-through"}}})"),
            "creds.json: /providers/openai: has an unknown field (allowed: comment, mode; its name is withheld: "
            "the file holds keys)");
  EXPECT_EQ(parseError(R"({"mode": "pass-through", "providers": {"openai": {}}})"),
            "creds.json: /providers/openai/mode: missing");
  EXPECT_EQ(parseError(withKeys("{}")), "creds.json: /keys: expected an array of keys");
  EXPECT_EQ(parseError(withKeys("[1]")), "creds.json: /keys/0: expected an object");
  EXPECT_EQ(parseError(withKeys(R"([{"key": "sk-a"}])")), "creds.json: /keys/0/provider: missing");
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai"}])")), "creds.json: /keys/0/key: missing");
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai", "key": ""}])")), "creds.json: /keys/0/key: is empty");
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai", "key": 5}])")), "creds.json: /keys/0/key: expected a string");
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai", "key": "sk-a", "selecter": {}}])")),
            "creds.json: /keys/0: has an unknown field (allowed: comment, provider, key, label, selector; its name "
            "is withheld: the file holds keys)");
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai", "key": "sk-a", "label": 3}])")),
            "creds.json: /keys/0/label: expected printable ASCII text of at most 64 bytes");
}

TEST(CredentialFile, SelectorsAreCheckedOneAtATime) {
  const std::string expected = "expected {\"cgroup\": PATH} or {\"unit\": NAME}";
  auto entry = [](const std::string& selector) {
    return withKeys(R"([{"provider": "openai", "key": "sk-a", "selector": )" + selector + "}]");
  };
  EXPECT_EQ(parseError(entry("{}")), "creds.json: /keys/0/selector: " + expected);
  EXPECT_EQ(parseError(entry(R"("x.service")")), "creds.json: /keys/0/selector: " + expected);
  EXPECT_EQ(parseError(entry(R"({"unit": "a.service", "cgroup": "/a"})")), "creds.json: /keys/0/selector: " + expected);
  EXPECT_EQ(parseError(entry(R"({"pid": 1})")),
            "creds.json: /keys/0/selector: has an unknown field (allowed: cgroup, unit; its name is withheld: the "
            "file holds keys)");
  EXPECT_THAT(parseError(entry(R"({"cgroup": "/a/"})")), HasSubstr("/keys/0/selector/cgroup: expected a cgroup path"));
  EXPECT_THAT(parseError(entry(R"({"cgroup": "a"})")), HasSubstr("/keys/0/selector/cgroup: expected a cgroup path"));
  EXPECT_THAT(parseError(entry(R"({"unit": "billing"})")), HasSubstr("/keys/0/selector/unit: expected a systemd unit"));
  EXPECT_THAT(parseError(entry(R"({"unit": "a b.service"})")), HasSubstr("/keys/0/selector/unit: expected"));
}

TEST(CredentialFile, DuplicateProviderAndSelectorIsAnError) {
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai", "key": "sk-a"}, {"provider": "openai", "key": "sk-b"}])")),
            "creds.json: /keys/1: same provider and selector as /keys/0");
  EXPECT_EQ(parseError(withKeys(R"([{"provider": "openai", "key": "a", "selector": {"unit": "x.service"}},
                                    {"provider": "anthropic", "key": "b", "selector": {"unit": "x.service"}},
                                    {"provider": "openai", "key": "c", "selector": {"unit": "x.service"}}])")),
            "creds.json: /keys/2: same provider and selector as /keys/0");
}

TEST(CredentialFile, KeyWithControlBytesOrSpacesIsRefusedWithoutQuotingIt) {
  // A CR/LF in a key would become a header injection upstream.
  for (const std::string& bad : {std::string(kSecret) + "\\r\\nx-evil: 1", std::string(kSecret) + " tail",
                                 std::string(kSecret) + "\\u00e9"}) {
    std::string error = parseError(withKeys(R"([{"provider": "openai", "key": ")" + bad + R"("}])"));
    EXPECT_THAT(error, HasSubstr("creds.json: /keys/0/key: holds a space, a control byte or a non-ASCII byte"));
    EXPECT_THAT(error, Not(HasSubstr("SECRETVALUE")));
  }
}

TEST(CredentialFile, NamesThatAreNotFieldsOrProvidersAreNeverEchoed) {
  // A key typed (or pasted) where a name belongs, in every object of the file.
  for (const std::string& json :
       {std::string(R"({"mode": "pass-through", "keys": [{"bSECRETVALUE": "b"}]})"),
        R"({"mode": "pass-through", ")" + std::string(kSecret) + R"(": 1})",
        R"({"mode": "pass-through", "providers": {")" + std::string(kSecret) + R"(": {"mode": "pass-through"}}})",
        R"({"mode": "pass-through", "providers": {"openai": {")" + std::string(kSecret) + R"(": 1}}})",
        withKeys(R"([{"provider": "openai", "key": "sk-a", "selector": {")" + std::string(kSecret) + R"(": 1}}])")}) {
    std::string error = parseError(json);
    EXPECT_THAT(error, HasSubstr("withheld")) << json;
    EXPECT_THAT(error, Not(HasSubstr("SECRETVALUE"))) << json;
  }
  EXPECT_EQ(parseError(R"({"mode":"pass-through","keys":[{"bSECRETVALUE":"b"}]})"),
            "creds.json: /keys/0: has an unknown field (allowed: comment, provider, key, label, selector; its name "
            "is withheld: the file holds keys)");
}

TEST(CredentialFile, SyntaxErrorsGiveThePositionButNeverTheText) {
  // The parser's own message would quote the raw control character and the key before it.
  std::string error = parseError("{\"mode\": \"pass-through\",\n \"keys\": [{\"provider\": \"openai\", \"key\": \"" +
                                 std::string(kSecret) + "\n\"}]}");
  EXPECT_EQ(error, "creds.json:2:72: not valid JSON (details withheld: the file holds keys)");
  error = parseError(std::string("{\"keys\": [{\"key\": \"") + kSecret + "\"} ");
  EXPECT_THAT(error, HasSubstr("not valid JSON"));
  EXPECT_THAT(error, Not(HasSubstr("SECRETVALUE")));
  EXPECT_THAT(parseError(""), HasSubstr("creds.json:1:1: not valid JSON"));
}

TEST(CredentialFile, ProviderIdsAndUnitNames) {
  EXPECT_TRUE(isProviderId("openai"));
  EXPECT_TRUE(isProviderId("google-gemini"));
  EXPECT_TRUE(isProviderId("a_b.c"));
  EXPECT_FALSE(isProviderId(""));
  EXPECT_FALSE(isProviderId("OpenAI"));
  EXPECT_FALSE(isProviderId("a/b"));
  EXPECT_FALSE(isProviderId(std::string(65, 'a')));
  EXPECT_TRUE(isUnitName("billing-etl.service"));
  EXPECT_TRUE(isUnitName("user@1000.service"));
  EXPECT_TRUE(isUnitName("docker-0123abcd.scope"));
  EXPECT_TRUE(isUnitName("system-getty.slice"));
  EXPECT_FALSE(isUnitName(".service"));
  EXPECT_FALSE(isUnitName("billing"));
  EXPECT_FALSE(isUnitName("billing.txt"));
  EXPECT_FALSE(isUnitName("a/b.service"));
}

TEST(CredentialFile, DescribeNeverShowsTheKey) {
  auto file = parseCredentialFile(withKeys(std::string(R"([{"provider": "openai", "key": ")") + kSecret +
                                           R"(", "label": "etl", "selector": {"unit": "x.service"}}])"),
                                  "creds.json");
  ASSERT_TRUE(file) << file.error().describe();
  const ManagedKey& key = file->keys.at(0);
  EXPECT_EQ(key.describe(), "openai key \"etl\" for unit x.service <secret " + key.key.fingerprint() + ">");
  EXPECT_THAT(key.describe(), Not(HasSubstr("SECRETVALUE")));
  EXPECT_THAT(key.key.fingerprint(), ::testing::MatchesRegex("sha256:[0-9a-f]{12}"));
}

}  // namespace
}  // namespace shadowai
