// Interface set-up over rtnetlink, for the test's own network namespace: bring a link up and give it
// addresses. No shelling out to `ip`, so a failure comes back as one clear line with its errno.
#pragma once

#include <string>

#include "common/result.h"
#include "net/ip_address.h"

namespace shadowai::test {

Status setLinkUp(const std::string& interface);

// Adds ADDRESS/PREFIX_LENGTH to INTERFACE. IPv6 addresses skip duplicate address detection
// (IFA_F_NODAD) so they are usable at once instead of "tentative" for a second or two. An address
// that is already there counts as success.
Status addInterfaceAddress(const std::string& interface, const IpAddress& address, int prefixLength);

}  // namespace shadowai::test
