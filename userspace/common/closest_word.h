// "Did you mean ...?" for hand-written files: the known word closest to a misspelt one, so a typo
// such as "unt" is answered with "unit" instead of a bare "unknown key".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shadowai {

// The word of CANDIDATES nearest to WORD by edit distance, if it is close enough to be a plausible
// typo (one edit for words of up to 4 letters, two for longer ones); ties go to the earlier candidate.
std::optional<std::string> closestWord(std::string_view word, const std::vector<std::string_view>& candidates);

// " (did you mean \"X\"?)" when closestWord finds one, else "".
std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace shadowai
