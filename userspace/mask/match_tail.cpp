#include "mask/match_tail.h"

#include "mask/pattern_automaton.h"

namespace shadowai {

namespace {

constexpr size_t kMaxTailPositions = 4096;

bool isWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

MatchTail MatchTail::build(std::string_view expression, bool caseless) {
  MatchTail tail;
  auto automaton = buildPatternAutomaton(expression, caseless, AutomatonMode::kOverApproximate, kMaxTailPositions);
  if (!automaton) return tail;
  size_t count = automaton->positions.size();
  tail.words_ = (count + 63) / 64;
  tail.accept_.assign(256 * tail.words_, 0);
  tail.preceding_.assign(count * tail.words_, 0);
  tail.first_.assign(tail.words_, 0);
  tail.last_.assign(tail.words_, 0);
  for (size_t p = 0; p < count; ++p) {
    const PatternPosition& position = automaton->positions[p];
    for (unsigned b = 0; b < 256; ++b) {
      if (position.bytes[b]) tail.accept_[b * tail.words_ + p / 64] |= uint64_t{1} << (p % 64);
    }
    for (uint32_t q : position.follow) tail.preceding_[q * tail.words_ + p / 64] |= uint64_t{1} << (p % 64);
    if (position.last) tail.last_[p / 64] |= uint64_t{1} << (p % 64);
  }
  for (uint32_t p : automaton->first) tail.first_[p / 64] |= uint64_t{1} << (p % 64);
  tail.leadingBoundary_ = automaton->leadingWordBoundary;
  tail.nullable_ = automaton->nullable;
  tail.opaque_ = false;
  return tail;
}

size_t MatchTail::pendingBytes(std::string_view text, size_t maxLength) const {
  size_t n = text.size();
  if (n == 0 || maxLength == 0) return 0;
  size_t limit = n > maxLength ? n - maxLength : 0;
  if (opaque_) return n - limit;

  auto byteAt = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  Bits current(accept_.begin() + static_cast<ptrdiff_t>(byteAt(n - 1) * words_),
               accept_.begin() + static_cast<ptrdiff_t>((byteAt(n - 1) + 1) * words_));
  Bits next(words_);
  size_t earliest = n;
  size_t j = n - 1;
  while (true) {
    bool any = false;
    bool startsHere = false;
    for (size_t w = 0; w < words_; ++w) {
      any = any || current[w] != 0;
      startsHere = startsHere || (current[w] & first_[w]) != 0;
    }
    if (!any) break;
    if (startsHere && leadingBoundary_) {
      bool before = j > 0 && isWordByte(byteAt(j - 1));
      startsHere = before != isWordByte(byteAt(j));
    }
    if (startsHere) earliest = j;
    if (j == limit) break;
    --j;
    // B_j: positions that read TEXT[j] and are followed by a position of B_j+1.
    std::fill(next.begin(), next.end(), 0);
    for (size_t w = 0; w < words_; ++w) {
      uint64_t bits = current[w];
      while (bits != 0) {
        size_t q = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        const uint64_t* row = &preceding_[q * words_];
        for (size_t v = 0; v < words_; ++v) next[v] |= row[v];
      }
    }
    const uint64_t* accept = &accept_[byteAt(j) * words_];
    for (size_t w = 0; w < words_; ++w) next[w] &= accept[w];
    current.swap(next);
  }
  return n - earliest;
}

std::optional<size_t> MatchTail::earliestStart(std::string_view text, const std::vector<size_t>& ends,
                                               size_t floor) const {
  if (ends.empty()) return std::nullopt;
  if (opaque_) return floor;
  std::optional<size_t> earliest;
  // An empty match starts where it ends.
  if (nullable_) {
    for (size_t end : ends) {
      if (end >= floor) {
        earliest = end;
        break;
      }
    }
  }
  walkBack(text, ends, floor, [&](size_t start, size_t /*lastEnd*/) {
    earliest = earliest ? std::min(*earliest, start) : start;
  });
  return earliest;
}

void MatchTail::liveSpans(std::string_view text, const std::vector<size_t>& ends, size_t floor,
                          std::vector<LiveSpan>& out) const {
  out.clear();
  if (ends.empty()) return;
  if (opaque_ || nullable_) {
    if (std::optional<size_t> earliest = earliestStart(text, ends, floor)) out.push_back({*earliest, ends.back()});
    return;
  }
  walkBack(text, ends, floor, [&](size_t start, size_t lastEnd) { out.push_back({start, lastEnd}); });
}

template <typename OnSpan>
void MatchTail::walkBack(std::string_view text, const std::vector<size_t>& ends, size_t floor,
                         OnSpan&& onSpan) const {
  auto byteAt = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  Bits current(words_);
  Bits next(words_);
  bool live = false;  // current (B_j+1) is not empty
  size_t pendingEnd = ends.size();  // ends[0, pendingEnd) are still ahead of the walk (below it)
  size_t j = ends.back();
  size_t spanEnd = j;  // the end the current live stretch began at
  constexpr size_t kNoStart = SIZE_MAX;
  size_t spanStart = kNoStart;  // the earliest start found in it
  auto closeSpan = [&] {
    if (spanStart != kNoStart) onSpan(spanStart, spanEnd);
    spanStart = kNoStart;
  };
  while (true) {
    // Skip to the next end when nothing is live: no match can start in between.
    if (!live) {
      closeSpan();
      while (pendingEnd > 0 && ends[pendingEnd - 1] > j) --pendingEnd;
      if (pendingEnd == 0) break;
      j = ends[pendingEnd - 1];
      spanEnd = j;
    }
    if (j <= floor) break;
    --j;
    // B_j: positions that read TEXT[j] and either end a match at j + 1 or are followed by a
    // position of B_j+1.
    std::fill(next.begin(), next.end(), 0);
    if (live) {
      for (size_t w = 0; w < words_; ++w) {
        uint64_t bits = current[w];
        while (bits != 0) {
          size_t q = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
          bits &= bits - 1;
          const uint64_t* row = &preceding_[q * words_];
          for (size_t v = 0; v < words_; ++v) next[v] |= row[v];
        }
      }
    }
    bool endsHere = false;
    while (pendingEnd > 0 && ends[pendingEnd - 1] > j) {
      endsHere = endsHere || ends[pendingEnd - 1] == j + 1;
      --pendingEnd;
    }
    if (endsHere) {
      for (size_t w = 0; w < words_; ++w) next[w] |= last_[w];
    }
    const uint64_t* accept = &accept_[byteAt(j) * words_];
    live = false;
    bool startsHere = false;
    for (size_t w = 0; w < words_; ++w) {
      next[w] &= accept[w];
      live = live || next[w] != 0;
      startsHere = startsHere || (next[w] & first_[w]) != 0;
    }
    if (startsHere && leadingBoundary_) {
      bool before = j > 0 && isWordByte(byteAt(j - 1));
      startsHere = before != isWordByte(byteAt(j));
    }
    if (startsHere) spanStart = j;
    current.swap(next);
  }
  closeSpan();
}

}  // namespace shadowai
