// The client side of the control protocol, for the `shadowai` CLI: one request, one reply, with the
// daemon's troubles turned into the one-line errors a user should see.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "control/control_protocol.h"

namespace shadowai {

// Where the CLI looks without --socket: the control_socket of the default daemon configuration.
inline constexpr const char* kDefaultControlSocket = "/run/shadowai/control.sock";

// Sends REQUEST to the daemon at SOCKETPATH and waits up to TIMEOUT for its reply. The reply object
// when it says "ok"; otherwise one line, e.g.
//   "shadowaid is not running (no control socket at /run/shadowai/control.sock)"
//   "permission denied: cannot connect to PATH (run as root or as a member of group shadowai)"
//   the daemon's own "error" ("unknown cgroup /x: ...", "permission denied: ...").
Result<nlohmann::json> sendControlRequest(const std::string& socketPath, const ControlRequest& request,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace shadowai
