// The policy through the full path: the real shadowaid enforcing a test cgroup, the official SDKs in
// that cgroup, a FakeProvider posing as the three providers, and the daemon's journal. What is checked
// is what users check: the prompt the provider received is masked, the answer the client got is
// masked (whole, and streamed with a value split across two deltas), a blocked prompt gets the SDK's
// own error and never reaches the provider, and a broken policy cannot replace a good one.
#include <gtest/gtest.h>
#include <signal.h>

#include "support/fake_provider_answers.h"
#include "support/intercept_fixture.h"

namespace shadowai::test {
namespace {

// A prompt with an email and an OpenAI key, and an answer with another email, which the stream
// carries split across two deltas ("bob@exa" + "mple.org").
constexpr const char* kPromptEmail = "alice@example.com";
constexpr const char* kPromptKey = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0f";
const std::string kPrompt = std::string("Write to ") + kPromptEmail + " and use the key " + kPromptKey + " please.";
const std::string kAnswerWithBreak = std::string("Sure, I wrote to bob@exa") + fake_provider::kPieceBreak +
                                     "mple.org as you asked.";
constexpr const char* kAnswerEmail = "bob@example.org";
// alice's address is the call's first email, bob's its second: placeholders are numbered per call.
constexpr const char* kMaskedAnswer = "Sure, I wrote to [EMAIL_2] as you asked.";

class PolicyTest : public InterceptFixture {
 protected:
  void SetUp() override {
    InterceptFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    policyDir_ = dir_->filePath("policy.d");
    std::filesystem::create_directories(policyDir_);
    std::filesystem::copy_file(SHADOWAI_SOURCE_RULES_DIR "/policy.d/00-default.json", policyDir_ + "/00-default.json");
  }

  void writePolicy(const std::string& name, const json& document) {
    ASSERT_TRUE(writeFileAtomic(policyDir_ + "/" + name, document.dump(2)));
  }

  static json blockRule(const std::string& id, const json& block) {
    return {{"version", 1}, {"rules", json::array({{{"id", id}, {"block", block}}})}};
  }

  // Everything shadowaid wrote: the journal and its own output.
  std::string everythingLogged() {
    auto entries = daemon_->waitForJournal();
    EXPECT_TRUE(entries) << entries.error().describe();
    std::string text;
    if (entries) {
      for (const auto& entry : *entries) text += entry.dump() + "\n";
    }
    text += daemon_->output();
    return text;
  }
};

struct SdkCase {
  SdkClient client;
  std::vector<std::string> args;
  std::string api;
};

const std::vector<SdkCase>& sdkCases() {
  static const std::vector<SdkCase> cases = {
      {SdkClient::kOpenAi, {"--api", "chat", "--model", "gpt-4o-mini"}, "openai-chat"},
      {SdkClient::kOpenAi, {"--api", "responses", "--model", "gpt-4o-mini"}, "openai-responses"},
      {SdkClient::kAnthropic, {"--model", "claude-3-5-haiku-latest"}, "anthropic-messages"},
      {SdkClient::kGemini, {"--model", "gemini-2.0-flash"}, "gemini-generate"},
  };
  return cases;
}

// The shipped default policy masks the prompt before the provider sees it and the answer before the
// client does, for every SDK, plain and streamed; the journal says what was masked, never the values.
TEST_F(PolicyTest, DefaultPolicyMasksPromptsAndAnswersForEverySdk) {
  provider_->setAnswerText(kAnswerWithBreak);
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  size_t calls = 0;
  for (const SdkCase& test : sdkCases()) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(test.api + (stream ? " streamed" : " plain"));
      std::vector<std::string> args = test.args;
      args.insert(args.end(), {"--prompt", kPrompt});
      if (stream) args.emplace_back("--stream");
      auto result = call(test.client, args);
      ASSERT_OK(result);
      ASSERT_TRUE(result->ok) << result->line.dump() << daemon_->describeOutput();
      EXPECT_EQ(result->text, kMaskedAnswer) << "the client got the answer masked, nothing else changed";
      if (stream) {
        EXPECT_GE(result->events, 2) << "the answer came in (at least) its two deltas";
      }

      ++calls;
      ASSERT_TRUE(provider_->waitForRequests(calls, 10s));
      const std::string received = lastRequest().body;
      EXPECT_EQ(received.find(kPromptEmail), std::string::npos) << received;
      EXPECT_EQ(received.find(kPromptKey), std::string::npos) << received;
      EXPECT_NE(received.find("Write to [EMAIL_1] and use the key [OPENAI_KEY_1] please."), std::string::npos)
          << received;

      auto records = journal("llm-call-intercepted",
                             {"SHADOWAI_API=" + test.api, std::string("SHADOWAI_STREAMING=") + (stream ? "true" : "false")},
                             1);
      ASSERT_EQ(records.size(), 1u);
      EXPECT_EQ(records[0].value("SHADOWAI_MASKED_REQUEST", ""), "openai-api-key=1,email=1") << records[0].dump();
      EXPECT_EQ(records[0].value("SHADOWAI_MASKED_RESPONSE", ""), "email=1") << records[0].dump();
      EXPECT_EQ(records[0].value("SHADOWAI_MASKED_COUNT", ""), "3");
    }
  }
  const std::string logged = everythingLogged();
  for (const char* value : {kPromptEmail, kPromptKey, kAnswerEmail}) {
    EXPECT_EQ(logged.find(value), std::string::npos) << "a masked value was logged: " << value;
  }
}

