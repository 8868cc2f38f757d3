// Parsing JSON documents that people write (catalogs, the daemon's configuration, state files) with
// errors they can act on: syntax errors as "SOURCE:LINE:COLUMN: message", and a JSON pointer helper
// for the schema errors their readers report ("SOURCE: /endpoints/3/hosts/0: expected a string").
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace shadowai {

// Parses one document. Messages quote the input with bytes outside printable ASCII escaped, so a
// hostile file cannot put control characters on a terminal or into the journal.
Result<nlohmann::json> parseJsonDocument(std::string_view json, const std::string& sourceName);

// POINTER/KEY with RFC 6901 escaping ('~' -> "~0", '/' -> "~1").
std::string childPointer(const std::string& pointer, std::string_view key);
std::string childPointer(const std::string& pointer, size_t index);

}  // namespace shadowai
