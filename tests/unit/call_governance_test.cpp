// governRequest without a proxy, TLS or root: what the policy does to one intercepted request
// before anything goes upstream (the body the provider would get, the refusal the client would
// read) and the journal entry that records it, as a user reviews it.
#include "intercept/call_governance.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "daemon/call_alerts.h"
#include "mask/json_splice.h"
#include "mask/mask_session.h"
#include "policy_test_util.h"
#include "recording_alert_sink.h"

namespace shadowai {
namespace {

namespace http = boost::beast::http;

constexpr const char* kChatPath = "/v1/chat/completions";

std::shared_ptr<const InterceptTarget> billingEtlToOpenAi() {
  auto target = std::make_shared<InterceptTarget>();
  target->providerId = "openai";
  target->providerName = "OpenAI";
  target->apiFamily = "openai-chat";
  target->host = "api.openai.com";
  target->cgroupPath = "/system.slice/billing-etl.service";
  target->unitName = "billing-etl.service";
  target->workload = billingWorkload();
  target->alertFields.add(AlertField::kProvider, "openai")
      .add(AlertField::kHost, "api.openai.com")
      .add(AlertField::kUnit, "billing-etl.service");
  return target;
}

std::string chatBody(const std::string& prompt) {
  return R"({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ")" + prompt + R"("}]})";
}

// One request through governRequest, as the interception session runs it.
class CallGovernanceTest : public ::testing::Test {
 protected:
  void usePolicy(const std::string& json) {
    std::array<unsigned char, 32> keyBytes{};
    keyBytes.fill(7);
    auto runtime =
        PolicyRuntime::create(policyFromJson(json), std::make_shared<PseudonymKey>(PseudonymKey::fromBytes(keyBytes)));
    ASSERT_TRUE(runtime) << runtime.error().describe();
    services_.policy = std::make_shared<PolicyHolder>(std::move(*runtime));
  }

  RequestGovernance govern(std::string body, const char* path = kChatPath, const char* apiFamily = "openai-chat") {
    auto target = billingEtlToOpenAi();
    std::const_pointer_cast<InterceptTarget>(target)->apiFamily = apiFamily;
    request_ = http::request<http::string_body>(http::verb::post, path, 11);
    request_.set(http::field::host, "api.openai.com");
    request_.set(http::field::accept_encoding, "gzip");
    request_.body() = std::move(body);
    reserveJsonPadding(request_.body());
    request_.prepare_payload();
    adapter_ = adapterFor(apiFamily, "api.openai.com", "POST", path);
    call_ = InterceptedCall{};
    call_.target = target;
    call_.method = "POST";
    call_.path = path;
    call_.api = adapter_->api();
    Result<ParsedRequest> parsed = adapter_->parseRequest(request_.target(), request_.body());
    if (parsed) call_.model = parsed->model;
    return governRequest(services_, *target, *adapter_, request_, parsed, call_);
  }

  // The journal entry the daemon writes for the call (refused calls are recorded as they are).
  JournalEntry journalEntry() {
    RecordingAlertSink sink;
    EXPECT_TRUE(alertInterceptedCall(sink, call_));
    auto entries = sink.entries();
    return entries.empty() ? JournalEntry{} : entries[0];
  }

  InterceptServices services_;
  http::request<http::string_body> request_;
  std::unique_ptr<ProviderAdapter> adapter_;
  InterceptedCall call_;
};

TEST_F(CallGovernanceTest, WithoutAPolicyTheRequestGoesAsTheClientSentIt) {
  const std::string body = chatBody("mail ann.lee@northwind-billing.io the invoice");
  RequestGovernance governance = govern(body);
  EXPECT_FALSE(governance.refused);
  EXPECT_EQ(governance.session, nullptr);
  EXPECT_EQ(request_.body(), body);
  EXPECT_EQ(request_[http::field::accept_encoding], "gzip");
}

TEST_F(CallGovernanceTest, BlockRuleForTheWorkloadRefusesTheCallWithItsMessage) {
  usePolicy(R"({"version": 1, "rules": [
    {"id": "no-billing-llm", "match": {"workload": {"unit": ["billing-*.service"]}},
     "block": {"message": "Billing jobs may not call LLMs."}}]})");
  RequestGovernance governance = govern(chatBody("hello"));

