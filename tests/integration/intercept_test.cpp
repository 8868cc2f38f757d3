// TLS interception end to end: the real shadowaid enforcing a test cgroup, the official SDKs
// (tests/clients) and curl running in that cgroup against the real host names, a FakeProvider posing as
// api.openai.com, api.anthropic.com and generativelanguage.googleapis.com behind the test's own
// /etc/hosts, and the daemon's journal. What is checked is what users check: what the provider
// received (the managed key, never the placeholder), what the client got (the answer, or an error its
// SDK understands), and what journald holds (one record per call, no key).
#include <gtest/gtest.h>

#include "support/intercept_fixture.h"

namespace shadowai::test {
namespace {

class InterceptTest : public InterceptFixture {};

// Each provider's SDK, a plain and a streamed call: the answer arrives, the provider saw the managed key
// and not the workload's placeholder, and each call is one journal record naming the key by its label.
TEST_F(InterceptTest, SdkCallsGoThroughWithTheManagedKeyInPlaceOfThePlaceholder) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  struct Case {
    SdkClient client;
    std::vector<std::string> args;
    std::string header;
    std::string expected;
    std::string api;
  };
  const std::vector<Case> cases = {
      {SdkClient::kOpenAi, {"--api", "chat", "--model", "gpt-4o-mini"}, "Authorization",
       std::string("Bearer ") + kManagedOpenAi, "openai-chat"},
      {SdkClient::kAnthropic, {"--model", "claude-3-5-haiku-latest"}, "x-api-key", kManagedAnthropic,
       "anthropic-messages"},
      {SdkClient::kGemini, {"--model", "gemini-2.0-flash"}, "x-goog-api-key", kManagedGemini, "gemini-generate"},
  };
  size_t calls = 0;
  for (const Case& test : cases) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(std::string(sdkClientHost(test.client)) + (stream ? " streamed" : " plain"));
      std::vector<std::string> args = test.args;
      if (stream) args.emplace_back("--stream");
      auto result = call(test.client, args);
      ASSERT_OK(result);
      ASSERT_TRUE(result->ok) << result->line.dump() << daemon_->describeOutput();
      EXPECT_EQ(result->text, kFakeProviderDefaultAnswer);
      if (stream) {
        EXPECT_GT(result->events, 1);
      }
      EXPECT_EQ(result->line.dump().find("managed"), std::string::npos) << "the client saw the managed key";
      ++calls;
      ASSERT_EQ(provider_->requests().size(), calls);
      FakeProviderRequest request = lastRequest();
      EXPECT_EQ(request.sni, sdkClientHost(test.client));
      EXPECT_EQ(request.header(test.header), test.expected);
      for (const auto& [name, value] : request.headers) {
        EXPECT_EQ(value.find(sdkClientDefaultKey(test.client)), std::string::npos)
            << "the placeholder key reached the provider in " << name;
      }
      EXPECT_EQ(request.target.find(sdkClientDefaultKey(test.client)), std::string::npos);

      auto records = journal("llm-call-intercepted",
                             {"SHADOWAI_HOST=" + std::string(sdkClientHost(test.client)),
                              std::string("SHADOWAI_STREAMING=") + (stream ? "true" : "false")},
                             1);
      ASSERT_EQ(records.size(), 1u);
      EXPECT_EQ(records[0]["SHADOWAI_API"], test.api);
      EXPECT_EQ(records[0]["SHADOWAI_STATUS"], "200");
      EXPECT_EQ(records[0]["SHADOWAI_CREDENTIAL"], "managed");
      EXPECT_EQ(records[0]["SHADOWAI_CGROUP"], workload_->relativePath());
      EXPECT_EQ(records[0]["SHADOWAI_COMM"], "node");
      EXPECT_TRUE(records[0].contains("SHADOWAI_FINGERPRINT")) << "the placeholder's fingerprint is recorded";
      EXPECT_FALSE(records[0].value("SHADOWAI_MODEL", "").empty()) << records[0].dump();
      if (stream) {
        EXPECT_GT(std::stoi(records[0].value("SHADOWAI_STREAMED_EVENTS", "0")), 1);
      }
    }
  }
  expectNoManagedKeyLogged();
  // The workloads' calls (each from its own process and client connection) shared upstream
  // connections: the plain and the streamed call of each provider came on one connection.
  const auto requests = provider_->requests();
  ASSERT_EQ(requests.size(), 6u);
  for (size_t i = 0; i < requests.size(); i += 2) {
    EXPECT_EQ(requests[i].connection, requests[i + 1].connection) << "no upstream connection reuse for " << requests[i].sni;
  }
  json after = status();
  EXPECT_EQ(after["proxy"]["intercepted_connections"], static_cast<int>(calls)) << after.dump(2);
  // The provider's address is a catalog address (the test's /etc/hosts names it, and the daemon
  // reads /etc/hosts): every connection there waited for its verdict, so no connect went to waste.
  EXPECT_EQ(after["proxy"]["early_connects"], 0) << after.dump(2);
  EXPECT_EQ(provider_->failedHandshakes(), 0u) << "an early connect was wasted";
}

