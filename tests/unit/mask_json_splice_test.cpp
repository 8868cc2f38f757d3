// Rewriting string values in place: every other byte untouched, and every way a body could make us
// rewrite something other than what we inspected is refused.
#include <gtest/gtest.h>

#include <string>

#include "mask/json_splice.h"
#include "mask/strict_json.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;
using Pointer = Json::json_pointer;

// The body with the replacements written (the body itself when none changes anything).
Result<std::string> splice(std::string_view body, const std::vector<JsonStringReplacement>& replacements) {
  auto out = rewriteJsonStrings(body, replacements, "test body");
  if (!out) return out.error();
  return out->has_value() ? **out : std::string(body);
}

TEST(JsonSplice, OtherBytesStayExactlyAsSent) {
  std::string body =
      "{ \"model\" :\"gpt-4o\",\n\t\"temperature\":1.0e2 , \"n\":-0, \"big\": 12345678901234567890,"
      "\"note\":\"caf\\u00e9 \\ud83d\\ude00\", \"messages\" : [ {\"role\":\"user\" , \"content\" :"
      "  \"mail me at a@b.com\"  }\r\n ], \"tail\":[1,2.50,true,null]}  \n";
  auto out = splice(body, {{Pointer("/messages/0/content"), "mail me at a@b.com", "mail me at [EMAIL]"}});
  ASSERT_TRUE(out.ok()) << out.error().describe();
  std::string expected = body;
  expected.replace(expected.find("\"mail me at a@b.com\""), 20, "\"mail me at [EMAIL]\"");
  EXPECT_EQ(*out, expected);
}

TEST(JsonSplice, ReplacementIsEncodedAsAJsonString) {
  auto out = splice(R"({"a":"x"})", {{Pointer("/a"), "x", "quote \" backslash \\ newline \n tab \t é \x01"}});
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(*out, "{\"a\":\"quote \\\" backslash \\\\ newline \\n tab \\t é \\u0001\"}");
  EXPECT_EQ(Json::parse(*out)["a"], "quote \" backslash \\ newline \n tab \t é \x01");
}

TEST(JsonSplice, EscapedOriginalIsFoundByItsDecodedValue) {
  auto out = splice(R"({"a" : "mail a\u0040b.com" , "b":"\u0040"})", {{Pointer("/a"), "mail a@b.com", "mail [EMAIL]"}});
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(*out, R"({"a" : "mail [EMAIL]" , "b":"\u0040"})");
}

TEST(JsonSplice, SeveralReplacementsInAnyOrderAndKeysNeedingPointerEscapes) {
  std::string body = R"({"x/y":{"a~b":["one","two"]},"z":"three"})";
  auto out = splice(body, {{Pointer("/z"), "three", "3"},
                           {Pointer("/x~1y/a~0b/1"), "two", "2"},
                           {Pointer("/x~1y/a~0b/0"), "one", "1"}});
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(*out, R"({"x/y":{"a~b":["1","2"]},"z":"3"})");
}

TEST(JsonSplice, SamePlaceTwiceMustAgree) {
  std::string body = R"({"a":"x"})";
  auto same = splice(body, {{Pointer("/a"), "x", "y"}, {Pointer("/a"), "x", "y"}});
  ASSERT_TRUE(same.ok()) << same.error().describe();
  EXPECT_EQ(*same, R"({"a":"y"})");
  EXPECT_FALSE(splice(body, {{Pointer("/a"), "x", "y"}, {Pointer("/a"), "x", "z"}}).ok());
}

TEST(JsonSplice, RefusesWhatWasNotInspected) {
  std::string body = R"({"a":"x","n":5,"o":{}})";
  EXPECT_FALSE(splice(body, {{Pointer("/a"), "not x", "y"}}).ok());  // other text than the adapter saw
  EXPECT_FALSE(splice(body, {{Pointer("/n"), "5", "y"}}).ok());      // not a string
  EXPECT_FALSE(splice(body, {{Pointer("/o"), "", "y"}}).ok());
  EXPECT_FALSE(splice(body, {{Pointer("/missing"), "x", "y"}}).ok());
  EXPECT_FALSE(splice(body, {{Pointer(""), "x", "y"}}).ok());
}

TEST(JsonSplice, RefusesInvalidUtf8InReplacement) {
  EXPECT_FALSE(splice(R"({"a":"x"})", {{Pointer("/a"), "x", "bad \xff byte"}}).ok());
}

// Parsers disagree on which copy of a duplicate key counts (nlohmann keeps the last, some providers
// the first): whatever the copies hold, the body is refused and says why.
TEST(JsonSplice, DuplicateKeysAreRefusedWhateverTheyHold) {
  for (std::string body : {R"({"a":"harmless","a":"SECRET-1"})", R"({"a":"SECRET-1","a":"SECRET-1"})",
                           R"({"m":[{"a":"SECRET-1","\u0061":"SECRET-1"}]})"}) {
    std::string pointer = body.find("\"m\"") != std::string::npos ? "/m/0/a" : "/a";
    auto out = splice(body, {{Pointer(pointer), "SECRET-1", "[SECRET]"}});
    ASSERT_FALSE(out.ok()) << body;
    EXPECT_EQ(out.error().message, "test body has an object with a duplicate key") << body;
  }
}

