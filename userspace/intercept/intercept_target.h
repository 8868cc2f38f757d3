// InterceptTarget: what the daemon's decision knows about an LLM call's destination and the workload
// making it, handed through the proxy (opaquely) to the interception.
#pragma once

#include <string>

#include "audit/alert_fields.h"
#include "policy/policy.h"

namespace shadowai {

struct InterceptTarget {
  std::string providerId;    // catalog endpoint id: "openai"
  std::string providerName;  // "OpenAI", for messages
  std::string apiFamily;     // catalog apiFamily: picks the adapter and where a managed key goes
  std::string host;          // the SNI that matched the catalog
  std::string cgroupPath;    // the workload's cgroup from the cgroup v2 root; "" when unknown
  std::string unitName;      // its systemd unit; "" when none
  WorkloadFacts workload;    // what policy selectors match on
  // PROVIDER, HOST, MATCH, ADDRESS, PORT, PROTOCOL, the process and its workload: the start of every
  // alert about this connection's calls.
  AlertFields alertFields;
};

}  // namespace shadowai
