// MatchStartFinder: the leftmost start of a match ending at each given end, for detectors whose
// pattern Vectorscan refuses to compile with HS_FLAG_SOM_LEFTMOST ("Pattern is too large": a long
// bounded repetition next to an overlapping one, as in "sk-(proj-)?[A-Za-z0-9_-]{20,200}" or an
// email address). It runs the exact Glushkov automaton of the pattern (pattern_automaton.h) forward
// over the confirmation window, keeping for every position the earliest start that reaches it, so it
// reports what SOM_LEFTMOST would: the smallest start of a match ending there.
//
// PCRE2 with JIT was tried for this (issue 15 item 5, 2026-12-07) and not kept, since it could not
// replace MatchTail (see match_tail.h) and the parser is shared. What it takes to be exact: the
// pattern as (?:P)(?C1) with a callout that records the start for the end reached and fails the
// path (plain backtracking stops at the first match by priority: "ab|abcde" never shows abcde),
// PCRE2_NO_AUTO_POSSESS (else "[a-z]{1,5}" before the callout turns possessive and reports only the
// longest end), the whole text as subject with the window as start offset and offset limit (\b, $),
// and a match limit whose hit refuses the call. So built, it found the same start for all 441 ends
// of the match_tail test texts; medians of 5 alternating runs: sparse prose 1.84 -> 1.86 GB/s,
// dense personal data 25.5 -> 24.7 MB/s, dense assignments 3.1 -> 4.6 MB/s, 80 000 short emails
// 56 -> 25 ms (PCRE2's start search skips prose without the live-span walk).
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