// The walk that finds the tokens is also what reads the rewritten body back, so what it refuses
// in a body it refuses in a result: invalid JSON, and tokens that are not where they were written.
TEST(JsonSplice, LocatesInOneReadingWhatTheAdapterRead) {
  std::string body = R"({"a":[{"t":"x\ny"},{"t":"plain"}],"b":{"c":"\u00e9t\u00e9"}})";
  const Pointer first("/a/0/t"), second("/a/1/t"), third("/b/c");
  std::vector<JsonStringAt> wanted{{&first, "x\ny"}, {&second, "plain"}, {&third, "\xc3\xa9t\xc3\xa9"}};
  auto spans = locateJsonStrings(body, 0, wanted, "body");
  ASSERT_TRUE(spans.ok()) << spans.error().describe();
  ASSERT_EQ(spans->size(), 3u);
  EXPECT_EQ(body.substr((*spans)[0].begin, (*spans)[0].end - (*spans)[0].begin), R"("x\ny")");
  EXPECT_EQ(body.substr((*spans)[1].begin, (*spans)[1].end - (*spans)[1].begin), R"("plain")");
  EXPECT_EQ(body.substr((*spans)[2].begin, (*spans)[2].end - (*spans)[2].begin), R"("\u00e9t\u00e9")");
  EXPECT_FALSE(locateJsonStrings(R"({"a":[{"t":"x")", 0, {{&first, "x"}}, "body").ok());
  // A body kept with spare capacity is read in place and gives the same answer.
  std::string padded = body;
  reserveJsonPadding(padded);
  auto inPlace = locateJsonStrings(padded, padded.capacity(), wanted, "body");
  ASSERT_TRUE(inPlace.ok()) << inPlace.error().describe();
  EXPECT_EQ((*inPlace)[2].begin, (*spans)[2].begin);
}

TEST(JsonSplice, SplicesThatOverlapOrDisagreeAreRefused) {
  std::string body = R"({"a":"xy","b":"z"})";
  auto overlap = spliceJsonStrings(body, {{Pointer("/a"), {5, 9}, "1"}, {Pointer("/b"), {7, 12}, "2"}}, "body");
  EXPECT_FALSE(overlap.ok());
  auto outside = spliceJsonStrings(body, {{Pointer("/a"), {5, 90}, "1"}}, "body");
  EXPECT_FALSE(outside.ok());
  // A span that is not a whole string token does not read back where it was written.
  auto notAToken = spliceJsonStrings(body, {{Pointer("/a"), {6, 8}, "1"}}, "body");
  ASSERT_FALSE(notAToken.ok());
  EXPECT_NE(notAToken.error().message.find("did not read back"), std::string::npos) << notAToken.error().message;
}

TEST(StrictJson, RefusesDuplicateKeysAtAnyDepthAndWhateverTheirSpelling) {
  EXPECT_TRUE(parseJsonRefusingDuplicateKeys(R"({"a":{"b":1},"c":[{"b":2},{"b":3}]})", "body").ok());
  EXPECT_FALSE(parseJsonRefusingDuplicateKeys(R"({"a":1,"a":1})", "body").ok());
  EXPECT_FALSE(parseJsonRefusingDuplicateKeys(R"({"m":[{"x":{"text":"a","te\u0078t":"b"}}]})", "body").ok());
  auto error = parseJsonRefusingDuplicateKeys(R"({"a":[1,{"k":1,"k":2}]})", "request body");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message, "request body has an object with a duplicate key");
  EXPECT_FALSE(parseJsonRefusingDuplicateKeys("{\"a\":", "body").ok());
  EXPECT_FALSE(parseJsonRefusingDuplicateKeys("[1e400]", "body").ok());
}

// A provider that keeps the first copy would read the unmasked one: refused even when nothing changes.
TEST(RewriteJsonStrings, RefusesDuplicatesEvenWhenNothingChanges) {
  std::string body = R"({"content":"SECRET-1","content":"hello"})";
  auto out = rewriteJsonStrings(body, {{Pointer("/content"), "hello", "hello"}}, "request body");
  EXPECT_FALSE(out.ok());
}

TEST(RewriteJsonStrings, NothingChangedMeansNullopt) {
  auto same = rewriteJsonStrings(R"({"a":"x"})", {{Pointer("/a"), "x", "x"}}, "body");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->has_value());
  auto changed = rewriteJsonStrings(R"({"a":"x", "b":"y"})", {{Pointer("/a"), "x", "x"}, {Pointer("/b"), "y", "z"}}, "body");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->value(), R"({"a":"x", "b":"z"})");
}

}  // namespace
}  // namespace shadowai

namespace shadowai {
namespace {

// Duplicates are found at any depth and however the key is escaped; keys only repeat within one
// object. An array of 100 000 objects (which nlohmann's callback parser took 25 s over) parses.
TEST(StrictJson, DuplicateKeysAnywhereAreRefusedAndManyObjectsAreFine) {
  EXPECT_FALSE(parseJsonRefusingDuplicateKeys(R"({"a":[{"b":1,"b":2}]})", "body").ok());
  EXPECT_FALSE(parseJsonRefusingDuplicateKeys(R"({"text":1,"te\u0078t":2})", "body").ok());
  EXPECT_TRUE(parseJsonRefusingDuplicateKeys(R"({"a":{"b":1},"c":{"b":2},"b":3})", "body").ok());
  auto invalid = parseJsonRefusingDuplicateKeys(R"({"a":)", "body");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().message.rfind("body is not valid JSON (at byte ", 0), 0u) << invalid.error().message;
  std::string many = "[";
  for (int i = 0; i < 100'000; ++i) many += i == 0 ? "{}" : ",{}";
  many += "]";
  auto parsed = parseJsonRefusingDuplicateKeys(many, "body");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->size(), 100'000u);
}

}  // namespace
}  // namespace shadowai
