#include "providers/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "providers/sse_writer.h"

namespace shadowai {
namespace {

std::vector<SseEvent> parseAll(std::string_view stream, const std::vector<size_t>& cuts = {}) {
  SseParser parser;
  std::vector<SseEvent> events;
  size_t start = 0;
  auto feedPiece = [&](size_t end) {
    auto got = parser.feed(stream.substr(start, end - start));
    EXPECT_TRUE(got.ok()) << got.error().describe();
    if (got) events.insert(events.end(), got->begin(), got->end());
    start = end;
  };
  for (size_t cut : cuts) feedPiece(cut);
  feedPiece(stream.size());
  return events;
}

SseEvent dataEvent(std::string data, std::string type = {}) {
  SseEvent event;
  event.type = std::move(type);
  event.data = std::move(data);
  event.hasData = true;
  return event;
}

// Anthropic's stream as documented: `event:` then `data:`, LF endings, a ping in the middle.
constexpr std::string_view kAnthropicStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

TEST(SseParserTest, ParsesTypedEvents) {
  auto events = parseAll(kAnthropicStream);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, "message_start");
  EXPECT_EQ(events[1], dataEvent("{\"type\": \"ping\"}", "ping"));
  EXPECT_EQ(events[3].data, "{\"type\":\"message_stop\"}");
  for (const auto& event : events) EXPECT_EQ(event.lineEnding, SseLineEnding::kLf);
}

TEST(SseParserTest, JoinsDataLinesAndStripsOneSpace) {
  auto events = parseAll("data:first\ndata:  second\ndata\ndata: \n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "first\n second\n\n");
}

TEST(SseParserTest, AcceptsEveryLineEnding) {
  auto events = parseAll("data: a\r\n\r\ndata: b\r\rdata: c\n\n");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[0].lineEnding, SseLineEnding::kCrLf);
  EXPECT_EQ(events[1].data, "b");
  EXPECT_EQ(events[1].lineEnding, SseLineEnding::kCr);
  EXPECT_EQ(events[2].data, "c");
}

TEST(SseParserTest, ReadsIdRetryCommentsAndIgnoresUnknownFields) {
  auto events = parseAll(": keep-alive\nid: 7\nretry: 3000\nretry: 12x\nfoo: bar\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].comments, std::vector<std::string>{" keep-alive"});
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].retry, 3000u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParserTest, IdWithNulIsIgnored) {
  auto events = parseAll(std::string_view("id: a\0b\ndata: x\n\n", 17));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].id.has_value());
}

TEST(SseParserTest, CommentOnlyBlocksAreReturnedButNotDispatchable) {
  // OpenRouter and others send comment keep-alives; the proxy forwards them, EventSource would not.
  auto events = parseAll(": OPENROUTER PROCESSING\n\n\n\ndata: {}\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].dispatchable());
  EXPECT_TRUE(events[1].dispatchable());
}

TEST(SseParserTest, StripsOneLeadingBomEvenWhenSplit) {
  std::string stream = "\xEF\xBB\xBF" "data: x\n\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    auto events = parseAll(stream, {cut});
    ASSERT_EQ(events.size(), 1u) << cut;
    EXPECT_EQ(events[0].data, "x");
  }
  // Only one BOM, and only at the start: a second one makes the field name unknown, so no data.
  auto twoBoms = parseAll("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n");
  ASSERT_EQ(twoBoms.size(), 1u);
  EXPECT_FALSE(twoBoms[0].dispatchable());
  // Bytes that only start like a BOM are content (here, of an unknown field).
  auto notBom = parseAll("\xEF" "data: x\n\ndata: y\n\n");
  ASSERT_EQ(notBom.size(), 2u);
  EXPECT_FALSE(notBom[0].dispatchable());
  EXPECT_EQ(notBom[1].data, "y");
}

TEST(SseParserTest, SplitAtEveryByteGivesTheSameEvents) {
  const std::string crlf = [] {
    std::string text(kAnthropicStream);
    std::string out;
    for (char c : text) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return out;
  }();
  for (std::string_view stream : {kAnthropicStream, std::string_view(crlf)}) {
    auto whole = parseAll(stream);
    ASSERT_EQ(whole.size(), 4u);
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
      EXPECT_EQ(parseAll(stream, {cut}), whole) << "cut at " << cut;
    }
    std::vector<size_t> everyByte;
    for (size_t i = 1; i < stream.size(); ++i) everyByte.push_back(i);
    EXPECT_EQ(parseAll(stream, everyByte), whole);
  }
}

TEST(SseParserTest, DispatchesAtTheBlankLineWithoutWaitingForMore) {
  SseParser parser;
  auto first = parser.feed("data: a\r\n\r");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].lineEnding, SseLineEnding::kCrLf);
  auto second = parser.feed("\ndata: b\r\n\r\n");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].data, "b");
}

TEST(SseParserTest, FinishReturnsAnUnterminatedEvent) {
  SseParser parser;
  ASSERT_TRUE(parser.feed("data: a\n\ndata: tail").ok());
  auto rest = parser.finish();
  ASSERT_TRUE(rest.ok());
  ASSERT_TRUE(rest->has_value());
  EXPECT_EQ((*rest)->data, "tail");

  SseParser clean;
  ASSERT_TRUE(clean.feed("data: a\n\n").ok());
  auto none = clean.finish();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(SseParserTest, OversizedEventIsAnErrorAndStaysOne) {
  SseParser parser(64);
  auto fine = parser.feed("data: " + std::string(40, 'a') + "\n\n");
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->size(), 1u);
  auto tooBig = parser.feed("data: " + std::string(40, 'a') + "\ndata: " + std::string(40, 'b'));
  ASSERT_FALSE(tooBig.ok());
  EXPECT_NE(tooBig.error().message.find("larger than 64 bytes"), std::string::npos);
  EXPECT_FALSE(parser.feed("\n\n").ok());
  EXPECT_FALSE(parser.finish().ok());

  // A line that never ends is bounded too, however it is cut.
  SseParser endless(64);
  Status last;
  for (int i = 0; i < 100 && last.ok(); ++i) {
    auto got = endless.feed("xxxxxxxx");
    if (!got) last = got.error();
  }
  EXPECT_FALSE(last.ok());
}

TEST(SseWriterTest, WritesTheShapeItRead) {
  for (std::string_view stream :
       {kAnthropicStream, std::string_view("data: {\"a\":1}\r\n\r\n"), std::string_view(": ping\rid: 4\rdata: x\rretry: 10\r\r")}) {
    std::string rewritten;
    for (const auto& event : parseAll(stream)) rewritten += serializeSseEvent(event);
    EXPECT_EQ(rewritten, stream);
  }
}

TEST(SseWriterTest, BlocksOfUnknownFieldsAreWrittenAsNothing) {
  auto events = parseAll("foo: bar\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(serializeSseEvent(events[0]), "");
}

TEST(SseWriterTest, LineBreaksInValuesCannotBreakFraming) {
  SseEvent event = dataEvent("one\ntwo\r\nthree\rfour", "evil\n\ndata: injected");
  event.comments = {" a\nb"};
  std::string written = serializeSseEvent(event);
  auto events = parseAll(written);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "one\ntwo\nthree\nfour");
  EXPECT_EQ(events[0].type, "evil  data: injected");
  EXPECT_EQ(events[0].comments, std::vector<std::string>{" a b"});
}

}  // namespace
}  // namespace shadowai
