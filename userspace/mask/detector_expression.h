// How a detector becomes a Vectorscan expression. Shared by checkDetector and DetectorSet so that a
// detector that checks fine also compiles the same way.
//
// Byte semantics, no HS_FLAG_UTF8: prompts and answers may hold invalid UTF-8 (a stream cut inside
// a character, binary junk), which UTF-8 mode refuses to scan. Patterns therefore see bytes: \w and
// \b are ASCII, and a byte >= 0x80 is a non-word byte, which is what the ASCII-shaped secrets and
// identifiers we look for need.
#pragma once

#include <string>
#include <string_view>

#include "mask/detector.h"

namespace shadowai {

// The pattern, or for a word list an alternation of the escaped words, each with a word boundary on
// a side that starts or ends with a word character ("C++" cannot have one after its '+').
std::string detectorExpression(const Detector& detector);

// The expression for the end-offset pass: a leading \b dropped. A pattern starting with \b and a
// class repetition (an email's local part) makes Vectorscan track the repetition at every word
// byte (~100 MB/s on prose); without it the '@' literal drives the scan (GB/s). Dropping an
// assertion only adds candidate ends, and the confirmation pass, which keeps the \b, is exact.
std::string fastPassExpression(std::string_view expression);

// How many alternatives the expression has at its top level ("a|b(c|d)" has 2).
size_t topLevelAlternatives(std::string_view expression);

// Vectorscan flags for the detector (caseless or not); SOM_LEFTMOST is added by the caller that
// needs start offsets.
unsigned detectorFlags(const Detector& detector);

}  // namespace shadowai
