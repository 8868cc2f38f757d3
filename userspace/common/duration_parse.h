// Parses durations as users write them on a command line: "30s", "2m", "500ms", "1h", or a bare
// number of seconds.
#pragma once

#include <chrono>
#include <string_view>

#include "common/result.h"

namespace shadowai {
Result<std::chrono::milliseconds> parseDuration(std::string_view text);
}
