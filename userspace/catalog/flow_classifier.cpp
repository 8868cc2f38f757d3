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
  }
  return "unknown";
}

std::optional<Classification> classifyFlow(const Catalog& catalog, const FlowEvidence& evidence) {
  const bool haveSni = evidence.sni && !evidence.sni->empty();
  if (haveSni) {
    if (auto match = catalog.matchHost(*evidence.sni, evidence.port)) {
      return Classification{std::move(*match), MatchMethod::kSni, *evidence.sni};
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