TEST_F(InterceptTest, OtherOpenAiApisAreUnderstoodAndRecorded) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  for (const auto& [api, kind] : std::vector<std::pair<std::string, std::string>>{
           {"responses", "openai-responses"}, {"completions", "openai-completions"}, {"embeddings", "openai-embeddings"}}) {
    SCOPED_TRACE(api);
    auto result = call(SdkClient::kOpenAi, {"--api", api, "--model", "test-model-" + api});
    ASSERT_OK(result);
    ASSERT_TRUE(result->ok) << result->line.dump();
    auto records = journal("llm-call-intercepted", {"SHADOWAI_API=" + kind}, 1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["SHADOWAI_MODEL"], "test-model-" + api);
  }
  auto streamed = call(SdkClient::kOpenAi, {"--api", "responses", "--stream"});
  ASSERT_OK(streamed);
  ASSERT_TRUE(streamed->ok) << streamed->line.dump();
  EXPECT_EQ(streamed->text, kFakeProviderDefaultAnswer);
}

// require-managed, and no key for Anthropic: its SDK gets a 403 in Anthropic's own error shape that
// says shadowai refused it, and the provider never hears of the call.
TEST_F(InterceptTest, WorkloadWithoutTheManagedKeyItMustUseGetsAProviderShaped403) {
  ASSERT_TRUE(writeFileAtomic(credentialsPath(), json{{"mode", "require-managed"},
                                                      {"keys", {{{"provider", "openai"}, {"key", kManagedOpenAi}}}}}
                                                     .dump()));
  ASSERT_EQ(::chmod(credentialsPath().c_str(), 0600), 0);
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  for (const char* sdk : {"current", "0"}) {
    auto refused = call(SdkClient::kAnthropic, {"--sdk", sdk});
    ASSERT_OK(refused);
    EXPECT_FALSE(refused->ok) << refused->line.dump();
    EXPECT_EQ(refused->status, 403) << refused->line.dump();
    EXPECT_EQ(refused->errorType, "permission_error") << refused->line.dump();
    EXPECT_NE(refused->message.find("shadowai refused this call"), std::string::npos) << refused->message;
    EXPECT_NE(refused->message.find("managed key"), std::string::npos) << refused->message;
  }
  EXPECT_TRUE(provider_->requests().empty());
  auto records = journal("llm-call-refused", {"SHADOWAI_HOST=api.anthropic.com", "SHADOWAI_STATUS=403"}, 2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["SHADOWAI_ACTION"], "refused");

  auto allowed = call(SdkClient::kOpenAi, {"--api", "chat"});
  ASSERT_OK(allowed);
  EXPECT_TRUE(allowed->ok) << allowed->line.dump();
}

TEST_F(InterceptTest, PassThroughModeKeepsTheWorkloadsOwnKey) {
  writeCredentials("pass-through", /*withKeys=*/false);
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  auto result = call(SdkClient::kGemini, {"--api-key", "AIza-the-workloads-own-key"});
  ASSERT_OK(result);
  ASSERT_TRUE(result->ok) << result->line.dump();
  EXPECT_EQ(lastRequest().header("x-goog-api-key"), "AIza-the-workloads-own-key");
  auto records = journal("llm-call-intercepted", {"SHADOWAI_CREDENTIAL=client"}, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].dump().find("AIza-the-workloads-own-key"), std::string::npos) << "a key reached the journal";
}

