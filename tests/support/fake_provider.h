// FakeProvider: a TLS server on loopback posing as the hosted LLM APIs (api.openai.com,
// api.anthropic.com, generativelanguage.googleapis.com; one server can pose as all three with a
// TestCa leaf for the three names) so that the official SDKs, unmodified, run against it. It answers
// in each provider's own shape, plain or streamed:
//   POST /v1/chat/completions, /v1/completions   OpenAI, "stream":true: SSE chunks then data: [DONE]
//                                                (a usage chunk with stream_options.include_usage)
//   POST /v1/responses                           OpenAI Responses, SSE: response.created ...
//                                                response.output_text.delta ... response.completed
//   POST /v1/embeddings                          OpenAI, floats or "encoding_format":"base64"
//   POST /v1/messages                            Anthropic, SSE: message_start, content_block_start,
//                                                content_block_delta (text_delta)..., message_delta
//                                                (usage), message_stop
//   POST /v1beta/models/M:generateContent        Gemini; :streamGenerateContent?alt=sse streams
// Anything else gets a 404 in OpenAI's error shape. The generated text is the configured answer;
// streams carry it a word at a time, one event per write, with a configurable delay between events
// (so a test can tell a relay that buffers from one that does not), in chunked transfer encoding.
// HTTP/1.1 keep-alive (many requests per connection) and Expect: 100-continue are handled.
//
// Every request is recorded (SNI, method, target, headers, body, connection index) before it is
// answered. Runs on its own thread; stops and joins in its destructor. Movable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "support/tls_server.h"

namespace shadowai::test {

inline constexpr const char* kFakeProviderDefaultAnswer = "Hello from the fake provider";

struct FakeProviderRequest : RecordedRequest {
  size_t connection = 0;  // which TCP connection carried it: 0, 1, ... in the order accepted
};

// A fixed answer, for error tests: sent as is (Content-Length framing) to every request.
struct FakeReply {
  unsigned status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Error replies in each provider's own shape, as its SDK parses them:
// {"error":{"message","type","param","code"}}
FakeReply openAiErrorReply(unsigned status, const std::string& type, const std::string& message,
                           const std::string& code = "");
// {"type":"error","error":{"type","message"}}
FakeReply anthropicErrorReply(unsigned status, const std::string& type, const std::string& message);
// {"error":{"code","message","status"}}, STATUS_NAME like "PERMISSION_DENIED"
FakeReply geminiErrorReply(unsigned status, const std::string& statusName, const std::string& message);

struct FakeProviderOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 text
  uint16_t port = 0;                   // 0: an ephemeral port, see port()
  std::string certPath;                // e.g. a TestCa leaf for the names it poses as
  std::string keyPath;
  std::string answerText = kFakeProviderDefaultAnswer;
  std::chrono::milliseconds eventDelay{0};  // between two events of a stream
};

class FakeProvider {
 public:
  // Binds and starts serving; fails if the address/port cannot be bound or the cert/key do not load.
  static Result<FakeProvider> start(FakeProviderOptions options);
  ~FakeProvider();
  FakeProvider(FakeProvider&&) noexcept;
  FakeProvider& operator=(FakeProvider&&) noexcept;

  uint16_t port() const;
  const std::string& address() const;

  // Take effect from the next request on (any thread).
  void setAnswerText(std::string text);
  void setEventDelay(std::chrono::milliseconds delay);
  // A gate for streams, so a test can prove a relay forwards events as they come without timing
  // anything: from now on each stream stops after its first event until releaseStreams();
  // waitForHeldStreams() waits until COUNT streams are stopped there.
  void holdStreamsAfterFirstEvent();
  void releaseStreams();
  bool waitForHeldStreams(size_t count, std::chrono::milliseconds timeout) const;
  // Answer every request with REPLY instead of a generated response, until clearFixedReply().
  void setFixedReply(FakeReply reply);
  void clearFixedReply();

  size_t connectionCount() const;   // TCP connections accepted
  size_t failedHandshakes() const;  // of those, how many never completed TLS
  std::vector<FakeProviderRequest> requests() const;
  // Waits until at least COUNT requests were recorded; false on timeout.
  bool waitForRequests(size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  explicit FakeProvider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowai::test
