#include "common/duration_parse.h"

#include <charconv>
#include <string>

namespace shadowai {

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  const std::string shown(text);
  uint64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end == text.data()) {
    return makeError("bad duration '" + shown + "': expected a number with a unit, e.g. 30s, 2m, 500ms");
  }
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t millisPerUnit = 0;
  if (unit.empty() || unit == "s") millisPerUnit = 1000;
  else if (unit == "ms") millisPerUnit = 1;
  else if (unit == "m") millisPerUnit = 60'000;
  else if (unit == "h") millisPerUnit = 3'600'000;
  else return makeError("bad duration '" + shown + "': unknown unit '" + std::string(unit) + "' (use ms, s, m or h)");
  constexpr uint64_t kLimitMillis = 7ull * 24 * 3'600'000;  // a week: anything longer is a typo
  if (number == 0) return makeError("bad duration '" + shown + "': must be more than zero");
  if (number > kLimitMillis / millisPerUnit) return makeError("bad duration '" + shown + "': longer than a week");
  return std::chrono::milliseconds(number * millisPerUnit);
}

}  // namespace shadowai
