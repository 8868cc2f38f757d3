// MatchTail answers DetectorSet::pendingSuffix for one detector: the earliest position from which the
// end of a text could still be the beginning (or all) of a match once more text follows.
//
// How: the detector's expression is parsed (the Vectorscan subset our patterns use) into a Glushkov
// position automaton of an over-approximation of its language: assertions (\b, ^, $) are dropped
// and a repetition {m,n} wider than a few copies becomes x* or x+. Every position of a Glushkov
// automaton can still reach the end of a match, so "TEXT[j..n) is a prefix of some match" is exactly
// "some path from a first position reads TEXT[j..n)". That is checked backwards from the end with
// position bitsets (B_j = positions reading TEXT[j] with a follower in B_j+1), stopping as soon as
// the set is empty -- after "Hello world. " it empties on the first byte, so nothing is held.
//
// Sound: the approximated language contains the real one, and j is never earlier than the
// detector's longest match allows, so no byte that could become part of a match is reported as
// final. The only assertion kept is a leading \b, checked exactly at the candidate start (it is what
// stops "task" from looking like the start of "sk-..."). A pattern outside the parsed subset falls
// back to "the last maxLength bytes are pending", which is sound but not tight.
//
// PCRE2 was tried in its place and not kept (issue 15 item 5, 2026-12-07; medians of 5 alternating
// runs, load 9-11): (?:P)(?C1) with PCRE2_PARTIAL_HARD from end - maxLength, the callout failing
// complete matches that end before the text's end, answers exactly (tighter than this walk on 1.6 %
// of the test prefixes, never looser, and as sound). But it reads each detector's window forward
// on every delta, where this walk stops at the first dead byte: ~100 us more per delta with the
// built-in set. mask_bench's sparse prose in 16-byte deltas 1.90 -> 0.14 MB/s, stream_shapes_bench's
// 64 Ki 1-byte deltas of prose 806 -> 6089 ms of CPU. A hit match limit was handled as "the whole
// window is pending" (sound); the trial code is not in the tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace shadowai {

class MatchTail {
 public:
  static MatchTail build(std::string_view expression, bool caseless);

  // How many trailing bytes of TEXT could be part of a match of at most MAX_LENGTH bytes that ends
  // at or after the end of TEXT.
  size_t pendingBytes(std::string_view text, size_t maxLength) const;

  // A lower bound, never below FLOOR, on where a match ending at one of ENDS (ascending offsets
  // into TEXT) can start; nullopt when the over-approximated language has no match ending at any of
  // them. The same backward walk, from the ends instead of the text's end: B_j = positions reading
  // TEXT[j] that end a match at j + 1 (when j + 1 is one of ENDS) or precede a position of B_j+1; a
  // match may start at j when B_j holds a first position (and the leading \b holds at j). Sound for
  // the same reason as pendingBytes, so the exact start-of-match search may begin there instead of
  // a whole maxLength before the end. FLOOR when the pattern is outside the parsed subset.
  std::optional<size_t> earliestStart(std::string_view text, const std::vector<size_t>& ends, size_t floor) const;

  // The same walk, cut where it dies: a stretch of TEXT where no position is live separates the
  // ends above it from every start below it, so each live span (the earliest start in it and the
  // highest end that began it) can be searched for starts on its own. In dense text the ends of
  // one detector lie closer than its longest match, and a single window from the earliest start
  // would cover the text between them too: an email's window reaches 730 bytes back. Replaces OUT;
  // spans come highest first, and ends whose walk finds no start get none. One span from
  // earliestStart to the last end when the pattern is outside the parsed subset or matches empty.
  struct LiveSpan {
    size_t earliestStart;
    size_t lastEnd;
  };
  void liveSpans(std::string_view text, const std::vector<size_t>& ends, size_t floor,
                 std::vector<LiveSpan>& out) const;

  bool exact() const { return !opaque_; }

 private:
  using Bits = std::vector<uint64_t>;
  bool opaque_ = true;
  bool leadingBoundary_ = false;
  size_t words_ = 0;
  std::vector<uint64_t> accept_;    // 256 rows of words_: positions whose class holds the byte
  std::vector<uint64_t> preceding_; // one row per position: positions it may follow
  Bits first_;
  Bits last_;
  bool nullable_ = false;

  // The backward walk of earliestStart and liveSpans: ON_SPAN(earliest start, end it began at) for
  // every stretch where positions stay live and some start was found.
  template <typename OnSpan>
  void walkBack(std::string_view text, const std::vector<size_t>& ends, size_t floor, OnSpan&& onSpan) const;

};

}  // namespace shadowai
