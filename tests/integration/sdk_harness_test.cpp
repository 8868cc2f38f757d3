// The official SDKs, unmodified (tests/clients), against a FakeProvider posing as api.openai.com,
// api.anthropic.com and generativelanguage.googleapis.com on 127.0.0.2:443 behind this test's own
// /etc/hosts, trusting the test CA: proves the harness that the interception tests later run through
// the proxy, here without the proxy. Plus curl, for keep-alive, Expect: 100-continue and a stream
// that arrives event by event.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/fake_provider.h"
#include "support/require_root.h"
#include "support/sdk_clients.h"
#include "support/test_ca.h"
#include "support/test_namespace.h"

namespace shadowai::test {
namespace {

using namespace std::chrono_literals;

#define ASSERT_OK(expression)                                              \
  do {                                                                     \
    auto&& assertOkResult = (expression);                                  \
    ASSERT_TRUE(assertOkResult.ok()) << assertOkResult.error().describe(); \
  } while (0)

constexpr const char* kProviderAddress = "127.0.0.2";
constexpr auto kEventDelay = 20ms;
// The default answer, a word per stream event.
constexpr int kAnswerPieces = 5;

class SdkHarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SHADOWAI_REQUIRE_ROOT();
    if (std::string reason = nodeUnavailableReason(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_OK(sdkClientsInstalled());
    auto ca = TestCa::create();
    ASSERT_OK(ca);
    ca_ = std::make_unique<TestCa>(std::move(ca).value());
    auto leaf = ca_->issueLeaf({sdkClientHost(SdkClient::kOpenAi), sdkClientHost(SdkClient::kAnthropic),
                                sdkClientHost(SdkClient::kGemini)});
    ASSERT_OK(leaf);
    FakeProviderOptions options;
    options.address = kProviderAddress;
    options.port = 443;
    options.certPath = leaf->certPath;
    options.keyPath = leaf->keyPath;
    options.eventDelay = kEventDelay;
    auto provider = FakeProvider::start(options);
    ASSERT_OK(provider);
    provider_ = std::make_unique<FakeProvider>(std::move(provider).value());
    std::string hosts = "127.0.0.1 localhost\n::1 localhost\n";
    for (auto client : {SdkClient::kOpenAi, SdkClient::kAnthropic, SdkClient::kGemini}) {
      hosts += std::string(kProviderAddress) + " " + sdkClientHost(client) + "\n";
    }
    ASSERT_OK(setHostsFile(hosts));
  }

  Result<SdkCallResult> call(SdkClient client, const std::vector<std::string>& args) {
    return runSdkClient(client, args, ca_->certPath());
  }

  FakeProviderRequest lastRequest() const {
    auto requests = provider_->requests();
    return requests.empty() ? FakeProviderRequest{} : requests.back();
  }

  // One plain and one streamed call of CLIENT with ARGS: both bring the configured answer back, the
  // streamed one in several events; the provider saw each as HOST with TARGET (and STREAM_TARGET).
  void expectPlainAndStreamed(SdkClient client, const std::vector<std::string>& args, const std::string& target,
                              const std::string& streamTarget) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(stream ? "streamed" : "plain");
      std::vector<std::string> argv = args;
      if (stream) argv.emplace_back("--stream");
      const size_t before = provider_->requests().size();
      auto result = call(client, argv);
      ASSERT_OK(result);
      ASSERT_TRUE(result->ok) << result->line.dump();
      EXPECT_EQ(result->text, kFakeProviderDefaultAnswer);
      if (stream) {
        EXPECT_GT(result->events, 1);
      } else {
        EXPECT_EQ(result->events, 0);
      }
      ASSERT_EQ(provider_->requests().size(), before + 1);
      FakeProviderRequest request = lastRequest();
      EXPECT_EQ(request.sni, sdkClientHost(client));
      EXPECT_EQ(request.header("Host"), sdkClientHost(client));
      EXPECT_EQ(request.method, "POST");
      EXPECT_EQ(request.target, stream ? streamTarget : target);
    }
  }

  std::unique_ptr<TestCa> ca_;
  std::unique_ptr<FakeProvider> provider_;
};

TEST_F(SdkHarnessTest, OpenAiChatCompletionsPlainAndStreamed) {
  expectPlainAndStreamed(SdkClient::kOpenAi, {"--api", "chat", "--model", "gpt-4o-mini"}, "/v1/chat/completions",
                         "/v1/chat/completions");
  FakeProviderRequest request = lastRequest();
  EXPECT_EQ(request.header("Authorization"), std::string("Bearer ") + sdkClientDefaultKey(SdkClient::kOpenAi));
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << request.body;
  EXPECT_EQ(body.value("stream", false), true) << request.body;
  EXPECT_EQ(body.value("/stream_options/include_usage"_json_pointer, false), true) << request.body;

  auto streamed = call(SdkClient::kOpenAi, {"--api", "chat", "--model", "gpt-4o-mini", "--stream"});
  ASSERT_OK(streamed);
  // A role chunk, a chunk per word, the finish chunk and the usage chunk ([DONE] is not an event).
  EXPECT_EQ(streamed->events, kAnswerPieces + 3);
  EXPECT_EQ(streamed->model, "gpt-4o-mini");
  EXPECT_EQ(streamed->usage.value("completion_tokens", 0), kAnswerPieces) << streamed->usage.dump();
  EXPECT_EQ(provider_->failedHandshakes(), 0u);
}