// A body over the limit is refused with 413 before it is read (the client waits for 100-continue),
// and the provider sees nothing; a small one with Expect: 100-continue goes through.
TEST_F(InterceptTest, OversizedBodyIs413AndExpectContinueWorks) {
  writeConfig({{"max_request_body_bytes", 65536}});
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::string big = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":")" +
                          std::string(200000, 'x') + R"("}]})";
  ASSERT_TRUE(writeFileAtomic(dir_->filePath("big.json"), big));
  auto refused = curl({"-sS", "-H", "Content-Type: application/json", "-H", "Authorization: Bearer placeholder",
                       "--data-binary", "@" + dir_->filePath("big.json"), "-w", "\nSTATUS %{http_code}",
                       "https://api.openai.com/v1/chat/completions"});
  ASSERT_OK(refused);
  EXPECT_NE(refused->output.find("STATUS 413"), std::string::npos) << refused->output << refused->errors;
  const std::string body = refused->output.substr(0, refused->output.find("\nSTATUS"));
  json error = json::parse(body, nullptr, false);
  ASSERT_TRUE(error.is_object()) << body;
  EXPECT_NE(error["error"]["message"].get<std::string>().find("larger than the limit"), std::string::npos) << body;
  EXPECT_TRUE(provider_->requests().empty());

  auto accepted = curl({"-sS", "-H", "Content-Type: application/json", "-H", "Expect: 100-continue",
                        "--expect100-timeout", "30", "-d", R"({"model":"gpt-4o-mini","messages":[]})", "-w",
                        "\nSTATUS %{http_code}", "https://api.openai.com/v1/chat/completions"});
  ASSERT_OK(accepted);
  EXPECT_NE(accepted->output.find("STATUS 200"), std::string::npos) << accepted->output << accepted->errors;
  ASSERT_EQ(provider_->requests().size(), 1u);
  EXPECT_EQ(lastRequest().header("Expect"), "") << "Expect must not cross the proxy";
}

// Two requests on one kept-alive client connection: one accepted connection at the proxy.
TEST_F(InterceptTest, KeepAliveCarriesSeveralCallsOnOneConnection) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::string url = "https://api.openai.com/v1/chat/completions";
  const std::string body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]})";
  auto result = curl({"-sS", "-H", "Content-Type: application/json", "-d", body, "-w", "\nSTATUS %{http_code}\n", url,
                      "--next", "--cacert", daemonCaPath(), "-H", "Content-Type: application/json", "-d", body, "-w",
                      "\nSTATUS %{http_code}\n", url});
  ASSERT_OK(result);
  ASSERT_EQ(result->exitCode, 0) << result->errors;
  size_t ok = 0;
  for (size_t at = result->output.find("STATUS 200"); at != std::string::npos; at = result->output.find("STATUS 200", at + 1)) ++ok;
  EXPECT_EQ(ok, 2u) << result->output;
  EXPECT_EQ(provider_->requests().size(), 2u);
  EXPECT_EQ(status()["proxy"]["accepted"], 1);
}

// The provider's certificate does not chain to the configured bundle: the client gets a 502 saying
// so, in the provider's error shape.
TEST_F(InterceptTest, ProviderWithAnUntrustedCertificateIsA502) {
  std::filesystem::create_directories(dir_->filePath("other-ca"));
  auto otherCa = TestCa::create(dir_->filePath("other-ca"));
  ASSERT_OK(otherCa);
  writeConfig({{"upstream_ca_bundle", otherCa->certPath()}});
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  auto result = call(SdkClient::kOpenAi, {"--api", "chat"});
  ASSERT_OK(result);
  EXPECT_FALSE(result->ok) << result->line.dump();
  EXPECT_EQ(result->status, 502) << result->line.dump();
  EXPECT_NE(result->message.find("certificate"), std::string::npos) << result->message;
  EXPECT_NE(result->message.find("api.openai.com"), std::string::npos) << result->message;
  EXPECT_TRUE(provider_->requests().empty());
  auto records = journal("llm-call-refused", {"SHADOWAI_STATUS=502", "SHADOWAI_ACTION=upstream-failed"}, 1);
  ASSERT_EQ(records.size(), 1u);
}

