// ControlHandler: what the daemon does with control requests. The ControlServer has checked the peer
// and resolved the target before it calls; the handler applies the change (mode store, BPF map) and
// reports. Both methods are called on the server's thread, one call at a time.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cgroup/mode.h"
#include "common/result.h"
#include "control/peer_credentials.h"

namespace shadowai {

class ControlHandler {
 public:
  virtual ~ControlHandler() = default;

  // CGROUPPATH is resolved and validated: canonical, relative to the cgroup v2 root, an existing cgroup
  // inside the governed subtree. MODE nullopt: inherit (remove the cgroup's own entry). The returned
  // object's fields are added to the reply (e.g. "effective_mode"); an error becomes the reply's
  // one-line "error".
  virtual Result<nlohmann::json> setMode(const std::string& cgroupPath, std::optional<Mode> mode,
                                         const PeerCredentials& who) = 0;

  // The daemon's status object (docs/daemon.md lists the fields `shadowai status` shows).
  virtual nlohmann::json status() = 0;

  // Reads the policy again; an invalid one is rejected (the error lists its first problem) and the
  // policy in force stays. The object holds what is now in force (files, rules).
  virtual Result<nlohmann::json> reloadPolicy(const PeerCredentials& who) = 0;
};

}  // namespace shadowai
