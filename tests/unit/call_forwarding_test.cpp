// forwardCall without root or a kernel: a workload's TLS client and a provider posing as
// api.openai.com, both on 127.0.0.1 (port 0), with the call between them. What a user checks: which
// key the provider received, what the workload's SDK got back, and the journal entry of the call,
// with no key in it.
#include "intercept/call_forwarding.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "credentials/credential_file.h"
#include "daemon/call_alerts.h"
#include "intercept/upstream_tls_context.h"
#include "observe/env_keys.h"
#include "recording_alert_sink.h"
#include "support/local_ca_for_test.h"
#include "tls/leaf_cert.h"
#include "tls/local_ca.h"

namespace shadowai {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kProviderHost = "api.openai.com";
constexpr const char* kClientKey = "sk-workload-own-key-0123456789";
constexpr const char* kManagedKey = "sk-managed-billing-key-9876543210";
constexpr const char* kProviderAnswer =
    R"({"id": "chatcmpl-1", "model": "gpt-4o-mini", "choices": [{"message": {"role": "assistant", "content": "Hi"}}]})";

// A TLS server context that presents LEAF.
std::unique_ptr<asio::ssl::context> serverContext(const LeafCert& leaf) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  EXPECT_EQ(SSL_CTX_use_certificate(context->native_handle(), leaf.certificate.get()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(context->native_handle(), leaf.key.get()), 1);
  return context;
}

// The provider: answers every request with kProviderAnswer and keeps what it received.
class FakeOpenAi {
 public:
  FakeOpenAi(asio::io_context& io, const LeafCert& leaf)
      : context_(serverContext(leaf)), acceptor_(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    asio::co_spawn(io, acceptLoop(), asio::detached);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }
  const std::vector<http::request<http::string_body>>& requests() const { return requests_; }

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [error, socket] = co_await acceptor_.async_accept(kAwaitTuple);
      if (error) co_return;
      ++connections_;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *context_);
    stream.next_layer().expires_after(10s);
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
    if (handshakeError) co_return;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [readError, read] = co_await http::async_read(stream, buffer, request, kAwaitTuple);
    if (readError) co_return;
    requests_.push_back(request);
    http::response<http::string_body> response(http::status::ok, 11);
    response.set(http::field::content_type, "application/json");
    response.body() = kProviderAnswer;
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response, kAwaitTuple);
    co_await stream.async_shutdown(kAwaitTuple);
  }

  std::unique_ptr<asio::ssl::context> context_;
  tcp::acceptor acceptor_;
  int connections_ = 0;
  std::vector<http::request<http::string_body>> requests_;
};

class CallForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = test::LocalCaForTest::create();
    ASSERT_TRUE(ca) << ca.error().describe();
    ca_ = std::make_unique<test::LocalCaForTest>(std::move(ca).value());
    auto leaf = ca_->mintLeaf(kProviderHost);
    ASSERT_TRUE(leaf) << leaf.error().describe();
    leaf_ = std::make_unique<LeafCert>(std::move(leaf).value());
    provider_.emplace(io_, *leaf_);
    auto upstreamTls = makeUpstreamTlsContext(ca_->certificatePath());
    ASSERT_TRUE(upstreamTls) << upstreamTls.error().describe();
    pool_.emplace(io_.get_executor(), *upstreamTls, UpstreamPoolOptions{});
    target_->providerId = "openai";
    target_->providerName = "OpenAI";
    target_->apiFamily = "openai-chat";
    target_->host = kProviderHost;
    target_->cgroupPath = "/system.slice/billing-etl.service";
    target_->unitName = "billing-etl.service";
    target_->alertFields.add(AlertField::kProvider, "openai").add(AlertField::kHost, kProviderHost);
    clientFacingTls_ = serverContext(*leaf_);
    services_.bodyBudget = &budget_;
  }

  void useCredentials(const std::string& json) {
    auto file = parseCredentialFile(json, "credentials.json");
    ASSERT_TRUE(file) << file.error().describe();
    services_.credentials = std::make_shared<const CredentialStore>(std::move(*file), "credentials.json");
  }

  static http::request<http::string_body> chatRequest() {
    http::request<http::string_body> request(http::verb::post, "/v1/chat/completions", 11);
    request.set(http::field::host, kProviderHost);
    request.set(http::field::authorization, std::string("Bearer ") + kClientKey);
    request.set(http::field::content_type, "application/json");
    request.body() = R"({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]})";
    request.prepare_payload();
    return request;
  }

  // The workload's side: a TLS client that reads one response.
  asio::awaitable<void> workload(tcp::endpoint proxy) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, context);
    SSL_set_tlsext_host_name(stream.native_handle(), kProviderHost);
    stream.next_layer().expires_after(10s);
    auto [connectError] = co_await stream.next_layer().async_connect(proxy, kAwaitTuple);
    if (connectError) co_return;
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::client, kAwaitTuple);
    if (handshakeError) co_return;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    auto [readError, read] = co_await http::async_read(stream, buffer, response, kAwaitTuple);
    if (!readError) clientGot_ = std::move(response);
  }

  // The proxy's side: the accepted workload connection, TLS with our leaf, then forwardCall.
  asio::awaitable<void> interception(tcp::acceptor& acceptor, uint16_t providerPort, InterceptedCall& call) {
    auto [acceptError, socket] = co_await acceptor.async_accept(kAwaitTuple);
    if (acceptError) co_return;
    ClientStream client(PrefixedStream(beast::tcp_stream(std::move(socket)), {}), *clientFacingTls_);
    auto [handshakeError] = co_await client.async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
    if (handshakeError) co_return;
    ConnectionFacts facts;
    facts.destination = OriginalDestination{*IpAddress::parse("127.0.0.1"), providerPort, 0, 0, nullptr};
    facts.isTls = true;
    facts.sni = kProviderHost;
    auto adapter = adapterFor("openai-chat", kProviderHost, "POST", "/v1/chat/completions");
    call.target = target_;
    call.method = "POST";
    call.path = "/v1/chat/completions";
    call.api = adapter->api();
    CallScope scope{*target_, facts, services_, *pool_, counters_};
    co_await forwardCall(client, chatRequest(), /*clientKeepAlive=*/false, *adapter, scope, call);
    clientTcp(client).expires_after(5s);
    co_await client.async_shutdown(kAwaitTuple);
  }

  // One call from the workload to the provider (at PROVIDERPORT, the fake's by default).
  InterceptedCall forward(std::optional<uint16_t> providerPort = std::nullopt) {
    InterceptedCall call;
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    // Until both sides are done (the provider's accept loop never is).
    int running = 2;
    auto done = [&](std::exception_ptr failure) {
      EXPECT_FALSE(failure) << "a coroutine threw";
      if (--running == 0) io_.stop();
    };
    asio::co_spawn(io_, interception(acceptor, providerPort.value_or(provider_->port()), call), done);
    asio::co_spawn(io_, workload(acceptor.local_endpoint()), done);
    io_.run_for(20s);
    EXPECT_EQ(running, 0) << "the call did not finish in time";
    io_.restart();
    return call;
  }

  // The call's journal entry, as the daemon writes it.
  static JournalEntry journalEntry(const InterceptedCall& call) {
    RecordingAlertSink sink;
    EXPECT_TRUE(alertInterceptedCall(sink, call));
    auto entries = sink.entries();
    return entries.empty() ? JournalEntry{} : entries[0];
  }

  static void expectNoKeyIn(const JournalEntry& entry) {
    for (const auto& [name, value] : entry) {
      EXPECT_EQ(value.find(kClientKey), std::string::npos) << name << " holds the workload's key";
      EXPECT_EQ(value.find(kManagedKey), std::string::npos) << name << " holds the managed key";
    }
  }

  asio::io_context io_;
  std::unique_ptr<test::LocalCaForTest> ca_;
  std::unique_ptr<LeafCert> leaf_;
  std::unique_ptr<asio::ssl::context> clientFacingTls_;
  std::optional<FakeOpenAi> provider_;
  std::optional<UpstreamPool> pool_;
  std::shared_ptr<InterceptTarget> target_ = std::make_shared<InterceptTarget>();
  BodyBudget budget_{64 << 20};
  InterceptServices services_;
  ProxyCounterCells counters_;
  std::optional<http::response<http::string_body>> clientGot_;
};

