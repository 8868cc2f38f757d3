// Catalog::parse on arbitrary bytes: operators write these files by hand, so every mistake must come
// back as an error, never as a crash. A catalog that does parse must match its own exact names.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "catalog/catalog.h"
#include "catalog/flow_classifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto catalog = shadowai::Catalog::parse(json, "fuzz.json");
  if (!catalog) {
    if (catalog.error().message.empty()) std::abort();
    return 0;
  }
  for (const shadowai::CatalogEntry& entry : catalog->entries()) {
    if (entry.ports.empty() || entry.hosts.empty()) std::abort();
    for (const std::string& host : entry.hosts) {
      if (host == "*" || host.starts_with("*.")) continue;
      auto match = catalog->matchHost(host, entry.ports.front());
      if (!match || match->pattern != host) std::abort();
    }
  }
  for (uint16_t port : catalog->ports()) {
    shadowai::FlowEvidence evidence{.sni = std::nullopt, .dnsNames = {"a.b.example.com"},
                                    .resolvedNames = catalog->exactHosts(), .port = port};
    (void)shadowai::classifyFlow(*catalog, evidence);
  }
  return 0;
}
