// Reads one catalog document (JSON text) into entries, checking the schema of docs/catalog.md.
// Merging documents (inheritance, conflicts between providers) is the Catalog's job, not this one's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/result.h"

namespace shadowai {

// The only catalog format this build reads; a file must say so with "schema": 1.
inline constexpr int kCatalogSchemaVersion = 1;

struct ParsedEntry {
  // providerName and apiFamily are empty when the file leaves them to an earlier entry of the same
  // provider; ports are empty when not given (the default depends on the category).
  CatalogEntry entry;
  std::optional<EndpointCategory> category;  // nullopt: not given
  std::string pointer;                       // JSON pointer of the entry, "/endpoints/3"
};

// Errors: "SOURCE:LINE:COLUMN: message" for bad JSON, "SOURCE: /json/pointer: message" for a
// document that is JSON but not a catalog.
Result<std::vector<ParsedEntry>> parseCatalogDocument(std::string_view json, const std::string& sourceName);

// "SOURCE: POINTER: MESSAGE", the one shape of every schema error.
Error catalogSchemaError(const std::string& sourceName, const std::string& pointer, std::string_view message);

}  // namespace shadowai
