// Hostile workloads and providers against the real shadowaid: whatever one call holds, the daemon
// stays up and goes on serving every other workload. Checked as a user would: what the client got,
// what the provider received (nothing, for a refused request), what journald holds, and that the
// next call of an official SDK still works.
#include <gtest/gtest.h>

#include "support/intercept_fixture.h"

namespace shadowai::test {
namespace {

class HostileInputTest : public InterceptFixture {
 protected:
  // The daemon is alive and an ordinary SDK call still goes through.
  void expectStillServing() {
    ASSERT_TRUE(daemon_->running()) << "shadowaid died\n" << daemon_->describeOutput();
    auto result = call(SdkClient::kOpenAi, {"--api", "chat"});
    ASSERT_OK(result);
    EXPECT_TRUE(result->ok) << result->line.dump() << daemon_->describeOutput();
    EXPECT_EQ(result->text, kFakeProviderDefaultAnswer);
  }

  // BYTES written as they are over TLS to api.openai.com from the enforced workload (openssl
  // s_client, trusting the daemon's CA); what came back until the proxy closed the connection.
  Result<std::string> rawTls(const std::string& bytes) {
    const std::string path = dir_->filePath("raw-request.txt");
    if (!writeFileAtomic(path, bytes)) return makeError("cannot write " + path);
    auto client = ChildProcess::spawn({"sh", "-c",
                                       "exec openssl s_client -quiet -ign_eof -verify_return_error -connect "
                                       "api.openai.com:443 -servername api.openai.com -CAfile \"$1\" < \"$2\"",
                                       "raw-tls", daemonCaPath(), path},
                                      inWorkload());
    if (!client) return client.error();
    auto exitCode = client->wait(30s);
    if (!exitCode) return exitCode.error();
    return client->stdoutText();
  }