  ASSERT_TRUE(governance.refused);
  EXPECT_EQ(governance.status, 403u);
  EXPECT_EQ(governance.message, "blocked by policy rule no-billing-llm: Billing jobs may not call LLMs.");
  JournalEntry entry = journalEntry();
  EXPECT_EQ(entry["SHADOWAI_ALERT"], "llm-call-blocked");
  EXPECT_EQ(entry["SHADOWAI_ACTION"], "blocked");
  EXPECT_EQ(entry["SHADOWAI_RULE"], "no-billing-llm");
  EXPECT_EQ(entry["SHADOWAI_STATUS"], "403");
  EXPECT_EQ(entry["SHADOWAI_MODEL"], "gpt-4o-mini");
  EXPECT_EQ(entry["SHADOWAI_UNIT"], "billing-etl.service");
}

TEST_F(CallGovernanceTest, PromptBlockFiresOnlyOnAPromptThatMatches) {
  usePolicy(R"({"version": 1, "rules": [
    {"id": "codenames", "block": {"patterns": ["\\bPRJ-[0-9]{3}\\b"], "message": "Codenames stay in the building."}}]})");
  EXPECT_FALSE(govern(chatBody("Summarise this invoice.")).refused);

  RequestGovernance governance = govern(chatBody("What did PRJ-042 ship?"));
  ASSERT_TRUE(governance.refused);
  EXPECT_EQ(governance.status, 403u);
  EXPECT_EQ(governance.message, "blocked by policy rule codenames: Codenames stay in the building.");
  JournalEntry entry = journalEntry();
  EXPECT_EQ(entry["SHADOWAI_RULE"], "codenames");
  EXPECT_EQ(entry["SHADOWAI_REASON"], "prompt matched pattern 1");
  EXPECT_EQ(entry.count("SHADOWAI_MASKED_COUNT"), 0u);
}

TEST_F(CallGovernanceTest, MaskRuleMasksThePromptTheProviderGetsAndAsksForAnAnswerItCanRead) {
  usePolicy(R"({"version": 1, "rules": [{"id": "pii", "mask": {"detectors": ["email"]}}]})");
  RequestGovernance governance = govern(chatBody("mail ann.lee@northwind-billing.io the invoice"));

  ASSERT_FALSE(governance.refused);
  EXPECT_EQ(request_.body(), chatBody("mail [EMAIL_1] the invoice")) << "what the provider would receive";
  ASSERT_NE(governance.session, nullptr);
  EXPECT_TRUE(governance.masksResponse);
  EXPECT_EQ(request_[http::field::accept_encoding], "identity") << "a compressed answer could not be masked";
  EXPECT_EQ(call_.rule, "pii");
}

TEST_F(CallGovernanceTest, PromptThatCannotBeReadIsRefusedRatherThanSentUnmasked) {
  usePolicy(R"({"version": 1, "rules": [{"id": "pii", "mask": {"detectors": ["email"]}}]})");

  RequestGovernance unreadable = govern(R"({"model": "gpt-4o-mini", "messages": )");
  ASSERT_TRUE(unreadable.refused);
  EXPECT_EQ(unreadable.status, 400u);
  EXPECT_EQ(journalEntry()["SHADOWAI_RULE"], "masking");

  // An API shadowai has no adapter for: its prompt cannot be found, so it cannot be masked.
  RequestGovernance unknownApi = govern(chatBody("mail ann.lee@northwind-billing.io"), "/v1/some/new/api", "not-a-known-family");
  ASSERT_TRUE(unknownApi.refused);
  EXPECT_EQ(unknownApi.status, 403u);
  EXPECT_EQ(unknownApi.message,
            "the policy requires masking this call and shadowai cannot read the prompt of POST /v1/some/new/api on "
            "api.openai.com");
  JournalEntry entry = journalEntry();
  EXPECT_EQ(entry["SHADOWAI_ALERT"], "llm-call-blocked");
  EXPECT_EQ(entry["SHADOWAI_RULE"], "masking");
}

}  // namespace
}  // namespace shadowai
