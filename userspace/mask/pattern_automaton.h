// PatternAutomaton: a detector's expression (the PCRE subset Vectorscan accepts) parsed into a
// Glushkov position automaton, for the two questions Vectorscan cannot answer for every pattern:
// - exactly where each match starts (HS_FLAG_SOM_LEFTMOST refuses many bounded patterns as "too
//   large"): an exact automaton, every repetition unrolled, assertions kept as zero-width positions;
// - whether a text's tail could still grow into a match (DetectorSet::pendingSuffix): an
//   over-approximating automaton, assertions dropped and wide repetitions relaxed to x* / x+.
// Both read bytes (no UTF-8 mode), like the Vectorscan databases.
//
// Why our own engine and not PCRE2 (measured trial, issue 15 item 5, 2026-12-07, PCRE2 10.42 with
// JIT, Vectorscan still the first pass): PCRE2 gave the same starts for every end and the same
// masked output on every bench text, and passed every mask test including every split point, but
// it has no backward mode, so "may the tail still match" is a forward partial search over each
// detector's whole window on every stream delta: streamed sparse prose 1.90 -> 0.14 MB/s. Whole
// texts were even (sparse prose 1.84 -> 1.86 GB/s, both short of the 2 GB/s goal at load ~10).
// Figures and method: match_tail.h, match_start_finder.h, docs/benchmarks.md ("PCRE2 trial").
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace shadowai {

enum class PatternAssertion : uint8_t {
  kNone,                    // a position that consumes one byte of its class
  kWordBoundary,            // \b
  kNotWordBoundary,         // \B
  kTextStart,               // ^ and \A (no multi-line mode)
  kTextEnd,                 // \z
  kTextEndOrFinalNewline,   // $ and \Z
};

struct PatternPosition {
  std::bitset<256> bytes;
  PatternAssertion assertion = PatternAssertion::kNone;
  std::vector<uint32_t> follow;
  bool last = false;  // a match may end right after this position
};

struct PatternAutomaton {
  std::vector<PatternPosition> positions;
  std::vector<uint32_t> first;
  bool nullable = false;
  bool leadingWordBoundary = false;  // every match starts at a \b
};

enum class AutomatonMode { kExact, kOverApproximate };

// Null when the expression uses something outside the parsed subset (look-around, \p, back
// references, POSIX classes) or needs more than MAX_POSITIONS positions.
std::optional<PatternAutomaton> buildPatternAutomaton(std::string_view expression, bool caseless, AutomatonMode mode,
                                                      size_t maxPositions);

// Whether ASSERTION holds between TEXT[at - 1] and TEXT[at].
bool assertionHolds(PatternAssertion assertion, std::string_view text, size_t at);

}  // namespace shadowai