  // curl POSTs the file BODY to URL from the enforced workload; "STATUS nnn" ends its output.
  Result<CurlResult> post(const std::string& url, const std::string& body) {
    const std::string path = dir_->filePath("body.json");
    if (!writeFileAtomic(path, body)) return makeError("cannot write " + path);
    return curl({"-sS", "-H", "Content-Type: application/json", "--data-binary", "@" + path, "-w",
                 "\nSTATUS %{http_code}", url});
  }
};

constexpr size_t kLevels = 100'000;

std::string nestedArrays(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }
std::string nestedObjects(size_t levels) {
  std::string text;
  text.reserve(levels * 6 + 2);
  for (size_t i = 0; i < levels; ++i) text += R"({"a":)";
  return text + "{}" + std::string(levels, '}');
}

// 10^5 levels of arrays or objects in every place a request body can hold them, for each API: each
// is refused with a 400 in the provider's own error shape, the provider never hears of it, the call
// is one journal record, and the daemon serves on.
TEST_F(HostileInputTest, DeeplyNestedRequestsAreRefusedWith400AndTheDaemonServesOn) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::string chat = "https://api.openai.com/v1/chat/completions";
  const std::string anthropic = "https://api.anthropic.com/v1/messages";
  const std::string gemini = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent";
  const std::string arrays = nestedArrays(kLevels);
  const std::string objects = nestedObjects(kLevels);
  struct Case {
    std::string name, url, body;
  };
  const std::vector<Case> cases = {
      {"openai extra field", chat,
       R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"metadata_x":)" + arrays + "}"},
      {"openai content part", chat,
       R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Hi","x":)" + objects +
           "}]}]}"},
      {"openai tool parameters", chat,
       R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":)"
       R"({"name":"f","parameters":)" + objects + "}}]}"},
      {"openai unclosed messages", chat, R"({"model":"gpt-4o","messages":)" + std::string(kLevels, '[')},
      {"anthropic tool input", anthropic,
       R"({"model":"claude-3-5-haiku-latest","max_tokens":10,"messages":[{"role":"assistant","content":)"
       R"([{"type":"tool_use","id":"t","name":"f","input":)" + objects + "}]}]}"},
      {"gemini function args", gemini,
       R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":)" + arrays + "}}]}]}"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.name);
    auto result = post(test.url, test.body);
    ASSERT_OK(result);
    ASSERT_TRUE(daemon_->running()) << "shadowaid died\n" << daemon_->describeOutput();
    EXPECT_NE(result->output.find("STATUS 400"), std::string::npos) << result->output << result->errors;
    const std::string body = result->output.substr(0, result->output.find("\nSTATUS"));
    json error = json::parse(body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << body;
    EXPECT_TRUE(error.contains("error")) << body;
    EXPECT_NE(body.find("deeper than 128 levels"), std::string::npos) << body;
  }
  EXPECT_TRUE(provider_->requests().empty()) << "a hostile body reached the provider";
  auto records = journal("llm-call-refused", {"SHADOWAI_STATUS=400"}, cases.size());
  EXPECT_EQ(records.size(), cases.size());
  expectStillServing();
}

// A provider's answer (plain or streamed) holding 10^5 levels: the client gets an answer it can tell
// from a good one (a complete error, or a cut stream), and the daemon serves on.
TEST_F(HostileInputTest, DeeplyNestedAnswersAndStreamEventsDoNotTakeTheDaemonDown) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::string request = R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]})";
  const std::string chat = "https://api.openai.com/v1/chat/completions";

  FakeReply plain;
  plain.body = R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",)"
               R"("content":"Hello"}}],"x":)" + nestedArrays(kLevels) + "}";
  provider_->setFixedReply(plain);
  auto answered = post(chat, request);
  ASSERT_OK(answered);
  ASSERT_TRUE(daemon_->running()) << "shadowaid died\n" << daemon_->describeOutput();
  EXPECT_NE(answered->output.find("\nSTATUS "), std::string::npos) << answered->errors;

  FakeReply stream;
  stream.contentType = "text/event-stream";
  stream.body = "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                "{\"content\":\"Hel\"}}]}\n\n"
                "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                "{\"content\":\"lo\"}}],\"x\":" + nestedObjects(kLevels) + "}\n\ndata: [DONE]\n\n";
  provider_->setFixedReply(stream);
  auto streamed = post(chat, R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_OK(streamed);
  ASSERT_TRUE(daemon_->running()) << "shadowaid died\n" << daemon_->describeOutput();
  // The default policy masks answers: an event that cannot be read cannot be masked, so the stream is
  // cut before it (curl reports the incomplete chunked answer) and [DONE] never arrives.
  EXPECT_NE(streamed->exitCode, 0) << streamed->output;
  EXPECT_EQ(streamed->output.find("[DONE]"), std::string::npos) << streamed->output;
  auto records = journal("llm-call-blocked", {"SHADOWAI_RULE=masking"}, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].value("SHADOWAI_REASON", "").find("deeper than 128 levels"), std::string::npos)
      << records[0].dump();

  provider_->clearFixedReply();
  expectStillServing();
}

// journald stops reading (SIGSTOP, as when it is stuck on a slow disk) while workloads call: every
// intercepted call and every spliced connection completes as usual, status shows the call records
// waiting, and once journald reads again every record is in the journal. The test's network
// namespace keeps the kernel's default of 10 queued datagrams per socket, so a daemon that wrote
// alerts from its proxy thread would block there on the eleventh.
TEST_F(HostileInputTest, AFrozenJournaldStallsNoCallAndLosesNoRecord) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  TlsServerOptions siteOptions;
  siteOptions.address = kOtherAddress;
  siteOptions.port = 443;
  siteOptions.certPath = leaf_.certPath;
  siteOptions.keyPath = leaf_.keyPath;
  auto site = TlsTestServer::start(siteOptions);
  ASSERT_OK(site);
  const std::string chat = "https://api.openai.com/v1/chat/completions";
  const std::string request = R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]})";

  ASSERT_OK(journald_.pauseForTest());
  TestJournald::ResumeAtExit resumeEvenOnFailure{journald_};
  constexpr int kCalls = 24;
  for (int i = 0; i < kCalls; ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    // --max-time: a proxy thread waiting for journald would leave the call hanging.
    auto called = curl({"-sS", "--max-time", "10", "-H", "Content-Type: application/json", "-d", request, "-w",
                        "\nSTATUS %{http_code}", chat});
    ASSERT_OK(called);
    ASSERT_EQ(called->exitCode, 0) << called->errors << daemon_->describeOutput();
    EXPECT_NE(called->output.find("STATUS 200"), std::string::npos) << called->output;
    if (i % 8 == 0) {
      auto spliced = curl({"-sS", "-k", "--max-time", "10", "--resolve",
                           std::string("www.not-an-llm.test:443:") + kOtherAddress, "https://www.not-an-llm.test/"});
      ASSERT_OK(spliced);
      ASSERT_EQ(spliced->exitCode, 0) << spliced->errors;
      EXPECT_NE(spliced->output.find("shadowai-test"), std::string::npos) << spliced->output;
    }
  }
  json paused = status();
  const json& alerts = paused["alerts"];
  EXPECT_GT(alerts["queued"].get<int>(), 0) << "records were expected to wait for journald" << paused.dump(2);
  EXPECT_EQ(alerts["lost_queue_full"], 0) << paused.dump(2);

  ASSERT_OK(journald_.resumeForTest());
  auto records = journal("llm-call-intercepted", {"SHADOWAI_STATUS=200"}, kCalls);
  EXPECT_EQ(records.size(), static_cast<size_t>(kCalls));
  json after = status();
  EXPECT_EQ(after["alerts"]["queued"], 0) << after.dump(2);
  EXPECT_EQ(after["alerts"]["lost_queue_full"], 0) << after.dump(2);
  EXPECT_EQ(after["alerts"]["lost_refused"], 0) << after.dump(2);
  EXPECT_GE(after["alerts"]["delivered"].get<int>(), kCalls) << after.dump(2);
}

