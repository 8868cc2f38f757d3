// Parsing a body we are about to rewrite, refusing duplicate object keys. JSON parsers disagree on
// {"a":1,"a":2}: nlohmann (and so our adapters) keeps the last copy, simdjson's at_pointer and some
// providers the first. A body with duplicates could show us one text and the provider another, so the
// masker refuses it instead of guessing which copy counts.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace shadowai {

// `what` names the body in errors ("request body", "stream event").
Result<nlohmann::json> parseJsonRefusingDuplicateKeys(std::string_view body, std::string_view what);

}  // namespace shadowai