TEST_F(SdkHarnessTest, OpenAiResponsesCompletionsAndEmbeddings) {
  expectPlainAndStreamed(SdkClient::kOpenAi, {"--api", "responses"}, "/v1/responses", "/v1/responses");
  expectPlainAndStreamed(SdkClient::kOpenAi, {"--api", "completions", "--model", "gpt-3.5-turbo-instruct"},
                         "/v1/completions", "/v1/completions");

  auto embedded = call(SdkClient::kOpenAi, {"--api", "embeddings", "--model", "text-embedding-3-small"});
  ASSERT_OK(embedded);
  ASSERT_TRUE(embedded->ok) << embedded->line.dump();
  EXPECT_EQ(embedded->line.value("dimensions", 0), 8) << embedded->line.dump();
  EXPECT_EQ(embedded->model, "text-embedding-3-small");
  FakeProviderRequest request = lastRequest();
  EXPECT_EQ(request.target, "/v1/embeddings");
  EXPECT_EQ(request.header("Authorization"), std::string("Bearer ") + sdkClientDefaultKey(SdkClient::kOpenAi));
}

// Both SDK generations in use: 1.x sends the key as a bearer token, 0.x as x-api-key.
TEST_F(SdkHarnessTest, AnthropicMessagesPlainAndStreamedWithBothSdkGenerations) {
  const std::string key = sdkClientDefaultKey(SdkClient::kAnthropic);
  expectPlainAndStreamed(SdkClient::kAnthropic, {"--model", "claude-3-5-haiku-latest"}, "/v1/messages",
                         "/v1/messages");
  FakeProviderRequest request = lastRequest();
  EXPECT_EQ(request.header("Authorization"), "Bearer " + key);
  EXPECT_EQ(request.header("x-api-key"), "");
  EXPECT_EQ(request.header("anthropic-version"), "2026-10-21");

  expectPlainAndStreamed(SdkClient::kAnthropic, {"--sdk", "0", "--model", "claude-3-5-haiku-latest"}, "/v1/messages",
                         "/v1/messages");
  request = lastRequest();
  EXPECT_EQ(request.header("x-api-key"), key);
  EXPECT_EQ(request.header("Authorization"), "");
  EXPECT_EQ(request.header("anthropic-version"), "2023-06-01");

  for (const char* sdk : {"current", "0"}) {
    auto streamed = call(SdkClient::kAnthropic, {"--sdk", sdk, "--stream"});
    ASSERT_OK(streamed);
    // message_start, content_block_start, a delta per word, content_block_stop, message_delta,
    // message_stop (the SDK drops the ping the provider sends too).
    EXPECT_EQ(streamed->events, kAnswerPieces + 5) << sdk;
    EXPECT_EQ(streamed->usage.value("output_tokens", 0), kAnswerPieces) << sdk << " " << streamed->usage.dump();
  }
}

