#include "catalog/flow_classifier.h"

namespace shadowai {
namespace {

std::optional<Classification> firstMatch(const Catalog& catalog, const std::vector<std::string>& names,
                                         uint16_t port, MatchMethod method) {
  for (const std::string& name : names) {
    if (auto match = catalog.matchHost(name, port)) return Classification{std::move(*match), method, name};
  }
  return std::nullopt;
}

}  // namespace

const char* toString(MatchMethod method) {
  switch (method) {
    case MatchMethod::kSni:
      return "sni";
    case MatchMethod::kDns:
      return "dns";
    case MatchMethod::kIp:
      return "ip";
    case MatchMethod::kPort:
      return "port";
    case MatchMethod::kHttpHost:
      return "http-host";
  }
  return "unknown";
}

std::optional<CatalogMatch> matchHttpHost(const Catalog& catalog, std::string_view host, uint16_t port) {
  constexpr uint16_t kHostedDefaultPort = 443;
  if (auto match = catalog.matchHost(host, port)) return match;
  return catalog.matchHost(host, kHostedDefaultPort);
}

std::optional<Classification> classifyFlow(const Catalog& catalog, const FlowEvidence& evidence) {
  const bool haveSni = evidence.sni && !evidence.sni->empty();
  const bool haveHttpHost = !haveSni && evidence.httpHost && !evidence.httpHost->empty();
  if (haveSni) {
    if (auto match = catalog.matchHost(*evidence.sni, evidence.port)) {
      return Classification{std::move(*match), MatchMethod::kSni, *evidence.sni};
    }
  } else if (haveHttpHost) {
    if (auto match = matchHttpHost(catalog, *evidence.httpHost, evidence.port)) {
      return Classification{std::move(*match), MatchMethod::kHttpHost, *evidence.httpHost};
    }
  } else {
    if (auto match = firstMatch(catalog, evidence.dnsNames, evidence.port, MatchMethod::kDns)) return match;
    if (auto match = firstMatch(catalog, evidence.resolvedNames, evidence.port, MatchMethod::kIp)) return match;
  }
  if (auto match = catalog.matchPortOnly(evidence.port)) {
    return Classification{std::move(*match), MatchMethod::kPort, std::string()};
  }
  return std::nullopt;
}

}  // namespace shadowai
