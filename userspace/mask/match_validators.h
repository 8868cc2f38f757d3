// The checks a detector's pattern cannot express (checksums, numeric ranges, structure), run on each
// candidate span before it counts as a match. Each takes the span that would be replaced (the value
// only, for replaceValueOnly detectors) and never allocates for the common reject.
#pragma once

#include <cstddef>
#include <string_view>

#include "mask/detector.h"

namespace shadowai {

bool validateMatch(MatchValidator validator, std::string_view span);
// Whether TEXT[begin, end) is a piece of a longer number: the digit before its first byte or after
// its last is joined to it by a separator (space, '.', '-', '/') the match uses between its own
// digits. Detector::wholeNumberToken refuses such matches.
bool continuesALongerNumber(std::string_view text, size_t begin, size_t end);

// The individual checks, exposed for tests.
bool luhnValid(std::string_view digitsAndSeparators);     // 13-19 digits, spaces/dashes ignored
bool ibanChecksumValid(std::string_view iban);            // spaces ignored, mod 97 == 1
bool usSsnValid(std::string_view ssn);                    // "AAA-GG-SSSS" or "AAA GG SSSS"
bool ipv4Valid(std::string_view address);                 // dotted quad, octets 0-255, no leading zeros
bool ipv6Valid(std::string_view address);                 // inet_pton
bool jwtValid(std::string_view token);                    // base64url JSON header and payload
bool highEntropyValid(std::string_view value);            // mixed classes, not a word or placeholder
bool notPlaceholderValid(std::string_view token);         // not mostly one repeated character
bool basicCredentialsValid(std::string_view header);      // "Basic " + base64 of printable user:password
bool passwordValueValid(std::string_view value);          // not digits only, a reference or a placeholder
bool nationalPhoneValid(std::string_view number);         // 10-12 digits, one kind of separator

}  // namespace shadowai
