// What observation concludes: a process (with its cgroup) talked to a catalog endpoint.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "catalog/flow_classifier.h"
#include "net/ip_address.h"

namespace shadowai {

// Who was behind an event. pid/comm/exe/cmdline are best effort: a short-lived process may be gone
// from /proc before we read it, and skb events carry no task at all (then pid is 0).
struct ProcessIdentity {
  int pid = 0;
  uint32_t uid = 0;
  std::string userName;
  std::string comm;
  std::string exe;
  std::string cmdline;
  uint64_t cgroupId = 0;
  std::string cgroupPath;  // relative to the cgroup v2 root; empty when the id is unknown
};

enum class Transport { kTcp, kQuic, kUdp };
const char* toString(Transport transport);

struct Detection {
  ProcessIdentity process;
  IpAddress remote;
  uint16_t port = 0;
  Transport transport = Transport::kTcp;
  Classification classification;
  std::chrono::system_clock::time_point when;
  // A running shadowaid's enforce mode took this connection into its proxy (the scan saw it through
  // the daemon's record): the call is governed, and `remote` is still its real destination.
  bool redirected = false;
};

}  // namespace shadowai
