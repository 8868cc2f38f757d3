#include "intercept/http_headers.h"

#include <gtest/gtest.h>

namespace shadowai {
namespace {

namespace http = boost::beast::http;

http::fields withHost(std::string_view host) {
  http::fields fields;
  fields.set(http::field::host, host);
  return fields;
}

TEST(MisdirectionTest, HostMustNameTheServerNameOfTheConnection) {
  EXPECT_EQ(misdirectionOf(withHost("api.openai.com"), "/v1/chat/completions", "api.openai.com"), "");
  EXPECT_EQ(misdirectionOf(withHost("API.OpenAI.com:443"), "/v1/models?x=1", "api.openai.com"), "");
  EXPECT_NE(misdirectionOf(withHost("evil.example"), "/v1/chat/completions", "api.openai.com"), "");
  EXPECT_NE(misdirectionOf(withHost("api.openai.com.evil.example"), "/", "api.openai.com"), "");
  EXPECT_NE(misdirectionOf(withHost("api.openai.com:8443"), "/", "api.openai.com"), "");
  EXPECT_NE(misdirectionOf(http::fields{}, "/", "api.openai.com"), "") << "no Host";
  http::fields two = withHost("api.openai.com");
  two.insert(http::field::host, "evil.example");
  EXPECT_NE(misdirectionOf(two, "/", "api.openai.com"), "") << "two Host headers";
}

TEST(MisdirectionTest, OnlyOriginFormTargets) {
  EXPECT_NE(misdirectionOf(withHost("api.openai.com"), "https://evil.example/v1/chat/completions", "api.openai.com"), "");
  EXPECT_NE(misdirectionOf(withHost("api.openai.com"), "*", "api.openai.com"), "");
  EXPECT_NE(misdirectionOf(withHost("api.openai.com"), "", "api.openai.com"), "");
}

http::fields withTransferEncoding(std::initializer_list<std::string_view> values) {
  http::fields fields;
  for (std::string_view value : values) fields.insert(http::field::transfer_encoding, value);
  return fields;
}

TEST(RequestFramingTest, OnlyASingleChunkedCodingIsTrusted) {
  EXPECT_EQ(requestFramingProblem(http::fields{}, 11), "") << "no Transfer-Encoding: Content-Length or no body";
  EXPECT_EQ(requestFramingProblem(http::fields{}, 10), "");
  EXPECT_EQ(requestFramingProblem(withTransferEncoding({"chunked"}), 11), "");
  EXPECT_EQ(requestFramingProblem(withTransferEncoding({" Chunked "}), 11), "");
  EXPECT_EQ(requestFramingProblem(withTransferEncoding({", chunked,"}), 11), "") << "empty list elements count for nothing";
  EXPECT_NE(requestFramingProblem(withTransferEncoding({"chunked, identity"}), 11), "") << "chunked not last";
  EXPECT_NE(requestFramingProblem(withTransferEncoding({"identity"}), 11), "") << "no chunked at all";
  EXPECT_NE(requestFramingProblem(withTransferEncoding({"gzip, chunked"}), 11), "") << "a coding we would have to undo";
  EXPECT_NE(requestFramingProblem(withTransferEncoding({"chunked, chunked"}), 11), "") << "chunked twice";
  EXPECT_NE(requestFramingProblem(withTransferEncoding({"chunked", "chunked"}), 11), "") << "chunked in two fields";
  EXPECT_NE(requestFramingProblem(withTransferEncoding({""}), 11), "") << "an empty Transfer-Encoding";
  EXPECT_EQ(requestFramingProblem(withTransferEncoding({"chunked"}), 10),
            "an HTTP/1.0 request must not carry Transfer-Encoding");
}

TEST(HopByHopTest, ConnectionAndTheFieldsItNamesAreRemoved) {
  http::fields fields;
  fields.set(http::field::connection, "keep-alive, X-Private-Hop");
  fields.set("X-Private-Hop", "1");
  fields.set(http::field::keep_alive, "timeout=5");
  fields.set(http::field::transfer_encoding, "chunked");
  fields.set(http::field::content_length, "5");
  fields.set(http::field::expect, "100-continue");
  fields.set(http::field::upgrade, "websocket");
  fields.set(http::field::authorization, "Bearer x");
  fields.set(http::field::content_type, "application/json");
  removeHopByHopFields(fields);
  size_t left = 0;
  for (const auto& field : fields) {
    (void)field;
    ++left;
  }
  EXPECT_EQ(left, 2u);
  EXPECT_EQ(fields[http::field::authorization], "Bearer x");
  EXPECT_EQ(fields[http::field::content_type], "application/json");
}

TEST(EventStreamTest, MediaTypeAnyCaseWithParameters) {
  EXPECT_TRUE(isEventStream("text/event-stream"));
  EXPECT_TRUE(isEventStream("Text/Event-Stream; charset=utf-8"));
  EXPECT_TRUE(isEventStream(" text/event-stream ;x=y"));
  EXPECT_FALSE(isEventStream("application/json"));
  EXPECT_FALSE(isEventStream("text/event-streams"));
  EXPECT_FALSE(isEventStream(""));
}

}  // namespace
}  // namespace shadowai