TEST_F(CallForwardingTest, ManagedKeyReplacesTheWorkloadsOwnAndTheAnswerComesBack) {
  useCredentials(std::string(R"({"mode": "pass-through", "keys": [{"provider": "openai", "label": "billing", "key": ")") +
                 kManagedKey + R"("}]})");
  InterceptedCall call = forward();

  ASSERT_EQ(provider_->requests().size(), 1u);
  EXPECT_EQ(provider_->requests()[0][http::field::authorization], std::string("Bearer ") + kManagedKey);
  EXPECT_EQ(provider_->requests()[0].target(), "/v1/chat/completions");
  ASSERT_TRUE(clientGot_) << "the workload got no answer";
  EXPECT_EQ(clientGot_->result_int(), 200);
  EXPECT_EQ(clientGot_->body(), kProviderAnswer);

  EXPECT_EQ(call.outcome, CallOutcome::kForwarded);
  JournalEntry entry = journalEntry(call);
  EXPECT_EQ(entry["SHADOWAI_ALERT"], "llm-call-intercepted");
  EXPECT_EQ(entry["SHADOWAI_STATUS"], "200");
  EXPECT_EQ(entry["SHADOWAI_CREDENTIAL"], "managed");
  EXPECT_EQ(entry["SHADOWAI_KEY_LABEL"], "billing");
  EXPECT_EQ(entry["SHADOWAI_FINGERPRINT"], keyFingerprint(kClientKey)) << "the key the workload sent, by fingerprint";
  EXPECT_EQ(entry["SHADOWAI_RESPONSE_BYTES"], std::to_string(std::string(kProviderAnswer).size()));
  expectNoKeyIn(entry);
}

TEST_F(CallForwardingTest, WithoutAManagedKeyInPassThroughTheWorkloadsKeyGoesUpstream) {
  useCredentials(R"({"mode": "pass-through", "keys": []})");
  InterceptedCall call = forward();

  ASSERT_EQ(provider_->requests().size(), 1u);
  EXPECT_EQ(provider_->requests()[0][http::field::authorization], std::string("Bearer ") + kClientKey);
  ASSERT_TRUE(clientGot_);
  EXPECT_EQ(clientGot_->result_int(), 200);
  JournalEntry entry = journalEntry(call);
  EXPECT_EQ(entry["SHADOWAI_CREDENTIAL"], "client");
  expectNoKeyIn(entry);
}

TEST_F(CallForwardingTest, RequireManagedWithoutAKeyIsRefusedBeforeTheProviderIsReached) {
  useCredentials(R"({"mode": "require-managed", "keys": []})");
  InterceptedCall call = forward();

  EXPECT_EQ(provider_->connections(), 0);
  ASSERT_TRUE(clientGot_);
  EXPECT_EQ(clientGot_->result_int(), 403);
  // In OpenAI's error shape, so the SDK shows it like any API error.
  const auto error = nlohmann::json::parse(clientGot_->body());
  EXPECT_EQ(error["error"]["message"],
            "shadowai refused this call: calls to OpenAI from this workload must use a managed key, and none is "
            "configured for it");
  EXPECT_EQ(error["error"]["code"], "shadowai_refused");
  JournalEntry entry = journalEntry(call);
  EXPECT_EQ(entry["SHADOWAI_ALERT"], "llm-call-refused");
  EXPECT_EQ(entry["SHADOWAI_STATUS"], "403");
  expectNoKeyIn(entry);
}

TEST_F(CallForwardingTest, ProviderThatCannotBeReachedIsA502InTheProvidersShape) {
  useCredentials(R"({"mode": "pass-through", "keys": []})");
  uint16_t closedPort = 0;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closedPort = probe.local_endpoint().port();
  }
  InterceptedCall call = forward(closedPort);

  ASSERT_TRUE(clientGot_);
  EXPECT_EQ(clientGot_->result_int(), 502);
  EXPECT_TRUE(nlohmann::json::parse(clientGot_->body())["error"].contains("message"));
  EXPECT_EQ(call.outcome, CallOutcome::kUpstreamFailed);
  JournalEntry entry = journalEntry(call);
  EXPECT_EQ(entry["SHADOWAI_ALERT"], "llm-call-refused");
  EXPECT_EQ(entry["SHADOWAI_STATUS"], "502");
}

}  // namespace
}  // namespace shadowai
