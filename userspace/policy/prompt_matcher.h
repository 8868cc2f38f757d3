// The prompt conditions of one block rule (its patterns and words) compiled into one Vectorscan
// block-mode database. A block rule only needs to know whether and which of its expressions fires,
// so every expression is single-match and the scan stops at the first one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace shadowai {

class PromptMatcher {
 public:
  // Vectorscan's error for PATTERN as a block pattern, or nullopt when it compiles. Checked one by
  // one so that every bad pattern of a file is reported, not only the first of a database.
  static std::optional<std::string> patternError(const std::string& pattern);

  // Compiles PATTERNS then WORDS (whole words or phrases, case-insensitive unless CASE_SENSITIVE).
  static Result<std::unique_ptr<PromptMatcher>> compile(const std::vector<std::string>& patterns,
                                                        const std::vector<std::string>& words, bool caseSensitive);
  ~PromptMatcher();
  PromptMatcher(const PromptMatcher&) = delete;
  PromptMatcher& operator=(const PromptMatcher&) = delete;

  // The index of the expression that fires first in TEXT (patterns first, then words: word i is
  // patterns.size() + i), or nullopt. Thread-safe: each thread scans with its own scratch. An error
  // only when Vectorscan fails; callers then refuse the call rather than let it through unchecked.
  Result<std::optional<uint32_t>> firstMatch(std::string_view text) const;

 private:
  struct Impl;
  explicit PromptMatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The Vectorscan expression for a listed word: literal, runs of white space match any white space,
// and a \b at each end that is an ASCII letter, digit or '_' (so "confidential" misses "nonconfidential"
// but "C++" still matches in "C++ code").
std::string wordExpression(std::string_view word);

}  // namespace shadowai