// A provider that takes longer than response_timeout_ms: 504 in the provider's error shape.
TEST_F(InterceptTest, ProviderThatDoesNotAnswerInTimeIsA504) {
  writeConfig({{"response_timeout_ms", 300}});
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  // A second provider, which holds every request well past the proxy's limit before answering.
  TlsServerOptions options;
  options.address = kOtherAddress;
  options.port = 443;
  options.certPath = leaf_.certPath;
  options.keyPath = leaf_.keyPath;
  options.handler = [](const RecordedRequest&) {
    std::this_thread::sleep_for(3s);
    return TlsResponse{};
  };
  auto slow = TlsTestServer::start(options);
  ASSERT_OK(slow);
  pointHostsAt(kOtherAddress);
  auto result = call(SdkClient::kAnthropic, {});
  ASSERT_OK(result);
  EXPECT_FALSE(result->ok) << result->line.dump();
  EXPECT_EQ(result->status, 504) << result->line.dump();
  EXPECT_NE(result->message.find("within 300 ms"), std::string::npos) << result->message;
  auto records = journal("llm-call-refused", {"SHADOWAI_STATUS=504"}, 1);
  ASSERT_EQ(records.size(), 1u);
}

// A streamed answer reaches the workload event by event: the provider holds its stream after the
// first event, and the workload (curl in the enforced cgroup) has that event meanwhile. Proven by
// order, not by timing.
TEST_F(InterceptTest, StreamedAnswerIsRelayedEventByEventNotBuffered) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  provider_->holdStreamsAfterFirstEvent();
  SpawnOptions options = inWorkload();
  auto curl = ChildProcess::spawn({"curl", "-q", "-sS", "-N", "--http1.1", "--max-time", "30", "--cacert", daemonCaPath(),
                                   "-H", "Content-Type: application/json", "-d",
                                   R"({"model":"claude-3-5-haiku-latest","max_tokens":64,"stream":true,)"
                                   R"("messages":[{"role":"user","content":"Hi"}]})",
                                   "https://api.anthropic.com/v1/messages"},
                                  options);
  ASSERT_OK(curl);
  ASSERT_TRUE(provider_->waitForHeldStreams(1, 20s)) << curl->describeOutput() << daemon_->describeOutput();
  bool firstEventSeen = false;
  for (int attempt = 0; attempt < 400 && !firstEventSeen; ++attempt) {
    firstEventSeen = curl->stdoutText().find("message_start") != std::string::npos;
    if (!firstEventSeen) std::this_thread::sleep_for(25ms);
  }
  EXPECT_TRUE(firstEventSeen) << "the first event did not reach the workload while the rest was held\n"
                              << curl->describeOutput();
  EXPECT_EQ(curl->stdoutText().find("message_stop"), std::string::npos);
  provider_->releaseStreams();
  auto exitCode = curl->wait(30s);
  ASSERT_OK(exitCode);
  EXPECT_EQ(*exitCode, 0) << curl->describeOutput();
  EXPECT_NE(curl->stdoutText().find("message_stop"), std::string::npos) << curl->stdoutText();
  auto records = journal("llm-call-intercepted", {"SHADOWAI_API=anthropic-messages", "SHADOWAI_STREAMING=true"}, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["SHADOWAI_OUTPUT_TOKENS"], "5") << records[0].dump();
}

// Gemini keys may come in the query (?key=): removed, and the managed key sent as x-goog-api-key.
// A path the adapters do not know is still proxied and recorded as the `unknown` API.
TEST_F(InterceptTest, QueryKeyIsStrippedAndUnknownPathsAreProxiedAndRecorded) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  auto result = curl({"-sS", "-H", "Content-Type: application/json", "-d",
                      R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})", "-w", "\nSTATUS %{http_code}",
                      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?"
                      "key=AIza-placeholder-in-query&alt=json"});
  ASSERT_OK(result);
  EXPECT_NE(result->output.find("STATUS 200"), std::string::npos) << result->output << result->errors;
  FakeProviderRequest request = lastRequest();
  EXPECT_EQ(request.target, "/v1beta/models/gemini-2.0-flash:generateContent?alt=json");
  EXPECT_EQ(request.header("x-goog-api-key"), kManagedGemini);

  auto unknown = curl({"-sS", "-H", "Authorization: Bearer placeholder", "-w", "\nSTATUS %{http_code}",
                       "https://api.openai.com/v1/some/future/api?x=1"});
  ASSERT_OK(unknown);
  EXPECT_NE(unknown->output.find("STATUS 404"), std::string::npos) << "the provider's own answer" << unknown->output;
  EXPECT_EQ(lastRequest().target, "/v1/some/future/api?x=1");
  auto records = journal("llm-call-intercepted", {"SHADOWAI_API=unknown"}, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["SHADOWAI_PATH"], "/v1/some/future/api");
  EXPECT_EQ(records[0]["SHADOWAI_STATUS"], "404");
}

