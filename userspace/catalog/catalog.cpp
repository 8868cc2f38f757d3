#include "catalog/catalog.h"

#include <algorithm>

#include "catalog/catalog_parser.h"
#include "catalog/host_pattern.h"

namespace shadowai {
namespace {

bool hasPort(const CatalogEntry& entry, uint16_t port) {
  return std::find(entry.ports.begin(), entry.ports.end(), port) != entry.ports.end();
}

// The first port two entries share, if any.
std::optional<uint16_t> sharedPort(const CatalogEntry& a, const CatalogEntry& b) {
  for (uint16_t port : a.ports) {
    if (hasPort(b, port)) return port;
  }
  return std::nullopt;
}

// Fills what an entry of an already known provider left out, and refuses contradictions: entries
// with the same id describe more endpoints of one provider, they never replace each other.
Status inheritFromProvider(ParsedEntry& parsed, const CatalogEntry& first) {
  CatalogEntry& entry = parsed.entry;
  const std::string& source = entry.sourceFile;
  if (entry.providerName.empty()) {
    entry.providerName = first.providerName;
  } else if (entry.providerName != first.providerName) {
    return catalogSchemaError(source, parsed.pointer + "/name",
                              "provider \"" + entry.providerId + "\" is already named \"" + first.providerName +
                                  "\" in " + first.sourceFile);
  }
  if (entry.apiFamily.empty()) entry.apiFamily = first.apiFamily;
  if (!parsed.category) {
    parsed.category = first.category;
  } else if (*parsed.category != first.category) {
    return catalogSchemaError(source, parsed.pointer + "/category",
                              "provider \"" + entry.providerId + "\" is already " + toString(first.category) +
                                  " in " + first.sourceFile);
  }
  return {};
}

}  // namespace

const char* toString(EndpointCategory category) {
  return category == EndpointCategory::kLocal ? "local" : "hosted";
}

Result<Catalog> Catalog::parse(std::string_view json, const std::string& sourceName) {
  Catalog catalog;
  if (auto added = catalog.addDocument(json, sourceName); !added) return added.error();
  return catalog;
}

Status Catalog::addDocument(std::string_view json, const std::string& sourceName) {
  auto parsedEntries = parseCatalogDocument(json, sourceName);
  if (!parsedEntries) return parsedEntries.error();

  for (ParsedEntry& parsed : *parsedEntries) {
    CatalogEntry& entry = parsed.entry;
    if (auto first = firstEntryOfProvider_.find(entry.providerId); first != firstEntryOfProvider_.end()) {
      if (auto inherited = inheritFromProvider(parsed, entries_[first->second]); !inherited) return inherited;
    } else {
      if (entry.providerName.empty()) {
        return catalogSchemaError(sourceName, parsed.pointer,
                                  "missing \"name\" (required where provider \"" + entry.providerId +
                                      "\" first appears)");
      }
      if (entry.apiFamily.empty()) {
        return catalogSchemaError(sourceName, parsed.pointer,
                                  "missing \"apiFamily\" (required where provider \"" + entry.providerId +
                                      "\" first appears)");
      }
    }
    entry.category = parsed.category.value_or(EndpointCategory::kHosted);
    if (entry.ports.empty()) {
      // A local server has no standard port; defaulting to 443 would make "*" match all HTTPS.
      if (entry.category == EndpointCategory::kLocal) {
        return catalogSchemaError(sourceName, parsed.pointer, "missing \"ports\" (required for a local entry)");
      }
      entry.ports = {443};
    }

    const size_t index = entries_.size();
    // Check every host before indexing any, so a failed entry leaves no half of itself behind.
    for (size_t i = 0; i < entry.hosts.size(); ++i) {
      const std::string& host = entry.hosts[i];
      const std::string hostPointer = parsed.pointer + "/hosts/" + std::to_string(i);
      std::vector<size_t> claimants;
      if (isAnyHostPattern(host)) {
        if (entry.category != EndpointCategory::kLocal) {
          return catalogSchemaError(sourceName, hostPointer, "\"*\" (any host) is only allowed in a local entry");
        }
        for (uint16_t port : entry.ports) {
          if (auto it = anyHostPorts_.find(port); it != anyHostPorts_.end()) claimants.push_back(it->second);
        }
      } else {
        const PatternIndex& patternIndex = isWildcardPattern(host) ? wildcardSuffixes_ : exact_;
        std::string_view key = isWildcardPattern(host) ? wildcardSuffix(host) : std::string_view(host);
        if (auto it = patternIndex.find(key); it != patternIndex.end()) claimants = it->second;
      }
      for (size_t other : claimants) {
        const CatalogEntry& claimant = entries_[other];
        if (claimant.providerId == entry.providerId) continue;
        if (auto port = sharedPort(entry, claimant)) {
          return catalogSchemaError(sourceName, hostPointer,
                                    "\"" + host + "\" port " + std::to_string(*port) +
                                        " already belongs to provider \"" + claimant.providerId + "\" (" +
                                        claimant.sourceFile + ")");
        }
      }
    }

    for (const std::string& host : entry.hosts) {
      if (isAnyHostPattern(host)) {
        for (uint16_t port : entry.ports) anyHostPorts_.try_emplace(port, index);
      } else if (isWildcardPattern(host)) {
        wildcardSuffixes_[std::string(wildcardSuffix(host))].push_back(index);
      } else {
        exact_[host].push_back(index);
      }
    }
    for (const std::string& key : entry.envKeys) {
      auto& providers = envKeys_[key];
      if (std::find(providers.begin(), providers.end(), entry.providerId) == providers.end()) {
        providers.insert(std::upper_bound(providers.begin(), providers.end(), entry.providerId), entry.providerId);
      }
    }
    firstEntryOfProvider_.try_emplace(entry.providerId, index);
    entries_.push_back(std::move(entry));
  }
  return {};
}

std::optional<CatalogMatch> Catalog::findInIndex(const PatternIndex& index, std::string_view key, uint16_t port,
                                                 bool wildcard) const {
  auto it = index.find(key);
  if (it == index.end()) return std::nullopt;
  for (size_t entryIndex : it->second) {
    const CatalogEntry& entry = entries_[entryIndex];
    if (hasPort(entry, port)) {
      return CatalogMatch{&entry, wildcard ? "*." + std::string(key) : std::string(key)};
    }
  }
  return std::nullopt;
}

std::optional<CatalogMatch> Catalog::matchHost(std::string_view host, uint16_t port) const {
  char buffer[kMaxHostNameLength + 1];
  auto name = normalizeHostName(host, buffer);
  if (!name) return std::nullopt;
  if (auto exact = findInIndex(exact_, *name, port, false)) return exact;
  // Longest suffix first, so "*.eu.example.com" beats "*.example.com" for "x.eu.example.com". The
  // name itself is never tried as a suffix: "*.openai.azure.com" does not match "openai.azure.com".
  for (size_t dot = name->find('.'); dot != std::string_view::npos; dot = name->find('.', dot + 1)) {
    if (auto wildcard = findInIndex(wildcardSuffixes_, name->substr(dot + 1), port, true)) return wildcard;
  }
  return std::nullopt;
}

std::optional<CatalogMatch> Catalog::matchPortOnly(uint16_t port) const {
  auto it = anyHostPorts_.find(port);
  if (it == anyHostPorts_.end()) return std::nullopt;
  return CatalogMatch{&entries_[it->second], "*"};
}

std::vector<uint16_t> Catalog::ports() const {
  std::vector<uint16_t> result;
  for (const CatalogEntry& entry : entries_) result.insert(result.end(), entry.ports.begin(), entry.ports.end());
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

std::vector<std::string> Catalog::exactHosts() const {
  std::vector<std::string> result;
  for (const CatalogEntry& entry : entries_) {
    if (entry.category != EndpointCategory::kHosted) continue;
    for (const std::string& host : entry.hosts) {
      if (!isWildcardPattern(host) && !isAnyHostPattern(host)) result.push_back(host);
    }
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

}  // namespace shadowai
