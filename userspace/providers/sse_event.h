// One Server-Sent-Events block as it crossed the wire: what the parser hands out and what the writer
// re-emits after masking. It keeps more than a browser's EventSource would (comments, the line ending,
// blocks without data) because a proxy must forward keep-alives and framing the client may rely on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shadowai {

enum class SseLineEnding { kLf, kCrLf, kCr };

struct SseEvent {
  std::string type;                  // the `event:` field; empty when absent (a "message" event)
  std::string data;                  // `data:` lines joined with '\n'
  bool hasData = false;              // at least one `data:` line, even an empty one
  std::optional<std::string> id;     // the `id:` field (ignored by the rules if it holds NUL)
  std::optional<uint64_t> retry;     // the `retry:` field when it is all ASCII digits
  std::vector<std::string> comments; // text after ':' of each comment line (keep-alives, pings)
  SseLineEnding lineEnding = SseLineEnding::kLf;  // the terminator of the blank line that ended it

  // Whether an EventSource would dispatch it: WHATWG drops blocks whose data buffer stays empty.
  bool dispatchable() const { return hasData; }

  bool operator==(const SseEvent&) const = default;
};

}  // namespace shadowai
