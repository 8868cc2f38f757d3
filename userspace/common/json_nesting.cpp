#include "common/json_nesting.h"

namespace shadowai {

bool jsonNestsDeeperThan(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool inString = false;
  for (size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (inString) {
      if (c == '\\') {
        ++at;  // the escaped character, whatever it is, cannot end the string
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    switch (c) {
      case '"': inString = true; break;
      case '[':
      case '{':
        if (++depth > limit) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return false;
}

std::string jsonTooDeepMessage(std::string_view what, size_t limit) {
  return std::string(what) + " nests arrays and objects deeper than " + std::to_string(limit) + " levels";
}

}  // namespace shadowai