TEST_F(SdkHarnessTest, GeminiGenerateContentPlainAndStreamed) {
  expectPlainAndStreamed(SdkClient::kGemini, {"--model", "gemini-2.0-flash"},
                         "/v1beta/models/gemini-2.0-flash:generateContent",
                         "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
  FakeProviderRequest request = lastRequest();
  EXPECT_EQ(request.header("x-goog-api-key"), sdkClientDefaultKey(SdkClient::kGemini));

  auto streamed = call(SdkClient::kGemini, {"--model", "gemini-2.0-flash", "--stream"});
  ASSERT_OK(streamed);
  EXPECT_EQ(streamed->events, kAnswerPieces);
  EXPECT_EQ(streamed->model, "gemini-2.0-flash");
}

TEST_F(SdkHarnessTest, ProviderErrorsReachEachSdkAsItsApiError) {
  provider_->setFixedReply(openAiErrorReply(403, "permission_denied", "Calls to this model are not allowed."));
  for (bool stream : {false, true}) {
    std::vector<std::string> args = {"--api", "chat"};
    if (stream) args.emplace_back("--stream");
    auto failed = call(SdkClient::kOpenAi, args);
    ASSERT_OK(failed);
    EXPECT_FALSE(failed->ok) << failed->line.dump();
    EXPECT_EQ(failed->status, 403);
    EXPECT_EQ(failed->errorType, "permission_denied");
    EXPECT_EQ(failed->message, "Calls to this model are not allowed.");
    EXPECT_EQ(failed->line.value("errorClass", ""), "PermissionDeniedError");
  }

  provider_->setFixedReply(anthropicErrorReply(403, "permission_error", "Not for this workload."));
  for (const char* sdk : {"current", "0"}) {
    auto anthropic = call(SdkClient::kAnthropic, {"--sdk", sdk, "--stream"});
    ASSERT_OK(anthropic);
    EXPECT_FALSE(anthropic->ok) << sdk;
    EXPECT_EQ(anthropic->status, 403) << sdk;
    EXPECT_EQ(anthropic->errorType, "permission_error") << sdk;
    EXPECT_EQ(anthropic->message, "Not for this workload.") << sdk;
  }

  provider_->setFixedReply(geminiErrorReply(403, "PERMISSION_DENIED", "Blocked by policy."));
  auto gemini = call(SdkClient::kGemini, {});
  ASSERT_OK(gemini);
  EXPECT_FALSE(gemini->ok);
  EXPECT_EQ(gemini->status, 403);
  EXPECT_EQ(gemini->errorType, "PERMISSION_DENIED");
  EXPECT_EQ(gemini->message, "Blocked by policy.");

  provider_->clearFixedReply();
  auto recovered = call(SdkClient::kOpenAi, {"--api", "chat"});
  ASSERT_OK(recovered);
  EXPECT_TRUE(recovered->ok) << recovered->line.dump();
}

// Nothing listening: each SDK reports a failed call with no status, and the client still exits 0.
TEST_F(SdkHarnessTest, ConnectionFailuresAreResultsToo) {
  std::string hosts = "127.0.0.1 localhost\n";
  for (auto client : {SdkClient::kOpenAi, SdkClient::kAnthropic, SdkClient::kGemini}) {
    hosts += std::string("127.0.0.9 ") + sdkClientHost(client) + "\n";
  }
  ASSERT_OK(setHostsFile(hosts));
  for (auto client : {SdkClient::kOpenAi, SdkClient::kAnthropic, SdkClient::kGemini}) {
    auto failed = call(client, {"--stream", "--timeout-ms", "10000"});
    ASSERT_OK(failed);
    EXPECT_FALSE(failed->ok) << failed->line.dump();
    EXPECT_EQ(failed->status, 0) << failed->line.dump();
  }
  EXPECT_EQ(provider_->connectionCount(), 0u);
}

TEST_F(SdkHarnessTest, AnswerTextIsConfigurable) {
  provider_->setAnswerText("Ceci n'est pas une réponse, with ünïcode and \"quotes\"");
  auto streamed = call(SdkClient::kAnthropic, {"--stream"});
  ASSERT_OK(streamed);
  EXPECT_EQ(streamed->text, "Ceci n'est pas une réponse, with ünïcode and \"quotes\"");
}

// curl, two requests in one run over one kept-alive connection: the first with Expect: 100-continue
// (curl is told to wait far longer for the 100 than its 30 s limit, so it only succeeds if the
// provider sent the 100), the second a stream that the provider holds after its first event: curl
// has that event while the rest is still held, so the provider writes events as it goes.
TEST_F(SdkHarnessTest, CurlKeepAliveExpectContinueAndStreamWrittenAsItGoes) {
  provider_->holdStreamsAfterFirstEvent();
  const std::string url = "https://api.openai.com/v1/chat/completions";
  const std::string plain = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]})";
  const std::string streamed = R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})";
  const std::vector<std::string> perRequest = {"--cacert", ca_->certPath(), "--http1.1", "--noproxy", "*",
                                               "-H", "Content-Type: application/json",
                                               "-H", "Authorization: Bearer sk-curl-test"};
  std::vector<std::string> argv = {"curl", "-q", "-sS", "--max-time", "30"};
  argv.insert(argv.end(), perRequest.begin(), perRequest.end());
  argv.insert(argv.end(), {"-H", "Expect: 100-continue", "--expect100-timeout", "1000", "-d", plain, url, "--next"});
  argv.insert(argv.end(), perRequest.begin(), perRequest.end());
  argv.insert(argv.end(), {"-N", "-d", streamed, url});
  auto curl = ChildProcess::spawn(argv);
  ASSERT_OK(curl);
  ASSERT_TRUE(provider_->waitForHeldStreams(1, 20s)) << curl->describeOutput();
  bool firstEventSeen = false;
  for (int attempt = 0; attempt < 400 && !firstEventSeen; ++attempt) {
    firstEventSeen = curl->stdoutText().find("chat.completion.chunk") != std::string::npos;
    if (!firstEventSeen) std::this_thread::sleep_for(25ms);
  }
  EXPECT_TRUE(firstEventSeen) << curl->describeOutput();
  EXPECT_EQ(curl->stdoutText().find("[DONE]"), std::string::npos) << "held events arrived";
  provider_->releaseStreams();
  auto exitCode = curl->wait(30s);
  ASSERT_OK(exitCode);
  ASSERT_EQ(*exitCode, 0) << curl->describeOutput();
  EXPECT_NE(curl->stdoutText().find("data: [DONE]"), std::string::npos) << curl->stdoutText();

  auto requests = provider_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("Expect"), "100-continue");
  EXPECT_EQ(requests[0].body, plain);
  EXPECT_EQ(requests[1].body, streamed);
  EXPECT_EQ(requests[0].connection, 0u);
  EXPECT_EQ(requests[1].connection, 0u);
  EXPECT_EQ(provider_->connectionCount(), 1u);
}

}  // namespace
}  // namespace shadowai::test
