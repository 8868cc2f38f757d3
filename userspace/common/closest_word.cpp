#include "common/closest_word.h"

#include <algorithm>
#include <numeric>

namespace shadowai {
namespace {

// Levenshtein distance with case folded (ASCII only: keys and names are ASCII).
size_t editDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitution = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> closestWord(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Long hostile keys would make this quadratic for nothing: nobody misspells a 100-byte key.
  if (word.empty() || word.size() > 64) return std::nullopt;
  std::optional<std::string> best;
  // One edit for short words (two would turn almost any 3-letter word into another), two for longer.
  size_t bestDistance = word.size() <= 4 ? 1 : 2;
  for (std::string_view candidate : candidates) {
    size_t distance = editDistance(word, candidate);
    if (distance <= bestDistance && (!best || distance < bestDistance)) {
      best = std::string(candidate);
      bestDistance = distance;
    }
  }
  return best;
}

std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  auto closest = closestWord(word, candidates);
  return closest ? " (did you mean \"" + *closest + "\"?)" : std::string();
}

}  // namespace shadowai
