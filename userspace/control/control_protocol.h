// The control protocol between the `shadowai` CLI and shadowaid: newline-delimited JSON over a Unix
// stream socket, one request line answered by one reply line.
//
//   {"command":"set_mode","mode":"enforce|detect|off|inherit","cgroup":"/system.slice/x.service"}
//   {"command":"set_mode","mode":"enforce","unit":"x.service"}
//   {"command":"status"}
//
// Replies: {"ok":true, ...} or {"ok":false,"error":"one line"}. docs/daemon.md describes the fields.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "cgroup/mode.h"
#include "common/result.h"

namespace shadowai {

// The longest request or reply line, newline included. A request is a few hundred bytes; the bound
// keeps a client that never sends a newline from growing the daemon's memory.
inline constexpr size_t kMaxControlLineBytes = 64 * 1024;

struct SetModeRequest {
  std::optional<Mode> mode;  // nullopt: "inherit" (drop the cgroup's own mode)
  // Exactly one of these is set.
  std::optional<std::string> cgroup;  // as the user gave it: relative to the cgroup v2 root or under its mount
  std::optional<std::string> unit;    // a systemd unit name

  bool operator==(const SetModeRequest&) const = default;
};

struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};

// Read the policy directory again (`shadowai policy reload`).
struct ReloadPolicyRequest {
  bool operator==(const ReloadPolicyRequest&) const = default;
};

using ControlRequest = std::variant<SetModeRequest, StatusRequest, ReloadPolicyRequest>;

// One request line (without its newline). Errors are one line fit for the error reply.
Result<ControlRequest> parseControlRequest(std::string_view line);
// The request as one line, newline included.
std::string encodeControlRequest(const ControlRequest& request);

// "mode" as the protocol spells it: a Mode's name, or "inherit" for nullopt.
std::string modeArgumentText(const std::optional<Mode>& mode);
// The inverse; an error for anything else.
Result<std::optional<Mode>> parseModeArgument(std::string_view text);

// {"ok":true} plus FIELDS (an object) / {"ok":false,"error":MESSAGE}, each as one line with its newline.
std::string encodeOkReply(const nlohmann::json& fields = nlohmann::json::object());
std::string encodeErrorReply(const std::string& message);
// One reply line: the reply object when "ok" is true, its "error" as an Error when false, or an error
// saying the reply was not understood.
Result<nlohmann::json> parseControlReply(std::string_view line);

// Splits a byte stream into lines of at most kMaxControlLineBytes (newline included).
class ControlLineBuffer {
 public:
  explicit ControlLineBuffer(size_t maxLineBytes = kMaxControlLineBytes) : maxLineBytes_(maxLineBytes) {}

  void append(std::string_view bytes) { pending_.append(bytes); }
  // The next complete line without its newline (a trailing '\r' is kept: JSON ignores it), or nullopt
  // when none is complete yet.
  std::optional<std::string> takeLine();
  // True once the pending bytes hold more than the limit without a newline: the peer is not speaking
  // this protocol and the connection should end with an error reply.
  bool overflowed() const;

 private:
  size_t maxLineBytes_;
  std::string pending_;
};

}  // namespace shadowai
