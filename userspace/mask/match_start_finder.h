// MatchStartFinder: the leftmost start of a match ending at each given end, for detectors whose
// pattern Vectorscan refuses to compile with HS_FLAG_SOM_LEFTMOST ("Pattern is too large": a long
// bounded repetition next to an overlapping one, as in "sk-(proj-)?[A-Za-z0-9_-]{20,200}" or an
// email address). It runs the exact Glushkov automaton of the pattern (pattern_automaton.h) forward
// over the confirmation window, keeping for every position the earliest start that reaches it, so it
// reports what SOM_LEFTMOST would: the smallest start of a match ending there.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "mask/pattern_automaton.h"

namespace shadowai {

class MatchStartFinder {
 public:
  static std::optional<MatchStartFinder> build(std::string_view expression, bool caseless);

  // For every end in ENDS (sorted, inside [from, to]) at which a match starting at or after FROM
  // ends, appends (leftmost start, end) to OUT. Assertions see all of TEXT, not only the window.
  // Ends outside [from, to] are skipped, one by one: a caller searching many windows passes each
  // its own ends, or the skipping costs windows x ends.
  void findStarts(std::string_view text, size_t from, size_t to, std::span<const size_t> ends,
                  std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  PatternAutomaton automaton_;
};

}  // namespace shadowai
