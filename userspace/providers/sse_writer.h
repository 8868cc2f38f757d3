// Writes an SseEvent back in the shape it was read in (comments, id, event, data lines, retry, and
// its line ending), so a masked event re-emitted by the proxy parses the same in every SDK.
#pragma once

#include <string>

#include "providers/sse_event.h"

namespace shadowai {

// Line breaks inside data become separate `data:` lines (they re-parse as '\n'); line breaks inside
// the single-line fields (event, id, comments) are replaced with spaces so framing can never break.
// A block that held only unknown fields (or a bare `event:`) is written as nothing.
std::string serializeSseEvent(const SseEvent& event);

}  // namespace shadowai
