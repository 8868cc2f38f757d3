#include "mask/match_start_finder.h"

#include <limits>

namespace shadowai {

namespace {

// Enough for the widest built-in (an 8 KiB PEM body unrolled); a custom pattern beyond it is refused.
constexpr size_t kMaxExactPositions = 1 << 16;
constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Earliest start per position with the list of positions touched, so clearing costs what was used.
struct StartTable {
  std::vector<size_t> start;
  std::vector<uint32_t> touched;

  void reset(size_t size) {
    if (start.size() < size) start.assign(size, kNone);
    for (uint32_t p : touched) start[p] = kNone;
    touched.clear();
  }
  bool lower(uint32_t p, size_t value) {
    if (start[p] == kNone) touched.push_back(p);
    if (value >= start[p]) return false;
    start[p] = value;
    return true;
  }
};

}  // namespace

std::optional<MatchStartFinder> MatchStartFinder::build(std::string_view expression, bool caseless) {
  auto automaton = buildPatternAutomaton(expression, caseless, AutomatonMode::kExact, kMaxExactPositions);
  if (!automaton || automaton->nullable) return std::nullopt;
  MatchStartFinder finder;
  finder.automaton_ = std::move(*automaton);
  return finder;
}

void MatchStartFinder::findStarts(std::string_view text, size_t from, size_t to, std::span<const size_t> ends,
                                  std::vector<std::pair<size_t, size_t>>& out) const {
  const auto& positions = automaton_.positions;
  thread_local StartTable completed;  // consuming positions that just read the byte before the boundary
  thread_local StartTable nextCompleted;
  thread_local StartTable enabled;    // consuming positions that may read the byte after it
  thread_local StartTable passed;     // assertion positions passed at this boundary
  thread_local std::vector<std::pair<uint32_t, size_t>> stack;
  completed.reset(positions.size());
  nextCompleted.reset(positions.size());
  enabled.reset(positions.size());
  passed.reset(positions.size());

  size_t nextEnd = 0;
  for (size_t at = from; at <= to; ++at) {
    enabled.reset(positions.size());
    passed.reset(positions.size());
    size_t acceptStart = kNone;
    stack.clear();
    // Follow POSITION's successors at this boundary: through the assertions that hold here, up to
    // the consuming positions that may read TEXT[at].
    auto expand = [&](const std::vector<uint32_t>& successors, size_t start) {
      for (uint32_t q : successors) {
        const PatternPosition& position = positions[q];
        if (position.assertion == PatternAssertion::kNone) {
          enabled.lower(q, start);
        } else if (assertionHolds(position.assertion, text, at) && passed.lower(q, start)) {
          stack.emplace_back(q, start);
        }
      }
    };
    for (uint32_t p : completed.touched) {
      size_t start = completed.start[p];
      if (positions[p].last) acceptStart = std::min(acceptStart, start);
      expand(positions[p].follow, start);
    }
    if (at < to) expand(automaton_.first, at);
    while (!stack.empty()) {
      auto [q, start] = stack.back();
      stack.pop_back();
      if (passed.start[q] < start) continue;  // reached again from an earlier start meanwhile
      if (positions[q].last) acceptStart = std::min(acceptStart, start);
      expand(positions[q].follow, start);
    }
    while (nextEnd < ends.size() && ends[nextEnd] < at) ++nextEnd;
    if (acceptStart != kNone && nextEnd < ends.size() && ends[nextEnd] == at) out.emplace_back(acceptStart, at);
    if (at == to) break;

    auto byte = static_cast<unsigned char>(text[at]);
    nextCompleted.reset(positions.size());
    for (uint32_t q : enabled.touched) {
      if (positions[q].bytes[byte]) nextCompleted.lower(q, enabled.start[q]);
    }
    std::swap(completed, nextCompleted);
  }
}

}  // namespace shadowai