// RFC 9112 section 6: a request whose body the proxy and the provider could delimit differently is
// answered with 400 and the connection closed, before any of it reaches the provider; what follows
// it on the connection (here a smuggled second request) is never parsed as a request. Sent raw over
// TLS with openssl s_client from the enforced workload, as a hostile workload would.
TEST_F(HostileInputTest, RequestsWithUntrustworthyFramingAreRefusedAndNothingReachesTheProvider) {
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const std::string smuggled =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n{}";
  const std::string chunk = "4\r\n{}  \r\n0\r\n\r\n";
  auto request = [](const std::string& version, const std::string& framing, const std::string& body) {
    return "POST /v1/chat/completions " + version + "\r\nHost: api.openai.com\r\nContent-Type: application/json\r\n" +
           "Authorization: Bearer placeholder\r\n" + framing + "\r\n" + body;
  };
  struct Case {
    std::string name, bytes;
  };
  const std::vector<Case> cases = {
      {"chunked not last", request("HTTP/1.1", "Transfer-Encoding: chunked, identity\r\n", chunk + smuggled)},
      {"identity alone", request("HTTP/1.1", "Transfer-Encoding: identity\r\n", smuggled)},
      {"another coding before chunked", request("HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n", chunk)},
      {"chunked twice in one field", request("HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n", chunk)},
      {"chunked in two fields", request("HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunk)},
      {"Transfer-Encoding in HTTP/1.0", request("HTTP/1.0", "Transfer-Encoding: chunked\r\n", chunk)},
      {"Content-Length and Transfer-Encoding", request("HTTP/1.1", "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", chunk)},
      {"Transfer-Encoding and Content-Length", request("HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", chunk)},
      {"differing Content-Length list", request("HTTP/1.1", "Content-Length: 2, 40\r\n", "{}" + smuggled)},
      {"two differing Content-Length fields", request("HTTP/1.1", "Content-Length: 2\r\nContent-Length: 40\r\n", "{}" + smuggled)},
      {"Content-Length not a number", request("HTTP/1.1", "Content-Length: +2\r\n", "{}" + smuggled)},
      {"obs-fold hiding a coding", request("HTTP/1.1", "Transfer-Encoding: identity\r\n ,chunked\r\n", chunk)},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.name);
    auto answer = rawTls(test.bytes);
    ASSERT_OK(answer);
    EXPECT_EQ(answer->rfind("HTTP/1.1 400 ", 0), 0u) << *answer;
    size_t responses = 0;
    // Status lines: "HTTP/1.x" at the start of the answer or of a line.
    for (size_t at = answer->find("HTTP/1."); at != std::string::npos; at = answer->find("HTTP/1.", at + 1)) {
      if (at == 0 || (*answer)[at - 1] == '\n') ++responses;
    }
    EXPECT_EQ(responses, 1u) << "the rest of the connection was read as another request:\n" << *answer;
  }
  EXPECT_TRUE(provider_->requests().empty()) << "a request with untrustworthy framing reached the provider";

  // The control: the same request, chunked as RFC 9112 allows, goes through whole.
  auto good = rawTls(request("HTTP/1.1", "Transfer-Encoding: chunked\r\nConnection: close\r\n",
                             "1e\r\n{\"model\":\"gpt-4o\",\"messages\":[\r\n2\r\n]}\r\n0\r\n\r\n"));
  ASSERT_OK(good);
  EXPECT_EQ(good->rfind("HTTP/1.1 200 ", 0), 0u) << *good;
  ASSERT_EQ(provider_->requests().size(), 1u);
  EXPECT_EQ(lastRequest().body, R"({"model":"gpt-4o","messages":[]})");
}

// A resident-memory figure of a process from /proc/PID/status ("VmRSS", "VmHWM"), in bytes.
uint64_t memoryOf(pid_t pid, const std::string& field) {
  auto status = readFile("/proc/" + std::to_string(pid) + "/status");
  if (!status) return 0;
  const size_t at = status->find(field + ":");
  if (at == std::string::npos) return 0;
  return std::stoull(status->substr(at + field.size() + 1)) * 1024;  // "VmRSS:   1234 kB"
}

// 20 workloads send a 30 MiB prompt each at once against a budget of 256 MiB: the calls that fit
// are served whole, the others are refused at once with the provider's 503 (which SDKs retry), the
// daemon's resident memory never goes past its start plus the budget plus a fixed overhead, and it
// falls back near where it started once the calls are over.
TEST_F(HostileInputTest, ConcurrentLargePromptsStayWithinTheMemoryBudget) {
  constexpr uint64_t kBudget = 256ull << 20;
  constexpr uint64_t kOverhead = 96ull << 20;  // TLS and HTTP buffers, allocator slack, threads
  writeConfig({{"max_buffered_bytes", kBudget}});
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const pid_t daemonPid = daemon_->pid();
  const uint64_t before = memoryOf(daemonPid, "VmRSS");
  ASSERT_GT(before, 0u);

  std::string prose;
  const std::string sentence = "the quarterly report lists every region and its revenue in detail. ";
  while (prose.size() < (30u << 20)) prose += sentence;
  const std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":")" + prose + R"("}]})";
  const std::string path = dir_->filePath("large-prompt.json");
  ASSERT_TRUE(writeFileAtomic(path, body));

  constexpr int kClients = 20;
  std::vector<ChildProcess> clients;
  for (int i = 0; i < kClients; ++i) {
    auto client = ChildProcess::spawn({"curl", "-q", "-sS", "--http1.1", "--max-time", "120", "--cacert",
                                       daemonCaPath(), "-H", "Content-Type: application/json", "--data-binary",
                                       "@" + path, "-o", "/dev/null", "-w", "%{http_code}",
                                       "https://api.openai.com/v1/chat/completions"},
                                      inWorkload());
    ASSERT_OK(client);
    clients.push_back(std::move(*client));
  }
  int served = 0, refused = 0;
  for (auto& client : clients) {
    auto exitCode = client.wait(150s);
    ASSERT_OK(exitCode);
    const std::string code = client.stdoutText();
    if (code == "200") {
      ++served;
    } else if (code == "503") {
      ++refused;
    } else {
      ADD_FAILURE() << "unexpected answer " << code << ": " << client.stderrText();
    }
  }
  EXPECT_GE(served, 1) << "no call fitted the budget";
  EXPECT_GE(refused, 1) << "the budget refused nothing";
  EXPECT_EQ(served + refused, kClients);
  EXPECT_EQ(provider_->requests().size(), static_cast<size_t>(served)) << "a refused prompt reached the provider";
  for (const auto& received : provider_->requests()) EXPECT_EQ(received.body.size(), body.size());

  const uint64_t peak = memoryOf(daemonPid, "VmHWM");
  EXPECT_LE(peak, before + kBudget + kOverhead)
      << "peak RSS " << (peak >> 20) << " MiB, started at " << (before >> 20) << " MiB";
  json after = status();
  EXPECT_EQ(after["intercept"]["buffered_bytes"], 0) << after.dump(2);
  EXPECT_EQ(after["intercept"]["max_buffered_bytes"], kBudget);
  EXPECT_GE(after["intercept"]["refused_over_budget"].get<int>(), refused);
  auto refusals = journal("llm-call-refused", {"SHADOWAI_STATUS=503"}, static_cast<size_t>(refused));
  EXPECT_EQ(refusals.size(), static_cast<size_t>(refused));
  // Freed memory goes back to the host (the daemon trims every 5 s).
  uint64_t settled = memoryOf(daemonPid, "VmRSS");
  for (int i = 0; i < 100 && settled > before + (48ull << 20); ++i) {
    std::this_thread::sleep_for(200ms);
    settled = memoryOf(daemonPid, "VmRSS");
  }
  EXPECT_LE(settled, before + (48ull << 20))
      << "RSS stayed at " << (settled >> 20) << " MiB after the calls, started at " << (before >> 20) << " MiB";
  expectStillServing();
}

// Rounds of 3 000 intercepted TLS connections, held idle and then dropped: after each, once the
// proxy has let them go, the daemon's resident memory falls back near where it started (freed heap
// is given back to the host), rather than climbing from one flood to the next.
TEST_F(HostileInputTest, RepeatedConnectionFloodsGiveTheirMemoryBack) {
  constexpr int kConnections = 3000;
  constexpr int kRounds = 3;
  constexpr uint64_t kSlack = 48ull << 20;  // allocator slack (fragments around live objects), caches
  startEnforcing();
  ASSERT_FALSE(HasFatalFailure());
  const pid_t daemonPid = daemon_->pid();
  expectStillServing();  // the first call fills what every call shares (certificates, the pool)
  // Settled: the daemon returns freed heap every 5 s.
  std::this_thread::sleep_for(6s);
  const uint64_t before = memoryOf(daemonPid, "VmRSS");
  ASSERT_GT(before, 0u);
  for (int round = 0; round < kRounds; ++round) {
    auto holder = ChildProcess::spawn({SHADOWAI_HOLD_CONNECTIONS_BINARY, kProviderAddress, "443",
                                       std::to_string(kConnections), "tls", "api.openai.com"},
                                      inWorkload());
    ASSERT_OK(holder);
    for (int i = 0; i < 1200 && holder->stdoutText().find("opened=") == std::string::npos; ++i) {
      ASSERT_TRUE(holder->running()) << holder->describeOutput();
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(holder->stdoutText(), "opened=" + std::to_string(kConnections) + "\n") << holder->describeOutput();
    const uint64_t held = memoryOf(daemonPid, "VmRSS");
    json during = status();
    EXPECT_GE(during["proxy"]["active"].get<int>(), kConnections) << during["proxy"].dump(2);
    ASSERT_OK(holder->sendSignal(SIGKILL));
    ASSERT_OK(holder->wait(10s));
    for (int i = 0; i < 200 && status()["proxy"]["active"] != 0; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_EQ(status()["proxy"]["active"], 0) << "the proxy still holds connections of round " << round;
    uint64_t settled = memoryOf(daemonPid, "VmRSS");
    for (int i = 0; i < 100 && settled > before + kSlack; ++i) {
      std::this_thread::sleep_for(200ms);
      settled = memoryOf(daemonPid, "VmRSS");
    }
    std::printf("round %d: RSS %llu MiB before, %llu MiB with %d connections held, %llu MiB after\n", round,
                static_cast<unsigned long long>(before >> 20), static_cast<unsigned long long>(held >> 20),
                kConnections, static_cast<unsigned long long>(settled >> 20));
    EXPECT_LE(settled, before + kSlack) << "round " << round << ": RSS stayed at " << (settled >> 20)
                                        << " MiB after the connections closed, started at " << (before >> 20) << " MiB";
  }
  expectStillServing();
}

}  // namespace
}  // namespace shadowai::test