// JSON escapes cannot hide a value from the masker: it reads the decoded string. The rest of the body
// reaches the provider byte for byte.
TEST_F(PolicyTest, EscapedValueInTheBodyIsStillMaskedAndTheRestIsUntouched) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::string body =
      R"({"model":"gpt-4o-mini",  "temperature":1.0e0,"messages":[{"role":"user","content":"mail carol\u0040example.com now"}]})";
  auto result = curl({"-sS", "-H", "Content-Type: application/json", "-H", "Authorization: Bearer placeholder", "-d",
                      body, "-w", "\nSTATUS %{http_code}", "https://api.openai.com/v1/chat/completions"});
  ASSERT_OK(result);
  EXPECT_NE(result->output.find("STATUS 200"), std::string::npos) << result->output << result->errors;
  EXPECT_EQ(lastRequest().body,
            R"({"model":"gpt-4o-mini",  "temperature":1.0e0,"messages":[{"role":"user","content":"mail [EMAIL_1] now"}]})");
}

// A block rule refuses the call with the provider's own 403, which each SDK raises as its ordinary
// permission error naming the rule; the provider never sees the call; the journal names rule and workload.
TEST_F(PolicyTest, BlockedPromptGetsTheSdkErrorAndNeverReachesTheProvider) {
  writePolicy("50-block.json",
              {{"version", 1},
               {"rules",
                json::array({{{"id", "no-orion"},
                              {"block", {{"words", {"project orion"}}, {"message", "Project Orion is confidential."}}}},
                             {{"id", "no-old-models"}, {"block", {{"models", {"gpt-3.5*"}}}}}})}});
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  for (const SdkCase& test : sdkCases()) {
    SCOPED_TRACE(test.api);
    std::vector<std::string> args = test.args;
    args.insert(args.end(), {"--prompt", "Summarise the PROJECT   Orion roadmap."});
    auto result = call(test.client, args);
    ASSERT_OK(result);
    EXPECT_FALSE(result->ok) << result->line.dump();
    EXPECT_EQ(result->line.value("status", 0), 403) << result->line.dump();
    const std::string message = result->line.value("message", "");
    EXPECT_NE(message.find("no-orion"), std::string::npos) << message;
    EXPECT_NE(message.find("Project Orion is confidential."), std::string::npos) << message;
  }
  auto oldModel = call(SdkClient::kOpenAi, {"--api", "chat", "--model", "gpt-3.5-turbo", "--prompt", "Hi"});
  ASSERT_OK(oldModel);
  EXPECT_EQ(oldModel->line.value("status", 0), 403) << oldModel->line.dump();
  EXPECT_NE(oldModel->line.value("message", "").find("no-old-models"), std::string::npos) << oldModel->line.dump();
  EXPECT_TRUE(provider_->requests().empty()) << "a blocked call reached the provider";

  auto blocked = journal("llm-call-blocked", {"SHADOWAI_RULE=no-orion"}, sdkCases().size());
  ASSERT_EQ(blocked.size(), sdkCases().size());
  EXPECT_EQ(blocked[0]["SHADOWAI_ACTION"], "blocked");
  EXPECT_EQ(blocked[0]["SHADOWAI_CGROUP"], workload_->relativePath());
  EXPECT_EQ(blocked[0]["SHADOWAI_STATUS"], "403");
  EXPECT_EQ(journal("llm-call-blocked", {"SHADOWAI_RULE=no-old-models", "SHADOWAI_MODEL=gpt-3.5-turbo"}, 1).size(), 1u);
  EXPECT_EQ(everythingLogged().find("roadmap"), std::string::npos) << "the prompt was logged";
}

