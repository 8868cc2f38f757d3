// The endpoint catalog: which hosts and ports belong to which LLM provider. Loaded at run time from
// rules/endpoints.json plus the operator's /etc/shadowai/endpoints.d/*.json (format: docs/catalog.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace shadowai {

enum class EndpointCategory { kHosted, kLocal };

const char* toString(EndpointCategory category);  // "hosted", "local"

struct CatalogEntry {
  std::string providerId, providerName, apiFamily;
  EndpointCategory category = EndpointCategory::kHosted;
  std::vector<std::string> hosts;  // lower-case; "*.x.y" wildcards; "*" = any host (local servers)
  std::vector<uint16_t> ports;
  std::vector<std::string> envKeys;
  std::string sourceFile;  // where it came from, for messages
};

// `entry` points into the Catalog that produced the match; it lives as long as that Catalog.
struct CatalogMatch {
  const CatalogEntry* entry = nullptr;
  std::string pattern;  // the host pattern that matched: "api.openai.com", "*.openai.azure.com", "*"
};

class Catalog {
 public:
  // Loads the shipped file and then every *.json in each extra directory (sorted by name; a missing
  // directory is fine, an unreadable or bad file is an error). Errors name the file and the JSON
  // location: syntax errors as "FILE:LINE:COLUMN: message", schema errors as
  // "FILE: /endpoints/3/hosts/0: expected a string".
  static Result<Catalog> load(const std::string& shippedFile, const std::vector<std::string>& extraDirs);
  // One document, named SOURCENAME in errors.
  static Result<Catalog> parse(std::string_view json, const std::string& sourceName);
  // SHADOWAI_INSTALLED_RULES_DIR/endpoints.json when it exists, else the source tree's copy (running
  // from a build directory).
  static std::string defaultShippedFile();
  static std::string defaultExtraDir();  // /etc/shadowai/endpoints.d

  // Case-insensitive, trailing dot ignored; exact beats wildcard, a longer wildcard beats a shorter;
  // the port must be one of the entry's ports. A hash lookup for the exact name, then one per label
  // for wildcards: the cost does not grow with the number of patterns.
  std::optional<CatalogMatch> matchHost(std::string_view host, uint16_t port) const;
  // Entries with host "*" (local servers): matched by port alone.
  std::optional<CatalogMatch> matchPortOnly(uint16_t port) const;

  std::vector<uint16_t> ports() const;           // every port of every entry, sorted, unique
  std::vector<std::string> exactHosts() const;   // non-wildcard hosted names, sorted, for pre-resolution
  // Environment variable name -> ids of the providers whose keys it holds (sorted).
  const std::map<std::string, std::vector<std::string>>& envKeys() const { return envKeys_; }
  const std::vector<CatalogEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>()(text); }
  };
  // Pattern (exact name, or wildcard suffix without "*.") -> indexes into entries_.
  using PatternIndex = std::unordered_map<std::string, std::vector<size_t>, StringHash, std::equal_to<>>;

  // Parses one document and adds its entries; on error the catalog is left unusable.
  Status addDocument(std::string_view json, const std::string& sourceName);
  std::optional<CatalogMatch> findInIndex(const PatternIndex& index, std::string_view key, uint16_t port,
                                          bool wildcard) const;

  std::vector<CatalogEntry> entries_;
  PatternIndex exact_;
  PatternIndex wildcardSuffixes_;
  std::unordered_map<uint16_t, size_t> anyHostPorts_;
  std::map<std::string, std::vector<std::string>> envKeys_;
  std::map<std::string, size_t> firstEntryOfProvider_;
};

}  // namespace shadowai
