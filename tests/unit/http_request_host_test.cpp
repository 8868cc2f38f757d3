// The Host of a plain HTTP request's first bytes, as the proxy's peek and detection read it.
#include "net/http_request_host.h"

#include <gtest/gtest.h>

#include <string>

namespace shadowai {
namespace {

std::optional<std::string> hostOf(const std::string& bytes) {
  return httpRequestHost(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

TEST(HttpRequestHost, NameWithoutPortOrCaseOrTrailingDot) {
  EXPECT_EQ(hostOf("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n\r\n{}"), "api.openai.com");
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nhost: API.OpenAI.com.:80\r\n\r\n"), "api.openai.com");
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nHost: [fd00::1]:8080\r\n\r\n"), "[fd00::1]");
}

TEST(HttpRequestHost, AHeadCutShortIsReadToItsLastWholeLine) {
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nUser-Agent: x\r\nHost: api.anthropic.com\r\nX-Cut: abc"), "api.anthropic.com");
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nUser-Agent: x\r\nHost: api.anthro"), std::nullopt) << "a cut Host line is not a host";
}

TEST(HttpRequestHost, NothingForOtherBytesOrAHeadWithoutHost) {
  EXPECT_EQ(hostOf("GET / HTTP/1.0\r\n\r\n"), std::nullopt);
  EXPECT_EQ(hostOf("\x16\x03\x01\x00\x05\x01"), std::nullopt);
  EXPECT_EQ(hostOf("SSH-2.0-OpenSSH\r\n"), std::nullopt);
  EXPECT_EQ(hostOf("get / HTTP/1.1\r\nHost: a\r\n\r\n"), std::nullopt) << "methods are upper case";
  EXPECT_EQ(hostOf(""), std::nullopt);
  // What the fuzz target found: a "host" with spaces and slashes is no host.
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nhost: API.OpenAIGET / HTTP.COM.:8/1.1\r\n0Us\n"), std::nullopt);
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nHost: user@api.openai.com\r\n\r\n"), std::nullopt);
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nHost: api.openai.com..\r\n\r\n"), std::nullopt) << "an empty label";
  EXPECT_EQ(hostOf("GET / HTTP/1.1\r\nHost: .openai.com\r\n\r\n"), std::nullopt);
}

}  // namespace
}  // namespace shadowai
