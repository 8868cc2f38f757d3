// Rewriting chosen string values of a JSON body while every other byte stays as the client (or the
// provider) wrote it: key order, whitespace, number spellings, escapes elsewhere. Providers sign
// nothing, but SDKs, caches and our own recordings should see the body they sent, changed only where
// text was masked.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace shadowai {

struct JsonStringReplacement {
  nlohmann::json::json_pointer location;  // a string value in the body
  std::string original;                   // its decoded value, as the adapter read it
  std::string replacement;                // the decoded value to write there
};

// BODY with each replacement's string token replaced by the JSON encoding of its `replacement`.
// `parsed` is BODY as parseJsonRefusingDuplicateKeys read it. Fails (and the caller must refuse the
// call) when a location does not hold a string equal to `original` in both readings of the body, when
// two replacements disagree about one place, or when the result, parsed again, is not exactly
// `parsed` with the replacements applied: whatever trick a body plays, what goes out is what we masked.
// Both are taken by value and consumed as the work goes on (a prompt of 30 MiB is held a few times
// over, never a dozen): move them in when the caller is done with them.
Result<std::string> spliceJsonStrings(std::string_view body, nlohmann::json parsed,
                                      std::vector<JsonStringReplacement> replacements, std::string_view what);

// The whole step for a body: parses it refusing duplicate keys (even when nothing changes, since a
// duplicate could hide text from us), drops replacements that change nothing, and splices the rest.
// nullopt: nothing changed, the original bytes may go out as they are.
Result<std::optional<std::string>> rewriteJsonStrings(std::string_view body,
                                                      std::vector<JsonStringReplacement> replacements,
                                                      std::string_view what);

}  // namespace shadowai
