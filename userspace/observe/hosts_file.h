// The host's /etc/hosts as evidence: a host that pins a provider there ("10.1.2.3 api.openai.com")
// never asks DNS, so neither the DNS answers seen on the wire nor the catalog's own resolution
// would tie that address to the provider. Its catalog entries are learned like resolved names
// (the weakest evidence, used when a flow has no SNI), and so count for QUIC refusal too.
// Containers with an /etc/hosts of their own are not read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "net/ip_address.h"
#include "observe/address_names.h"

namespace shadowai {

struct HostsEntry {
  IpAddress address;
  std::vector<std::string> names;  // canonical name and aliases, lower-cased
};

// hosts(5): one address and its names per line, '#' starts a comment. Lines without a valid
// address or without a name are skipped, as the C library skips them.
std::vector<HostsEntry> parseHostsFile(std::string_view text);

inline constexpr const char* kSystemHostsFile = "/etc/hosts";
// Larger files are not read (a hosts file is a few KiB; a giant one is not worth the event loop).
inline constexpr size_t kMaxHostsFileBytes = 16u << 20;

// Learns into TARGET, for TTL_SECONDS, each address of PATH with a name the catalog lists as a
// hosted LLM endpoint (exact or wildcard), under those names. Returns how many addresses; a
// missing or unreadable file gives 0.
size_t learnCatalogHosts(const Catalog& catalog, const std::string& path, AddressNames& target, uint32_t ttlSeconds);

}  // namespace shadowai