// `shadowai policy reload` and SIGHUP apply a new policy to new calls; a broken one is refused with
// the problem named, the previous policy stays in force, and the journal says so.
TEST_F(PolicyTest, ReloadAppliesAGoodPolicyAndKeepsTheOldOneWhenTheNewOneIsBroken) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<std::string> orion = {"--api", "chat", "--model", "gpt-4o-mini", "--prompt", "About project orion?"};
  auto before = call(SdkClient::kOpenAi, orion);
  ASSERT_OK(before);
  EXPECT_TRUE(before->ok) << before->line.dump();

  writePolicy("50-block.json", blockRule("no-orion", {{"words", {"project orion"}}}));
  RunResult reloaded = cli({"policy", "reload"});
  EXPECT_EQ(reloaded.exitCode, 0) << reloaded.out << reloaded.err;
  auto after = call(SdkClient::kOpenAi, orion);
  ASSERT_OK(after);
  EXPECT_EQ(after->line.value("status", 0), 403) << after->line.dump();
  EXPECT_EQ(journal("policy-reloaded", {}, 1).size(), 1u);

  writePolicy("60-broken.json", {{"version", 1}, {"rules", json::array({{{"id", "typo"}, {"mask", {{"detectors", {"no-such-detector"}}}}}})}});
  RunResult rejected = cli({"policy", "reload"});
  EXPECT_NE(rejected.exitCode, 0);
  EXPECT_NE(rejected.err.find("60-broken.json"), std::string::npos) << rejected.err;
  EXPECT_NE(rejected.err.find("no-such-detector"), std::string::npos) << rejected.err;
  auto stillBlocked = call(SdkClient::kOpenAi, orion);
  ASSERT_OK(stillBlocked);
  EXPECT_EQ(stillBlocked->line.value("status", 0), 403) << "the previous policy must stay in force";
  auto rejections = journal("policy-rejected", {}, 1);
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_NE(rejections[0].value("SHADOWAI_REASON", "").find("60-broken.json"), std::string::npos);

  // SIGHUP does the same as the CLI: with the broken file gone and the block removed, calls pass again.
  std::filesystem::remove(policyDir_ + "/60-broken.json");
  std::filesystem::remove(policyDir_ + "/50-block.json");
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  ASSERT_EQ(journal("policy-reloaded", {}, 2).size(), 2u);
  auto passes = call(SdkClient::kOpenAi, orion);
  ASSERT_OK(passes);
  EXPECT_TRUE(passes->ok) << passes->line.dump();
}

// An invalid policy at start-up stops the daemon with one line naming the file and the problem: it
// never runs without the policy its owner wrote.
TEST_F(PolicyTest, InvalidPolicyAtStartStopsTheDaemon) {
  writePolicy("50-broken.json", {{"version", 1}, {"rules", json::array({{{"id", "x"}, {"block", {{"patterns", {"(unclosed"}}}}}})}});
  writeConfig();
  writeCredentials("require-managed");
  RunResult result = run({SHADOWAI_DAEMON_BINARY, "--config", configPath()});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find("50-broken.json"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("policy check"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace shadowai::test
