// Parsing JSON documents that people write (catalogs, the daemon's configuration, state files) with
// errors they can act on: syntax errors as "SOURCE:LINE:COLUMN: message", and a JSON pointer helper
// for the schema errors their readers report ("SOURCE: /endpoints/3/hosts/0: expected a string").
#pragma once

#include <initializer_list>
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

// The checks every reader of a hand-written JSON file shares. A reader derives from it, reports
// schema errors through fail(), rejects unknown fields (a misspelt key must never silently leave a
// default in place) and allows a "comment" string or array of strings.
class JsonSchemaReader {
 public:
  virtual ~JsonSchemaReader() = default;

 protected:
  explicit JsonSchemaReader(const std::string& sourceName) : sourceName_(sourceName) {}
  // "SOURCE: POINTER: message" ("SOURCE: message" at the top level).
  virtual Error fail(const std::string& pointer, std::string_view message) const;
  Status checkKnownFields(const nlohmann::json& object, const std::string& pointer,
                          std::initializer_list<std::string_view> known) const;
  Status checkComment(const nlohmann::json& object, const std::string& pointer) const;

  const std::string& sourceName_;
};

}  // namespace shadowai
