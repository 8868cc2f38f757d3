// Parsing JSON documents that people write (catalogs, the daemon's configuration, state files) with
// errors they can act on: syntax errors as "SOURCE:LINE:COLUMN: message", and a JSON pointer helper
// for the schema errors their readers report ("SOURCE: /endpoints/3/hosts/0: expected a string").
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace shadowai {

// How much of a document's own text a message quotes at most: enough to recognise it, and a 10 MB
// token or key still makes a line a person can read.
constexpr size_t kMaxQuotedBytes = 160;

// TEXT from a document, fit to quote in a one-line message: bytes outside printable ASCII escaped
// as \xNN, so a hostile file cannot put control characters on a terminal or into the journal, and
// a text longer than MAX_BYTES (escaped) cut in the middle, marked " ... ". The middle goes because
// both ends say something: a parser's message starts with what went wrong and ends with what it
// expected.
std::string printableExcerpt(std::string_view text, size_t maxBytes = kMaxQuotedBytes);

// Parses one document. Messages quote the input through printableExcerpt.
Result<nlohmann::json> parseJsonDocument(std::string_view json, const std::string& sourceName);

// Appends KEY to POINTER as one RFC 6901 reference token: "/" and KEY with '~' written "~0" and
// '/' written "~1", exactly (no cut).
void appendPointerToken(std::string& pointer, std::string_view key);

// POINTER/KEY with RFC 6901 escaping ('~' -> "~0", '/' -> "~1"). Pointers are for messages: the key
// is the file's own text, so it goes through printableExcerpt too (cut to 64 bytes).
std::string childPointer(const std::string& pointer, std::string_view key);
std::string childPointer(const std::string& pointer, size_t index);

// The checks every reader of a hand-written JSON file shares. A reader derives from it, reports
// schema errors through fail(), rejects unknown fields (a misspelt key must never silently leave a
// default in place) and allows a "comment" string or array of strings.
class JsonSchemaReader {
 public:
  virtual ~JsonSchemaReader() = default;

  // Whether an unknown field's error names it ("/proxy/prot: unknown field"). A file that holds
  // secrets withholds it: a key pasted where a field name belongs would be printed otherwise.
  enum class UnknownFieldNames { kShown, kWithheld };

 protected:
  explicit JsonSchemaReader(const std::string& sourceName, UnknownFieldNames names = UnknownFieldNames::kShown)
      : sourceName_(sourceName), unknownFieldNames_(names) {}
  // "SOURCE: POINTER: message" ("SOURCE: message" at the top level).
  virtual Error fail(const std::string& pointer, std::string_view message) const;
  Status checkKnownFields(const nlohmann::json& object, const std::string& pointer,
                          std::span<const std::string_view> known) const;
  Status checkKnownFields(const nlohmann::json& object, const std::string& pointer,
                          std::initializer_list<std::string_view> known) const {
    return checkKnownFields(object, pointer, std::span<const std::string_view>(known.begin(), known.size()));
  }
  Status checkComment(const nlohmann::json& object, const std::string& pointer) const;

  const std::string& sourceName_;

 private:
  UnknownFieldNames unknownFieldNames_;
};

}  // namespace shadowai
