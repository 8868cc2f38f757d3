// Fuzzes the incremental SSE parser and writer. The first byte chooses where the input is cut into
// two feeds and the event size limit, the rest is the stream. Besides crashes, it checks that cutting
// never changes the events, that the limit holds, and that writing the events and parsing them again
// gives them back.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "providers/sse_parser.h"
#include "providers/sse_writer.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

struct Parsed {
  bool ok = true;
  std::vector<shadowai::SseEvent> events;
};

Parsed parse(std::string_view stream, size_t limit, const std::vector<size_t>& cuts) {
  shadowai::SseParser parser(limit);
  Parsed parsed;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    auto events = parser.feed(stream.substr(start, end - start));
    start = end;
    if (!events) {
      check(!events.error().message.empty());
      parsed.ok = false;
      return parsed;
    }
    parsed.events.insert(parsed.events.end(), events->begin(), events->end());
  }
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t limit = data[0] & 0x80 ? 64 : shadowai::SseParser::kDefaultMaxEventBytes;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t cut = stream.empty() ? 0 : (data[0] * 7919u) % (stream.size() + 1);

  Parsed whole = parse(stream, limit, {});
  Parsed split = parse(stream, limit, {cut});
  if (whole.ok && split.ok) {
    check(whole.events.size() == split.events.size());
    for (size_t i = 0; i < whole.events.size(); ++i) {
      const auto& a = whole.events[i];
      const auto& b = split.events[i];
      // Only the guessed ending of a block cut between '\r' and '\n' may differ.
      check(a.data == b.data && a.type == b.type && a.id == b.id && a.retry == b.retry && a.comments == b.comments);
    }
  }
  if (!whole.ok) return 0;

  for (const auto& event : whole.events) {
    check(event.data.size() <= limit);
    std::string written = shadowai::serializeSseEvent(event);
    Parsed again = parse(written, shadowai::SseParser::kDefaultMaxEventBytes, {});
    check(again.ok);
    if (written.empty()) {
      check(!event.hasData && !event.id && !event.retry && event.comments.empty());
      continue;
    }
    check(again.events.size() == 1);
    const auto& back = again.events[0];
    check(back.data == event.data && back.hasData == event.hasData && back.id == event.id &&
          back.retry == event.retry);
  }
  return 0;
}
