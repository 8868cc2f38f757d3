#include "mask/detector_expression.h"

#include <hs.h>

#include <cstdio>

namespace shadowai {

namespace {

bool isWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void appendEscaped(std::string& out, std::string_view word) {
  for (char c : word) {
    auto byte = static_cast<unsigned char>(c);
    if (isWordByte(byte)) {
      out.push_back(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    }
  }
}

}  // namespace

std::string detectorExpression(const Detector& detector) {
  if (detector.words.empty()) return detector.pattern;
  std::string expression = "(?:";
  bool first = true;
  for (const std::string& word : detector.words) {
    if (word.empty()) continue;
    if (!first) expression += "|";
    first = false;
    if (isWordByte(static_cast<unsigned char>(word.front()))) expression += "\\b";
    appendEscaped(expression, word);
    if (isWordByte(static_cast<unsigned char>(word.back()))) expression += "\\b";
  }
  expression += ")";
  return expression;
}

namespace {

// Walks EXPRESSION calling VISIT(index, inClass, depth) for every byte that is not part of an escape;
// escapes are reported as one step at their backslash with ESCAPED set.
template <typename Visit>
void walkExpression(std::string_view expression, Visit visit) {
  bool inClass = false;
  int depth = 0;
  for (size_t i = 0; i < expression.size(); ++i) {
    char c = expression[i];
    if (c == '\\' && i + 1 < expression.size()) {
      visit(i, inClass, depth, true);
      ++i;
      continue;
    }
    visit(i, inClass, depth, false);
    if (inClass) {
      if (c == ']') inClass = false;
      continue;
    }
    if (c == '[') {
      inClass = true;
      // "[]...]" and "[^]...]": a ']' right after the opening is a literal.
      if (i + 1 < expression.size() && expression[i + 1] == '^') ++i;
      if (i + 1 < expression.size() && expression[i + 1] == ']') ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    }
  }
}

}  // namespace

std::string fastPassExpression(std::string_view expression) {
  // Only a leading \b of a pattern without top-level alternatives: dropping every \b made
  // Vectorscan 5.4.9 lose matches depending on the buffer's alignment (see
  // MaskDetectorSet.SameMatchesAtEveryBufferAlignment), and the leading one is what costs.
  if (expression.substr(0, 2) == "\\b" && topLevelAlternatives(expression) == 1) {
    return std::string(expression.substr(2));
  }
  return std::string(expression);
}

size_t topLevelAlternatives(std::string_view expression) {
  size_t count = 1;
  walkExpression(expression, [&](size_t i, bool inClass, int depth, bool escaped) {
    if (!escaped && !inClass && depth == 0 && expression[i] == '|') ++count;
  });
  return count;
}

unsigned detectorFlags(const Detector& detector) {
  bool caseless = detector.words.empty() ? detector.caseless : !detector.caseSensitive;
  return caseless ? HS_FLAG_CASELESS : 0u;
}

}  // namespace shadowai
