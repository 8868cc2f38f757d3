// The checks a detector's pattern cannot express (checksums, numeric ranges, structure), run on each
// candidate span before it counts as a match. Each takes the span that would be replaced (the value
// only, for replaceValueOnly detectors) and never allocates for the common reject.
#pragma once

#include <string_view>

#include "mask/detector.h"

namespace shadowai {

bool validateMatch(MatchValidator validator, std::string_view span);

// The individual checks, exposed for tests.
bool luhnValid(std::string_view digitsAndSeparators);     // 13-19 digits, spaces/dashes ignored
bool ibanChecksumValid(std::string_view iban);            // spaces ignored, mod 97 == 1
bool usSsnValid(std::string_view ssn);                    // "AAA-GG-SSSS" or "AAA GG SSSS"
bool ipv4Valid(std::string_view address);                 // dotted quad, octets 0-255, no leading zeros
bool ipv6Valid(std::string_view address);                 // inet_pton
bool jwtValid(std::string_view token);                    // base64url JSON header and payload
bool highEntropyValid(std::string_view value);            // mixed classes, not a word or placeholder
bool notPlaceholderValid(std::string_view token);         // not mostly one repeated character

}  // namespace shadowai
