// DetectorSet: a list of detectors compiled once into one Vectorscan database (all patterns and word
// lists together), shared read-only by every proxy thread. Scanning is one pass over the text for
// candidate match ends, then each candidate's exact span is confirmed on a bounded window before the
// detector's start (a per-detector start-of-match database), then validated (Luhn, mod-97, ...).
//
// Details that matter to callers:
// - Bytes, not UTF-8 (detector_expression.h): invalid UTF-8 and NULs are scanned like any byte.
// - The end pass may report more ends than real matches (it drops a leading \b for speed); the
//   confirmation is exact and runs on [end - maxLength - 1, end + 2], so \b and $ see real bytes.
// - Where Vectorscan refuses HS_FLAG_SOM_LEFTMOST for a pattern ("Pattern is too large": email, the
//   key patterns with long bounded runs, PEM, JWT), our exact Glushkov automaton finds the same
//   leftmost start (match_start_finder.h).
// - Scratch is per thread and grows to fit every set it meets (vectorscan_scratch.h), so sets may be
//   shared by any number of threads and several sets may coexist.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "mask/detector.h"

namespace shadowai {

struct DetectorMatch {
  uint32_t detector = 0;  // index into DetectorSet::detectors()
  size_t begin = 0;       // the span to replace (the value only, for replaceValueOnly detectors)
  size_t end = 0;

  bool operator==(const DetectorMatch&) const = default;
};

// Which detectors of a set are switched on for a call, by index.
using DetectorSelection = std::vector<bool>;

// The bytes an assigned value holds (no blank, quote, angle bracket, ',' or ';'), and those of them
// that end a value only when nothing of it follows: what closes a sentence or a bracket around it.
// Detector::extendsToValueEnd extends a match over the first, less a trailing run of the second.
bool isAssignedValueByte(char c);
bool isValueCloser(char c);

class DetectorSet {
 public:
  // Compiles the detectors; the error names the detector that does not compile.
  static Result<std::shared_ptr<const DetectorSet>> compile(std::vector<Detector> detectors);
  ~DetectorSet();
  DetectorSet(const DetectorSet&) = delete;
  DetectorSet& operator=(const DetectorSet&) = delete;

  const std::vector<Detector>& detectors() const;
  std::optional<uint32_t> indexOf(std::string_view name) const;
  DetectorSelection all() const { return DetectorSelection(detectors().size(), true); }

  // The validated matches of the selected detectors in TEXT, sorted by position and not overlapping:
  // of two overlapping matches the one starting first wins, then the longer one. Thread-safe (each
  // thread uses its own Vectorscan scratch). An error only when Vectorscan fails: callers refuse the
  // call rather than let text through unmasked.
  Status scan(std::string_view text, const DetectorSelection& selected, std::vector<DetectorMatch>& out) const;
  // scan() without the matches whose replaced span begins before MIN_BEGIN, dropped before overlaps
  // are resolved: a stream scans the text it already released as left context (so \b and the
  // leftmost start of each match come out as they would on the whole text) without re-deciding it.
  // CPU_DEADLINE_NS (threadCpuNanos(); 0: none): past it the scan stops with an error, checked while
  // it confirms candidates, where a text dense with near-matches spends its time.
  Status scanFrom(std::string_view text, size_t minBegin, const DetectorSelection& selected,
                  std::vector<DetectorMatch>& out, uint64_t cpuDeadlineNs = 0) const;

  // How many bytes at the end of TEXT could still become part of a match of a selected detector once
  // more text follows (0 when the text ends where no match can be in progress). At most maxWindow().
  // A match ending exactly at the end counts as pending too: what follows may extend it or, through
  // a trailing \b, cancel it. Per detector this is a backward walk of a Glushkov automaton of the
  // pattern (see match_tail.h): sound for every pattern, tight for the Vectorscan subset it parses
  // (all built-ins); after "Hello world. " it is 0, after "mail john" it is 4.
  size_t pendingSuffix(std::string_view text, const DetectorSelection& selected) const;

  // The longest match any detector can produce.
  size_t maxWindow() const;

 private:
  struct Impl;
  explicit DetectorSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shadowai
