// Rewriting chosen string values of a JSON body while every other byte stays as the client (or the
// provider) wrote it: key order, whitespace, number spellings, escapes elsewhere. Providers sign
// nothing, but SDKs, caches and our own recordings should see the body they sent, changed only where
// text was masked.
//
// Memory: a prompt of 30 MiB is held at most three times over here (the body, the text being masked
// or its masked copy, the rewritten body), never in a DOM of the body: the body is read by one
// simdjson walk that compares tokens in place, and the rewritten body is checked by the same walk.
// intercept.max_buffered_bytes reserves per body byte what bench/request_memory_bench measures.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace shadowai {

// simdjson reads up to this many bytes past a text's end. A body kept with that much spare capacity
// (reserveJsonPadding) is read where it is; any other is copied first.
inline constexpr size_t kJsonReadPadding = 64;
void reserveJsonPadding(std::string& body);

// The bytes of one string token in a body, quotes included.
struct JsonStringSpan {
  size_t begin = 0;
  size_t end = 0;
};

// A string value the caller read at LOCATION with its own parser (nlohmann, in the adapters), and
// the text it read there.
struct JsonStringAt {
  const nlohmann::json::json_pointer* location = nullptr;
  std::string_view text;
};

// Reads BODY once and gives the token of each wanted string, in the order asked. BODY_CAPACITY is the
// bytes readable from BODY's start (a std::string's capacity), or 0. Fails when BODY is not valid
// JSON, has an object with a duplicate key (parsers disagree on which copy counts, so a duplicate
// could show us one text and the provider another), or when a location is absent, not a string, or
// does not decode to the text the caller read there: the bytes later overwritten are the text that
// was inspected, whatever trick the body plays.
Result<std::vector<JsonStringSpan>> locateJsonStrings(std::string_view body, size_t bodyCapacity,
                                                      const std::vector<JsonStringAt>& wanted, std::string_view what);

// One string token to overwrite with the JSON encoding of REPLACEMENT.
struct JsonStringSplice {
  nlohmann::json::json_pointer location;
  JsonStringSpan span;  // from locateJsonStrings on the same body
  std::string replacement;
};

// BODY with each splice's token replaced. Consumes SPLICES (each replacement is freed once written).
// Fails (and the caller must refuse the call) when two splices disagree about one place or overlap,
// when a replacement is not valid UTF-8, or when the result, read again, does not hold a string token
// exactly where each replacement was written.
Result<std::string> spliceJsonStrings(std::string_view body, std::vector<JsonStringSplice> splices,
                                      std::string_view what);

struct JsonStringReplacement {
  nlohmann::json::json_pointer location;  // a string value in the body
  std::string original;                   // its decoded value, as the adapter read it
  std::string replacement;                // the decoded value to write there
};

// The whole step for a small body: locates every replacement (so a body with a duplicate key is
// refused even when nothing changes), drops those that change nothing, and splices the rest.
// nullopt: nothing changed, the original bytes may go out as they are.
Result<std::optional<std::string>> rewriteJsonStrings(std::string_view body,
                                                      std::vector<JsonStringReplacement> replacements,
                                                      std::string_view what);

}  // namespace shadowai
