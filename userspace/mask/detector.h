// A detector: one kind of secret or personal data the masker finds in prompt and answer text, with
// the name policy files and alerts use, its category, the placeholder label its matches become, and
// the Vectorscan pattern (or word list) that finds it. The built-in detectors ship as data
// (rules/detectors.json, read by policy/builtin_detectors.h); a policy file adds custom ones.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace shadowai {

enum class DetectorCategory { kSecret, kPii, kCustom };
// "secret", "pii", "custom"
std::string_view toString(DetectorCategory category);
std::optional<DetectorCategory> detectorCategoryFromString(std::string_view name);

// What a match becomes.
enum class ReplacementStyle {
  kPlaceholder,  // "[EMAIL_1]": numbered per call, the same value keeps the same number within a call
  kPseudonym,    // "[EMAIL_3f9a0c1d2e]": keyed HMAC of the value, the same across calls on this host
  kRedact,       // "[REDACTED]"
};
// "placeholder", "pseudonym", "redact"
std::string_view toString(ReplacementStyle style);
std::optional<ReplacementStyle> replacementStyleFromString(std::string_view name);

// A check a pattern cannot express, run on each candidate match before it counts.
enum class MatchValidator {
  kNone,
  kLuhn,          // payment card numbers
  kIbanChecksum,  // ISO 13616 mod-97
  kUsSsn,         // area 000/666/9xx, group 00 and serial 0000 are never issued
  kIpv4,          // each octet 0-255
  kIpv6,          // parses as an IPv6 address (inet_pton)
  kJwt,           // header and payload are base64url JSON objects
  kHighEntropy,   // secret values in context: mixed character classes, not a word or a placeholder
  kNotPlaceholder,  // a token that is not mostly one repeated character (AKIAXXXXXXXXXXXXXXXX, ghp_xxxx...)
  kBasicCredentials,  // base64 of "user:password" (HTTP Basic authentication)
  kPasswordValue,   // a password given on a command line: not a number, a $VARIABLE or a placeholder
  kNationalPhone,   // a national-format phone number: 10 to 12 digits, its groups split one way
};
// The names the detector file uses: "none", "luhn", "iban-checksum", "us-ssn", "ipv4", "ipv6", "jwt",
// "high-entropy", "not-placeholder", "basic-credentials", "password-value", "national-phone".
std::string_view toString(MatchValidator validator);
std::optional<MatchValidator> matchValidatorFromString(std::string_view name);
// Every name above, in declaration order (for messages and suggestions).
std::vector<std::string_view> matchValidatorNames();

struct Detector {
  std::string name;  // lower-case, [a-z0-9-]: "openai-api-key", "email"
  DetectorCategory category = DetectorCategory::kPii;
  std::string label;  // upper-case placeholder label: "EMAIL" -> "[EMAIL_1]"
  std::string description;  // one line, for docs and `policy check`
  // Either a pattern (PCRE syntax as Vectorscan accepts it: no back-references, no look-around)...
  std::string pattern;
  bool caseless = false;
  // ... or a list of words or phrases, matched whole-word and case-insensitively unless caseSensitive.
  std::vector<std::string> words;
  bool caseSensitive = false;
  MatchValidator validator = MatchValidator::kNone;
  // The longest text a match can span. Bounds the window a match is confirmed on and how much text a
  // stream holds back while a value may still be arriving; 0 = derive from the pattern (Vectorscan's
  // hs_expression_info max_width), and a pattern without a bounded width is refused.
  size_t maxLength = 0;
  // Only the value of "key: value" style matches is replaced (password=..., AWS secret in context):
  // the replaced span starts after the first ':' or '=' of the match and the quotes and spaces after it.
  bool replaceValueOnly = false;
  // With replaceValueOnly, where the value begins instead: after this marker (its first occurrence
  // in the match), for a name and its value on two lines (a Kubernetes env entry's "value:").
  std::string valueMarker;
  // A match that ends at the pattern's length limit while its value goes on is extended to the
  // value's end (the bytes the pattern's value class allows), so no tail of a longer value is left
  // after the placeholder; a stream drops what continues such a value after its match went out.
  bool extendsToValueEnd = false;
  // A number that is only a piece of a longer one is no match: a digit joined to the match's first
  // or last byte by a separator the match itself uses ("3841-917646-3648" holds no phone
  // "917646-3648", "07.12.34.56.78" no IP address "12.34.56.78"). A partial mask of a longer token
  // is always wrong: it hides a part and shows the rest.
  bool wholeNumberToken = false;
  // Optional, for speed: a pattern that matches wherever `pattern` matches, ending at the same
  // offsets (a superset: e.g. the pattern without a slow leading part), used only for the pass that
  // finds candidate match ends; the confirmation that follows applies `pattern` exactly.
  std::string endPassPattern;
  // Optional, for speed: detectors naming the same database here get an end pass of their own,
  // apart from their category's. Vectorscan picks one engine per database, and a pattern can make
  // the engine of the others slow: HTTP Basic's caseless "Basic" and base64 run took the secrets'
  // end pass from 262 to 415 us per MiB of prose, and takes 34 us in a database of its own.
  std::string endPassDatabase;
  ReplacementStyle defaultStyle = ReplacementStyle::kPlaceholder;
};

// Whether a detector is well formed: a valid name and label, a pattern Vectorscan compiles with a
// bounded width, or a non-empty word list; an end-pass pattern, when given, compiles too, and a value
// marker comes with replaceValueOnly. The error is one line without the detector's name (the caller
// says where it is) and starts with the field it is about.
Status checkDetector(const Detector& detector);

}  // namespace shadowai
