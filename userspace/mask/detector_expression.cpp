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

unsigned detectorFlags(const Detector& detector) {
  bool caseless = detector.words.empty() ? detector.caseless : !detector.caseSensitive;
  return caseless ? HS_FLAG_CASELESS : 0u;
}

}  // namespace shadowai
