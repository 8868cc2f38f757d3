// A bound on how deeply a JSON text nests arrays and objects, checked in one linear pass before any
// parser or walker that recurses sees the text. nlohmann's parser itself is iterative, but copying,
// comparing, dumping and walking a parsed value recurse once per level: a 200 KB body of 100 000 '['
// would otherwise overflow a proxy thread's stack and take the whole daemon down. No API of any
// provider nests anywhere near the limit; a body that does is refused, never forwarded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace shadowai {

// Far below what the recursions above can take on a proxy thread's stack (each level costs a few
// hundred bytes; the threads have the process default, 8 MiB under systemd), far above any real body.
inline constexpr size_t kMaxJsonNesting = 128;

// True when TEXT opens more than LIMIT arrays or objects inside each other (brackets inside strings
// do not count). Stops at the first byte past the limit. TEXT need not be valid JSON: the parser that
// runs afterwards judges that.
bool jsonNestsDeeperThan(std::string_view text, size_t limit = kMaxJsonNesting);

// "WHAT nests arrays and objects deeper than 128 levels", the one wording every reader uses.
std::string jsonTooDeepMessage(std::string_view what, size_t limit = kMaxJsonNesting);

}  // namespace shadowai
