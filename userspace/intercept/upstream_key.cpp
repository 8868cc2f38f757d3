#include "intercept/upstream_key.h"

#include <functional>

namespace shadowai {

size_t UpstreamKeyHash::operator()(const UpstreamKey& key) const noexcept {
  size_t hash = IpAddressHash()(key.address);
  auto mix = [&hash](size_t value) { hash ^= value + 0x9E3779B97F4A7C15ULL + (hash << 6) + (hash >> 2); };
  mix(key.port);
  mix(std::hash<std::string>()(key.serverName));
  mix(std::hash<std::string>()(key.identity));
  mix(std::hash<const NetworkNamespace*>()(key.netns.get()));
  return hash;
}

std::string describeUpstream(const UpstreamKey& key) {
  const std::string endpoint = formatEndpoint(key.address, key.port);
  if (key.serverName.empty()) return "upstream " + endpoint;
  return "upstream " + key.serverName + " (" + endpoint + ")";
}

}  // namespace shadowai
