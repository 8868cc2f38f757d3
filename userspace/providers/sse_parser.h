// Incremental Server-Sent-Events parser (WHATWG HTML "Interpreting an event stream"). Bytes arrive as
// the upstream sends them, cut anywhere (inside a line, between '\r' and '\n', inside the UTF-8 BOM),
// and each complete block comes out as soon as its blank line is seen, so streamed answers reach the
// masker and the client without waiting for the whole response.
//
// Memory is bounded: a block (its pending line included) larger than maxEventBytes is an error, and
// the parser stays failed, because an upstream that never sends a blank line must not grow us forever.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "providers/sse_event.h"

namespace shadowai {

class SseParser {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 4 << 20;

  explicit SseParser(size_t maxEventBytes = kDefaultMaxEventBytes) : maxEventBytes_(maxEventBytes) {}

  // Every block completed by these bytes, in order. Blocks with only comments or only an id are
  // returned too (see SseEvent::dispatchable). After an error every later call fails the same way.
  Result<std::vector<SseEvent>> feed(std::string_view bytes);

  // End of stream. WHATWG discards a block that never got its blank line; a proxy may still want to
  // forward it, so it is returned (nullopt when the stream ended on a block boundary).
  Result<std::optional<SseEvent>> finish();

 private:
  void processLine(std::string_view line, SseLineEnding ending, std::vector<SseEvent>& out);
  Status chargeBytes(size_t count);

  size_t maxEventBytes_;
  std::string line_;        // an incomplete line carried over from the previous feed()
  SseEvent current_;        // the block being assembled
  bool started_ = false;    // current_ has seen at least one non-blank line
  size_t blockBytes_ = 0;   // bytes of the current block seen so far, for the limit
  bool afterCr_ = false;    // the last byte was '\r': a leading '\n' of the next feed() belongs to it
  SseLineEnding lastEnding_ = SseLineEnding::kLf;
  size_t bomMatched_ = 0;   // how many bytes of a leading UTF-8 BOM have been matched so far
  bool bomDone_ = false;
  std::optional<Error> failure_;
};

}  // namespace shadowai