// A credentials file others can read is refused: the daemon does not start, and says why in one line
// that names the file and never quotes a key.
TEST_F(InterceptTest, CredentialsFileReadableByOthersStopsTheDaemon) {
  writeConfig();
  writeCredentials("require-managed");
  ASSERT_EQ(::chmod(credentialsPath().c_str(), 0644), 0);
  RunResult refused = run({SHADOWAI_DAEMON_BINARY, "--config", configPath()});
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.err.find(credentialsPath()), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("chmod"), std::string::npos) << "the error should say what to do: " << refused.err;
  for (const char* key : {kManagedOpenAi, kManagedAnthropic, kManagedGemini}) {
    EXPECT_EQ((refused.out + refused.err).find(key), std::string::npos);
  }
}

// Domain fronting: the TLS server name is the catalog host, the Host header another site that a
// shared front end would route to, managed key included. Refused with 421; nothing goes upstream.
TEST_F(InterceptTest, HostHeaderOtherThanTheServerNameIsRefusedWith421) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  auto fronted = curl({"-sS", "-H", "Host: attacker.example", "-H", "Content-Type: application/json", "-d",
                       R"({"model":"gpt-4o-mini","messages":[]})", "-w", "\nSTATUS %{http_code}",
                       "https://api.openai.com/v1/chat/completions"});
  ASSERT_OK(fronted);
  EXPECT_NE(fronted->output.find("STATUS 421"), std::string::npos) << fronted->output << fronted->errors;
  EXPECT_NE(fronted->output.find("Host header"), std::string::npos) << fronted->output;
  EXPECT_TRUE(provider_->requests().empty()) << "a fronted request reached the provider";
  auto records = journal("llm-call-refused", {"SHADOWAI_STATUS=421"}, 1);
  ASSERT_EQ(records.size(), 1u);
}

// A target the proxy and the provider could split differently (a malformed %-escape next to a
// query key) is refused with 400 before anything goes upstream.
TEST_F(InterceptTest, MalformedRequestTargetIsRefusedWith400) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  auto malformed = curl({"-sS", "-H", "Content-Type: application/json", "-d", R"({"model":"gpt-4o-mini","messages":[]})",
                         "-w", "\nSTATUS %{http_code}", "https://api.openai.com/v1/chat/completions?ke%y=sk-x&key=y"});
  ASSERT_OK(malformed);
  EXPECT_NE(malformed->output.find("STATUS 400"), std::string::npos) << malformed->output << malformed->errors;
  EXPECT_NE(malformed->output.find("request target"), std::string::npos) << malformed->output;
  EXPECT_TRUE(provider_->requests().empty()) << "a malformed target reached the provider";
  auto records = journal("llm-call-refused", {"SHADOWAI_STATUS=400"}, 1);
  ASSERT_EQ(records.size(), 1u);
}

// A workload that does not trust the host CA cannot talk to the provider at all.
TEST_F(InterceptTest, SdkThatDoesNotTrustTheHostCaFailsAndNothingBypassesTheProxy) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  auto result = runSdkClient(SdkClient::kOpenAi, {"--api", "chat"}, ca_->certPath(), inWorkload());
  ASSERT_OK(result);
  EXPECT_FALSE(result->ok) << result->line.dump();
  EXPECT_EQ(result->status, 0) << "a connection error, not an HTTP answer: " << result->line.dump();
  // The proxy may have started its connect to the provider when it accepted the workload's
  // connection (127.0.0.2 is not an address the catalog knows here): that connection carried no
  // TLS handshake and no byte, and was reset.
  EXPECT_TRUE(provider_->requests().empty());
  for (int attempt = 0; attempt < 100 && provider_->failedHandshakes() != provider_->connectionCount(); ++attempt) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(provider_->failedHandshakes(), provider_->connectionCount()) << "a TLS session reached the provider";
  auto records = journal("intercept-tls-failed", {"SHADOWAI_HOST=api.openai.com"}, 1);
  ASSERT_GE(records.size(), 1u);
}

}  // namespace
}  // namespace shadowai::test
