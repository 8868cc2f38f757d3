// UpstreamKey: what an upstream connection is for. Two requests may share a connection only when
// every field matches: the same network namespace, address and port, the same verified server name,
// and the same identity (the caller's opaque label, e.g. which managed key), so one workload's
// credentials are never sent on a connection another workload's requests travel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <memory>

#include "net/ip_address.h"
#include "net/network_namespace.h"

namespace shadowai {

struct UpstreamKey {
  IpAddress address;       // the original destination: no DNS, the workload already chose it
  uint16_t port = 443;
  std::string serverName;  // the client's SNI; empty: none, the certificate must name ADDRESS
  std::string identity;
  // Where the connection is made from: the workload's network namespace, or nullptr for the proxy's
  // own. Connections are not shared across namespaces (their routes and policies differ).
  std::shared_ptr<const NetworkNamespace> netns;

  bool operator==(const UpstreamKey&) const = default;
};

struct UpstreamKeyHash {
  size_t operator()(const UpstreamKey& key) const noexcept;
};

// "upstream api.openai.com (127.0.0.2:443)", or "upstream 127.0.0.2:443" without a server name:
// the start of every message about this upstream. The identity stays out (it may name a key).
std::string describeUpstream(const UpstreamKey& key);

}  // namespace shadowai
