// What goes over the wire in intercept_bench: an OpenAI chat-completions call of about 2 KiB, what
// the OpenAI Python SDK sends give or take, and its answers: a ~1 KiB chat.completion, or a chunked
// text/event-stream of chat.completion.chunk events, a usage event and [DONE]. The same bytes in
// every run and every process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shadowai::bench::intercept {

// Built once, before the workers are forked: the same bytes in every process.
struct Wire {
  std::string request;
  std::string streamRequest;
  std::string response;
  std::string streamHeader;
  std::vector<std::string> streamChunks;
  size_t responseBodyBytes = 0;
  uint32_t eventsPerStream = 0;
};

// The wire for streams of STREAM_EVENTS content events.
Wire makeWire(int streamEvents);

}  // namespace shadowai::bench::intercept
