// Decides whether one outbound flow is a call to a catalog endpoint, from whatever evidence the
// observers gathered about it: the TLS SNI, names DNS answers gave for the destination address, and
// catalog names whose start-up resolution gave that address.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace shadowai {

// kPort: a local server matched by port alone. kHttpHost: a plain HTTP request's Host header (no TLS).
enum class MatchMethod { kSni, kDns, kIp, kPort, kHttpHost };

const char* toString(MatchMethod method);  // "sni", "dns", "ip", "port", "http-host"

struct FlowEvidence {
  // The {} initializers let callers use designated initializers without -Wmissing-field-initializers.
  std::optional<std::string> sni{};          // from the ClientHello, when one was seen
  std::optional<std::string> httpHost{};     // from a plain HTTP request's head, when one was seen
  std::vector<std::string> dnsNames{};       // names DNS answers gave for the destination IP
  std::vector<std::string> resolvedNames{};  // catalog names whose start-up resolution gave this IP
  uint16_t port = 0;
};

struct Classification {
  CatalogMatch match;
  MatchMethod method;
  std::string host;  // the name that matched, as the evidence spelled it; "" for kPort
};

// Precedence: SNI (or, without TLS, the HTTP Host, which decides the same way), then a DNS-learned name, then a pre-resolved IP; within a list, the first name
// that matches. A non-empty SNI alone decides between hosted names: a non-catalog SNI on an address
// shared with a catalog host (a CDN) is not an LLM call, whatever DNS or pre-resolution say.
// Local (port-only) entries come last and still apply after a non-catalog SNI, since a local
// server behind TLS has a name of its own.
std::optional<Classification> classifyFlow(const Catalog& catalog, const FlowEvidence& evidence);

// The catalog entry a plain HTTP request's Host names: on the flow's PORT, or else on 443 (a hosted
// entry's default). A provider's host called without TLS is its call whatever the port (usually 80,
// which its TLS entry does not list).
std::optional<CatalogMatch> matchHttpHost(const Catalog& catalog, std::string_view host, uint16_t port);

}  // namespace shadowai
