// Where a redirected client meant to go. In enforce mode the kernel rewrites the connect of an
// enforced workload to the proxy's listener and records the address it asked for; the proxy asks
// for it once per accepted socket (the record is consumed by the lookup).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "net/ip_address.h"
#include "net/network_namespace.h"

namespace shadowai {

struct OriginalDestination {
  IpAddress address;  // IPv4 held as IPv4-mapped, see IpAddress
  uint16_t port = 0;
  uint64_t cgroupId = 0;  // the connecting workload's cgroup, for alerts and policy
  uint32_t pid = 0;       // the connecting process (best effort: it may have exited since)
  // The workload's network namespace when it is not the proxy's own (a container's): the upstream
  // connection is made from there too. Set by the proxy from the listener that accepted it.
  std::shared_ptr<const NetworkNamespace> netns;

  bool operator==(const OriginalDestination&) const = default;
};

// Called on a proxy worker thread right after accept, before any byte is read, with the accepted
// socket. Returns nullopt when the connection has no recorded original destination: the proxy then
// refuses it, so no local process can use the proxy as an open relay.
// Several worker threads call it concurrently: it must be thread-safe, quick and must not throw
// (a throw is counted in ProxyCounters::callbackErrors and treated as nullopt).
using OriginalDestinationLookup = std::function<std::optional<OriginalDestination>(int acceptedFd)>;

}  // namespace shadowai
