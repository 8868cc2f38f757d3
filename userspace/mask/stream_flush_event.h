// The event that carries a stream channel's flushed text when the channel ends: a copy of the
// channel's last delta event, so it has the type and shape SDKs expect, with only that text in it.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "providers/provider_call.h"
#include "providers/sse_event.h"

namespace shadowai {

// MODEL is the channel's last delta event and SEGMENTS the texts the adapter found in it; the result
// has SEGMENTS[keep] set to TEXT, every other text emptied (they were sent already), and every array
// on the way to it cut down to the one element that leads there (other choices, candidates, parts and
// tool calls carry their own "index", and must not be repeated). Comments are not repeated either.
Result<SseEvent> streamFlushEvent(const SseEvent& model, const std::vector<TextSegment>& segments, size_t keep,
                                  const std::string& text);

}  // namespace shadowai
