#include "mask/detector.h"

#include <hs.h>

#include <algorithm>
#include <climits>

#include "mask/detector_expression.h"
#include "mask/vectorscan_handles.h"

namespace shadowai {

namespace {

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }) &&
         name.front() != '-' && name.back() != '-';
}

bool validLabel(std::string_view label) {
  if (label.empty() || label.size() > 32) return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

std::string_view toString(DetectorCategory category) {
  switch (category) {
    case DetectorCategory::kSecret: return "secret";
    case DetectorCategory::kPii: return "pii";
    case DetectorCategory::kCustom: return "custom";
  }
  return "custom";
}

std::optional<DetectorCategory> detectorCategoryFromString(std::string_view name) {
  if (name == "secret") return DetectorCategory::kSecret;
  if (name == "pii") return DetectorCategory::kPii;
  if (name == "custom") return DetectorCategory::kCustom;
  return std::nullopt;
}

std::string_view toString(ReplacementStyle style) {
  switch (style) {
    case ReplacementStyle::kPlaceholder: return "placeholder";
    case ReplacementStyle::kPseudonym: return "pseudonym";
    case ReplacementStyle::kRedact: return "redact";
  }
  return "placeholder";
}

std::optional<ReplacementStyle> replacementStyleFromString(std::string_view name) {
  if (name == "placeholder") return ReplacementStyle::kPlaceholder;
  if (name == "pseudonym") return ReplacementStyle::kPseudonym;
  if (name == "redact") return ReplacementStyle::kRedact;
  return std::nullopt;
}

namespace {

struct ValidatorName {
  MatchValidator validator;
  std::string_view name;
};
constexpr ValidatorName kValidatorNames[] = {
    {MatchValidator::kNone, "none"},
    {MatchValidator::kLuhn, "luhn"},
    {MatchValidator::kIbanChecksum, "iban-checksum"},
    {MatchValidator::kUsSsn, "us-ssn"},
    {MatchValidator::kIpv4, "ipv4"},
    {MatchValidator::kIpv6, "ipv6"},
    {MatchValidator::kJwt, "jwt"},
    {MatchValidator::kHighEntropy, "high-entropy"},
    {MatchValidator::kNotPlaceholder, "not-placeholder"},
    {MatchValidator::kBasicCredentials, "basic-credentials"},
    {MatchValidator::kPasswordValue, "password-value"},
    {MatchValidator::kNationalPhone, "national-phone"},
};

}  // namespace

std::string_view toString(MatchValidator validator) {
  for (const ValidatorName& entry : kValidatorNames) {
    if (entry.validator == validator) return entry.name;
  }
  return "none";
}

std::optional<MatchValidator> matchValidatorFromString(std::string_view name) {
  for (const ValidatorName& entry : kValidatorNames) {
    if (entry.name == name) return entry.validator;
  }
  return std::nullopt;
}

std::vector<std::string_view> matchValidatorNames() {
  std::vector<std::string_view> names;
  for (const ValidatorName& entry : kValidatorNames) names.push_back(entry.name);
  return names;
}

Status checkDetector(const Detector& detector) {
  if (!validName(detector.name)) return makeError("name must be 1-64 characters of a-z, 0-9 and '-'");
  if (!validLabel(detector.label)) return makeError("label must be 1-32 characters of A-Z, 0-9 and '_'");
  const bool hasPattern = !detector.pattern.empty();
  const bool hasWords = !detector.words.empty();
  if (hasPattern == hasWords) return makeError("needs exactly one of a pattern and a word list");
  if (hasWords) {
    for (const std::string& word : detector.words) {
      if (word.empty()) return makeError("word list holds an empty word");
    }
    return {};
  }
  // The flags DetectorSet compiles with (byte semantics, see detector_expression.h).
  unsigned flags = detectorFlags(detector) | HS_FLAG_SOM_LEFTMOST;
  const VectorscanExpressionInfo described = describeExpression(detectorExpression(detector).c_str(), flags);
  if (!described.info) return makeError("pattern does not compile: " + compileErrorMessage(described.error, "unknown error"));
  const hs_expr_info_t* info = described.info.get();
  if (info->max_width == UINT_MAX && detector.maxLength == 0) {
    return makeError("pattern can match text of unbounded length; bound every repetition (e.g. {1,64})");
  }
  if (info->min_width == 0) return makeError("pattern can match empty text");
  if (!detector.endPassPattern.empty()) {
    // DetectorSet would quietly fall back to the exact pattern: a typo must not cost speed unnoticed.
    const VectorscanExpressionInfo endPass = describeExpression(detector.endPassPattern.c_str(), detectorFlags(detector));
    if (!endPass.info) {
      return makeError("end-pass pattern does not compile: " + compileErrorMessage(endPass.error, "unknown error"));
    }
  }
  if (!detector.valueMarker.empty() && !detector.replaceValueOnly) {
    return makeError("value marker is only meaningful with replace-value-only");
  }
  return {};
}

}  // namespace shadowai
