// Deeply nested JSON from a workload, a provider or a file is refused before anything recurses into
// it: 100 000 levels used to overflow a proxy thread's stack (the copy in json_splice's read-back
// check) and kill the daemon. Every reader of untrusted JSON answers with one line instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "catalog/catalog.h"
#include "common/json_document.h"
#include "common/json_nesting.h"
#include "control/control_protocol.h"
#include "daemon/daemon_config.h"
#include "fake_text_masker.h"
#include "mask/call_masker.h"
#include "mask/json_splice.h"
#include "mask/json_strings_masker.h"
#include "mask/sse_stream_masker.h"
#include "mask/strict_json.h"
#include "policy_test_util.h"
#include "providers/json_text.h"
#include "providers/provider_adapter.h"

namespace shadowai {
namespace {

using ::testing::HasSubstr;
using testing::FakeTextMasker;

constexpr size_t kHostileDepth = 100'000;

// LEVELS arrays inside each other around an empty middle: "[[[...]]]".
std::string nestedArrays(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }
// LEVELS objects inside each other: {"a":{"a":...{}...}}.
std::string nestedObjects(size_t levels) {
  std::string text;
  for (size_t i = 0; i < levels; ++i) text += R"({"a":)";
  text += "{}";
  text += std::string(levels, '}');
  return text;
}

// A chat request whose prompt has something to mask, with VALUE in an extra field.
std::string chatRequestWith(const std::string& value) {
  return R"({"model":"gpt-4o","messages":[{"role":"user","content":"mail a@b.com"}],"extra":)" + value + "}";
}

TEST(JsonNesting, CountsOnlyBracketsOutsideStrings) {
  EXPECT_FALSE(jsonNestsDeeperThan(nestedArrays(3), 3));
  EXPECT_TRUE(jsonNestsDeeperThan(nestedArrays(4), 3));
  EXPECT_TRUE(jsonNestsDeeperThan(nestedObjects(4), 4));  // the innermost {} is a fifth level
  EXPECT_FALSE(jsonNestsDeeperThan(R"([1,[2],[3],[[4]]])", 3));
  EXPECT_FALSE(jsonNestsDeeperThan(R"(["[[[[[[","{{{{{{"])", 1));
  // An escaped quote does not end the string; an escaped backslash before a quote does.
  EXPECT_FALSE(jsonNestsDeeperThan(R"(["\"[[[[[[\"", "x"])", 1));
  EXPECT_TRUE(jsonNestsDeeperThan(R"(["\\", [[[]]]])", 2));
  // Closing more than was opened (invalid, for the parser to judge) never underflows.
  EXPECT_TRUE(jsonNestsDeeperThan("]]]]" + nestedArrays(3), 2));
}

TEST(JsonNesting, TheLimitAdmitsRealBodiesAndStopsHostileOnes) {
  EXPECT_FALSE(jsonNestsDeeperThan(nestedArrays(kMaxJsonNesting)));
  EXPECT_TRUE(jsonNestsDeeperThan(nestedArrays(kMaxJsonNesting + 1)));
  EXPECT_TRUE(jsonNestsDeeperThan(nestedArrays(kHostileDepth)));
}

TEST(JsonNesting, ProviderBodiesAndEventsAreRefusedWithOneLine) {
  for (const std::string& deep : {nestedArrays(kHostileDepth), nestedObjects(kHostileDepth)}) {
    auto parsed = parseJson(chatRequestWith(deep), kRequestBody);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message, "request body nests arrays and objects deeper than 128 levels");
    auto strict = parseJsonRefusingDuplicateKeys(deep, kStreamEvent);
    ASSERT_FALSE(strict.ok());
    EXPECT_THAT(strict.error().message, HasSubstr("stream event nests arrays and objects deeper than"));
  }
}

// The crash of issue 12: the prompt is masked, and the body's other bytes (a deep extra field) would
// be copied recursively while checking the rewrite.
TEST(JsonNesting, MaskingARequestWithADeepExtraFieldIsAnErrorNotACrash) {
  FakeTextMasker masker;
  const std::string bodies[] = {
      chatRequestWith(nestedArrays(kHostileDepth)),
      chatRequestWith(nestedObjects(kHostileDepth)),
      // A content part holding the depth.
      R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"a@b.com","x":)" +
          nestedObjects(kHostileDepth) + "}]}]}",
  };
  for (const std::string& body : bodies) {
    const std::string target = "/v1/chat/completions";
    auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", target);
    auto masked = maskRequestBody(*adapter, target, body, masker);
    ASSERT_FALSE(masked.ok());
    EXPECT_THAT(masked.error().message, HasSubstr("deeper than 128 levels"));
    // The same body spliced directly, as if an adapter had let it through.
    auto rewritten = rewriteJsonStrings(body, {{JsonPointer("/model"), "gpt-4o", "gpt-4o-mini"}}, kRequestBody);
    ASSERT_FALSE(rewritten.ok());
    EXPECT_THAT(rewritten.error().message, HasSubstr("deeper than 128 levels"));
    auto anyJson = maskJsonStrings(body, masker, MaskSite::kResponse);
    ASSERT_FALSE(anyJson.ok());
  }
  // Below the limit the same shapes are masked as before.
  auto shallow = maskJsonStrings(chatRequestWith(nestedArrays(50)), masker, MaskSite::kRequest);
  ASSERT_TRUE(shallow.ok()) << shallow.error().describe();
  ASSERT_TRUE(shallow->has_value());
  EXPECT_THAT(**shallow, HasSubstr("[EMAIL]"));
}

TEST(JsonNesting, ADeepStreamEventFailsTheStreamClosed) {
  FakeTextMasker masker;
  const std::string target = "/v1/chat/completions";
  auto adapter = adapterFor("openai-chat", "api.openai.com", "POST", target);
  SseStreamMasker stream(*adapter, masker);
  SseEvent event;
  event.hasData = true;
  event.data = R"({"choices":[{"index":0,"delta":{"content":"mail a@b.com"}}],"x":)" + nestedArrays(10'000) + "}";
  auto out = stream.onEvent(event);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, HasSubstr("deeper than 128 levels"));
}

TEST(JsonNesting, FilesAndControlRequestsSayWhatIsWrong) {
  const std::string deep = R"({"comment":)" + nestedArrays(kHostileDepth) + "}";
  auto document = parseJsonDocument(deep, "/etc/shadowai/x.json");
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.error().message, "/etc/shadowai/x.json nests arrays and objects deeper than 128 levels");
  auto config = DaemonConfig::parse(deep, "shadowaid.json");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, HasSubstr("deeper than 128 levels"));
  auto catalog = Catalog::parse(deep, "catalog.json");
  ASSERT_FALSE(catalog.ok());
  std::vector<PolicyProblem> problems = problemsOfJson(deep);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].describe(), HasSubstr("test.json"));
  EXPECT_THAT(problems[0].describe(), HasSubstr("deeper than 128 levels"));
  auto control = parseControlRequest(R"({"command":"status","x":)" + nestedArrays(5'000) + "}");
  ASSERT_FALSE(control.ok());
  EXPECT_THAT(control.error().message, HasSubstr("deeper than 128 levels"));
}

}  // namespace
}  // namespace shadowai
