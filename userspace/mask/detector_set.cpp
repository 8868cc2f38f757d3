#include "mask/detector_set.h"

#include <hs.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>

#include "common/thread_cpu_time.h"
#include "mask/detector_expression.h"
#include "mask/match_start_finder.h"
#include "mask/match_tail.h"
#include "mask/match_validators.h"
#include "mask/vectorscan_handles.h"
#include "mask/vectorscan_scratch.h"

namespace shadowai {

namespace {

struct Candidate {
  uint32_t detector;
  uint32_t end;
  bool operator<(const Candidate& other) const {
    return detector != other.detector ? detector < other.detector : end < other.end;
  }
  bool operator==(const Candidate&) const = default;
};

struct FastContext {
  const DetectorSelection* selected;
  std::vector<Candidate>* candidates;
};

int onFastMatch(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/, void* context) {
  auto* fast = static_cast<FastContext*>(context);
  if (id < fast->selected->size() && (*fast->selected)[id]) {
    fast->candidates->push_back(Candidate{id, static_cast<uint32_t>(to)});
  }
  return 0;
}

struct ConfirmContext {
  uint32_t detector;
  const Candidate* endsBegin;  // this detector's candidate ends, sorted
  const Candidate* endsEnd;
  size_t windowStart;
  std::vector<std::pair<size_t, size_t>>* spans;
};

int onConfirmMatch(unsigned /*id*/, unsigned long long from, unsigned long long to, unsigned /*flags*/, void* context) {
  auto* confirm = static_cast<ConfirmContext*>(context);
  // A start on the window's first byte only looks like one because the window hides the byte
  // before it (\b, ^); real starts lie later, since the window begins maxLength + 1 before the end.
  if (from == 0 && confirm->windowStart > 0) return 0;
  size_t end = confirm->windowStart + to;
  // Only ends the full-text pass saw: at the window's far edge \b and $ see a false end of text.
  Candidate key{confirm->detector, static_cast<uint32_t>(end)};
  if (!std::binary_search(confirm->endsBegin, confirm->endsEnd, key)) return 0;
  confirm->spans->emplace_back(confirm->windowStart + from, end);
  return 0;
}

// For "key: value" detectors, where the value starts: after the first ':' or '=' (or the first
// MARKER, when the detector names one) and the quotes (escaped or not) and blanks that follow it.
// MATCH_END when nothing is left.
size_t valueStart(std::string_view text, size_t begin, size_t end, std::string_view marker) {
  size_t i = begin;
  if (!marker.empty()) {
    size_t found = text.substr(begin, end - begin).find(marker);
    if (found == std::string_view::npos) return begin;
    i = begin + found + marker.size();
  } else {
    while (i < end && text[i] != ':' && text[i] != '=') ++i;
    if (i == end) return begin;
    ++i;
  }
  while (i < end && (text[i] == ' ' || text[i] == '\t' || text[i] == '"' || text[i] == '\'' || text[i] == '\\')) ++i;
  return i;
}

// Where an assigned value that reached END goes on to: its bytes, less the closers at its end.
// RUN caches the last run of value bytes walked: every match inside one value ("token=token=..."
// repeated for a MiB) reuses it, so the walks cost linear time in all.
struct ValueRun {
  size_t from = SIZE_MAX;
  size_t to = 0;
  size_t trimmed = 0;  // TO less the closing characters, down to FROM at most
};
size_t valueEnd(std::string_view text, size_t end, ValueRun& run) {
  if (end < run.from || end > run.to) {
    run.from = end;
    run.to = end;
    while (run.to < text.size() && isAssignedValueByte(text[run.to])) ++run.to;
    run.trimmed = run.to;
    while (run.trimmed > run.from && isValueCloser(text[run.trimmed - 1])) --run.trimmed;
  }
  return std::max(run.trimmed, end);
}

}  // namespace

bool isAssignedValueByte(char c) { return std::string_view(" \t\r\n\f\v\"'<>,;").find(c) == std::string_view::npos; }
bool isValueCloser(char c) { return std::string_view(".:?)]}\\").find(c) != std::string_view::npos; }

struct DetectorSet::Impl {
  std::vector<Detector> detectors;
  std::vector<size_t> maxLength;  // per detector: the longest match
  std::vector<MatchTail> tails;
  std::vector<VectorscanDatabasePtr> fast;     // end offsets only, all detectors over a few databases
  std::vector<VectorscanDatabasePtr> confirm;  // per detector, HS_FLAG_SOM_LEFTMOST, when Vectorscan can
  std::vector<std::optional<MatchStartFinder>> finders;  // per detector, when it cannot
  std::vector<hs_database_t*> all;    // every database, to grow scratch for
  size_t maxWindow = 0;
  uint64_t scratchFamily = newScratchFamilyId();
};

DetectorSet::DetectorSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DetectorSet::~DetectorSet() = default;

Result<std::shared_ptr<const DetectorSet>> DetectorSet::compile(std::vector<Detector> detectors) {
  auto impl = std::make_unique<Impl>();
  // The end-offset pass is split into a few databases: Vectorscan builds one engine per database
  // and, given the personal-data shapes (digit, hex and upper-case classes) together with some
  // other patterns, picks a slow one, where separate scans take less time together. Measured on
  // 1 MiB of prose (docs/benchmarks.md, "Masking"): the shapes with three or more alternatives
  // (phone numbers) go alone, and "name: value" detectors (replaceValueOnly: the date of birth
  // after its "DOB:" label) go with the secrets, which are anchored on their prefixes and names
  // too: with the shapes, the date of birth alone made their database 5x slower. A detector may
  // name a database of its own (Detector::endPassDatabase): HTTP Basic's, 34 us per MiB alone,
  // made the secrets' 60 % slower.
  // (One database per personal-data detector does not work with Vectorscan 5.4.9: its AVX-512
  // runtime loses matches of some single-pattern databases, e.g. ":[0-9A-Fa-f]{1,4}" or an SSN
  // near the end of a buffer, which the AVX2 runtime of the same library finds.)
  struct FastGroup {
    std::vector<std::string> expressions;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
  };
  std::map<std::tuple<std::string, DetectorCategory, size_t>, FastGroup> groups;
  for (size_t i = 0; i < detectors.size(); ++i) {
    const Detector& detector = detectors[i];
    auto where = [&](const std::string& message) { return makeError("detector '" + detector.name + "': " + message); };
    if (auto checked = checkDetector(detector); !checked) return where(checked.error().message);
    for (size_t j = 0; j < i; ++j) {
      if (detectors[j].name == detector.name) return where("name used twice");
    }
    std::string expression = detectorExpression(detector);
    unsigned detectorFlag = detectorFlags(detector);

    const VectorscanExpressionInfo described = describeExpression(expression.c_str(), detectorFlag);
    if (!described.info) {
      return where("pattern does not compile: " + compileErrorMessage(described.error, "unknown error"));
    }
    // An exact bound where Vectorscan can derive one; the declared maxLength otherwise.
    size_t width = described.info->max_width == UINT_MAX ? detector.maxLength : described.info->max_width;
    if (width == 0) return where("pattern can match text of unbounded length; bound every repetition");

    VectorscanCompiled confirm =
        compileExpression(expression.c_str(), detectorFlag | HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK);
    std::optional<MatchStartFinder> finder;
    if (!confirm.database) {
      // Vectorscan refuses start-of-match tracking for some bounded patterns ("Pattern is too
      // large"); our own exact automaton finds the same leftmost starts.
      finder = MatchStartFinder::build(expression, (detectorFlag & HS_FLAG_CASELESS) != 0);
      if (!finder) {
        return where("pattern does not compile with start-of-match tracking: " +
                     compileErrorMessage(confirm.error, "unknown error"));
      }
    }
    impl->confirm.push_back(std::move(confirm.database));
    impl->finders.push_back(std::move(finder));
    impl->maxLength.push_back(width);
    impl->maxWindow = std::max(impl->maxWindow, width);
    impl->tails.push_back(MatchTail::build(expression, (detectorFlag & HS_FLAG_CASELESS) != 0));
    std::string fastExpression =
        detector.endPassPattern.empty() ? fastPassExpression(expression) : detector.endPassPattern;
    if (!describeExpression(fastExpression.c_str(), detectorFlag).info) {
      fastExpression = expression;  // e.g. "(?:\\b)" left empty: keep the exact pattern
    }
    DetectorCategory anchoring = detector.replaceValueOnly ? DetectorCategory::kSecret : detector.category;
    FastGroup& group =
        groups[{detector.endPassDatabase, anchoring, topLevelAlternatives(expression) >= 3 ? size_t{1} : size_t{0}}];
    group.expressions.push_back(std::move(fastExpression));
    group.flags.push_back(detectorFlag);
    group.ids.push_back(static_cast<unsigned>(i));
  }
  for (auto& [key, group] : groups) {
    std::vector<const char*> pointers;
    for (const std::string& expression : group.expressions) pointers.push_back(expression.c_str());
    VectorscanCompiled fast = compileExpressions(pointers.data(), group.flags.data(), group.ids.data(),
                                                 static_cast<unsigned>(pointers.size()), HS_MODE_BLOCK);
    if (!fast.database) {
      const int index = fast.error != nullptr ? fast.error->expression : -1;
      const std::string message = compileErrorMessage(fast.error, "unknown error");
      if (index >= 0) {
        return makeError("detector '" + detectors[group.ids[static_cast<size_t>(index)]].name + "': " + message);
      }
      return makeError("detector set does not compile: " + message);
    }
    impl->fast.push_back(std::move(fast.database));
  }
  for (const VectorscanDatabasePtr& database : impl->fast) impl->all.push_back(database.get());
  for (const VectorscanDatabasePtr& database : impl->confirm) impl->all.push_back(database.get());
  impl->detectors = std::move(detectors);
  return std::shared_ptr<const DetectorSet>(new DetectorSet(std::move(impl)));
}

const std::vector<Detector>& DetectorSet::detectors() const { return impl_->detectors; }

std::optional<uint32_t> DetectorSet::indexOf(std::string_view name) const {
  for (size_t i = 0; i < impl_->detectors.size(); ++i) {
    if (impl_->detectors[i].name == name) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

size_t DetectorSet::maxWindow() const { return impl_->maxWindow; }

Status DetectorSet::scan(std::string_view text, const DetectorSelection& selected,
                         std::vector<DetectorMatch>& out) const {
  return scanFrom(text, 0, selected, out);
}

Status DetectorSet::scanFrom(std::string_view text, size_t minBegin, const DetectorSelection& selected,
                             std::vector<DetectorMatch>& out, uint64_t cpuDeadlineNs) const {
  out.clear();
  if (impl_->fast.empty() || text.empty()) return {};
  if (text.size() >= UINT_MAX) return makeError("text too large to mask");
  hs_scratch_t* scratch = threadScratch(impl_->scratchFamily, impl_->all.data(), impl_->all.size());
  if (scratch == nullptr) return makeError("cannot allocate Vectorscan scratch space");

  // Pass 1: every end offset at which some selected detector may match (a superset: the fast pass
  // drops a leading \b), over the whole text.
  thread_local std::vector<Candidate> candidates;
  candidates.clear();
  FastContext fast{&selected, &candidates};
  for (const VectorscanDatabasePtr& database : impl_->fast) {
    if (hs_scan(database.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch, onFastMatch, &fast) !=
        HS_SUCCESS) {
      return makeError("Vectorscan scan failed");
    }
  }
  if (candidates.empty()) return {};
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());

  // Pass 2, per detector: each end's leftmost start, on windows of maxLength + 1 bytes before the
  // ends (merged when they overlap) and 2 after (so \b and $ at the end see the real next byte).
  thread_local std::vector<std::pair<size_t, size_t>> spans;
  size_t windows = 0;
  size_t groupBegin = 0;
  while (groupBegin < candidates.size()) {
    uint32_t detector = candidates[groupBegin].detector;
    size_t groupEnd = groupBegin;
    while (groupEnd < candidates.size() && candidates[groupEnd].detector == detector) ++groupEnd;
    const Detector& info = impl_->detectors[detector];
    size_t reach = impl_->maxLength[detector] + 1;
    spans.clear();
    size_t i = groupBegin;
    while (i < groupEnd) {
      // A window costs at most a few microseconds; reading the clock every 64 is noise.
      if (cpuDeadlineNs != 0 && (++windows & 63) == 0 && threadCpuNanos() > cpuDeadlineNs) {
        return makeError("the scan ran past its CPU budget");
      }
      size_t end = candidates[i].end;
      size_t windowStart = end > reach ? end - reach : 0;
      size_t windowEnd = std::min(text.size(), end + 2);
      size_t j = i + 1;
      while (j < groupEnd && candidates[j].end - std::min<size_t>(candidates[j].end, reach) <= windowEnd) {
        windowEnd = std::min(text.size(), size_t{candidates[j].end} + 2);
        ++j;
      }
      if (impl_->confirm[detector]) {
        ConfirmContext confirm{detector, &candidates[groupBegin], &candidates[groupBegin] + (groupEnd - groupBegin),
                               windowStart, &spans};
        if (hs_scan(impl_->confirm[detector].get(), text.data() + windowStart,
                    static_cast<unsigned>(windowEnd - windowStart), 0, scratch, onConfirmMatch, &confirm) != HS_SUCCESS) {
          return makeError("Vectorscan scan failed");
        }
      } else {
        thread_local std::vector<size_t> ends;
        ends.clear();
        for (size_t k = i; k < j; ++k) ends.push_back(candidates[k].end);
        // Our automaton costs per byte of window, and most of a maxLength window is prose no
        // match can start in: search only the stretches a backward walk from the ends finds live,
        // each from its earliest possible start.
        thread_local std::vector<MatchTail::LiveSpan> live;
        impl_->tails[detector].liveSpans(text, ends, windowStart, live);
        for (const MatchTail::LiveSpan& stretch : live) {
          // Each stretch gets its own ends: with all of them, every search would step over the
          // others' ends, and text dense with short matches ("x@y.io " repeated) turned quadratic.
          auto first = std::lower_bound(ends.begin(), ends.end(), stretch.earliestStart);
          auto last = std::upper_bound(first, ends.end(), stretch.lastEnd);
          impl_->finders[detector]->findStarts(text, stretch.earliestStart,
                                               std::min(windowEnd, stretch.lastEnd + 2),
                                               std::span<const size_t>(first, last), spans);
        }
      }
      i = j;
    }
    // Replaced spans, longest first among those that begin at the same byte: of these only the
    // longest valid one can survive the overlap resolution below (it sorts before the shorter ones
    // and, kept or not, they overlap what it overlaps), so the rest need no validation. An OpenAI
    // key ends a match at every byte past its 20th: the bench's keys were validated ~37 times each.
    for (auto& [start, end] : spans) {
      if (info.replaceValueOnly) start = valueStart(text, start, end, info.valueMarker);
    }
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    spans.erase(std::unique(spans.begin(), spans.end()), spans.end());
    size_t validBegin = SIZE_MAX;
    ValueRun valueRun;
    for (auto [begin, end] : spans) {
      if (begin >= end || begin < minBegin || begin == validBegin) continue;
      if (!validateMatch(info.validator, text.substr(begin, end - begin))) continue;
      if (info.wholeNumberToken && continuesALongerNumber(text, begin, end)) continue;
      if (info.extendsToValueEnd) end = valueEnd(text, end, valueRun);
      out.push_back(DetectorMatch{detector, begin, end});
      validBegin = begin;
    }
    groupBegin = groupEnd;
  }

  // Overlaps: the earliest start wins, then the longer match, then the detector listed first.
  std::sort(out.begin(), out.end(), [](const DetectorMatch& a, const DetectorMatch& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.detector < b.detector;
  });
  size_t kept = 0;
  size_t lastEnd = 0;
  for (const DetectorMatch& match : out) {
    if (kept > 0 && match.begin < lastEnd) continue;
    out[kept++] = match;
    lastEnd = match.end;
  }
  out.resize(kept);
  return {};
}

size_t DetectorSet::pendingSuffix(std::string_view text, const DetectorSelection& selected) const {
  size_t pending = 0;
  for (size_t i = 0; i < impl_->detectors.size() && i < selected.size(); ++i) {
    if (!selected[i]) continue;
    pending = std::max(pending, impl_->tails[i].pendingBytes(text, impl_->maxLength[i]));
  }
  return std::min(pending, impl_->maxWindow);
}

}  // namespace shadowai
