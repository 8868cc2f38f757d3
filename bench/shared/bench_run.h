// What every benchmark binary does around its measurements: its name in messages, stopping cleanly
// on Ctrl-C, a monotonic clock, the machine it ran on, and finding the binaries of its build tree.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace shadowai::bench {

// The benchmark's name, for messages ("intercept_bench: ..."); main() sets it first.
std::string& benchName();
// "NAME: LINE" on stderr: progress and problems, never the report.
void benchMessage(const std::string& line);

// Set by SIGINT, SIGTERM and SIGHUP once installStopHandlers() ran: every wait of the benchmark
// checks it and gives up, so the destructors take the world down in order.
extern std::atomic<bool> stopRequested;
// Also ignores SIGPIPE: peers of the benchmark's sockets and pipes go away on purpose, and a write
// to one must be an error.
void installStopHandlers();

uint64_t nowNs();  // CLOCK_MONOTONIC

std::string kernelRelease();
std::string loadAverage();  // the 1-minute figure of /proc/loadavg, "?" when unreadable

// A binary of the same build tree: besideThisBinary("../userspace/shadowaid") from build/bench/.
std::string besideThisBinary(const std::string& relative);

// Raises this process's soft RLIMIT_NOFILE to its hard limit (children inherit it; raising the hard
// one takes CAP_SYS_RESOURCE, which a container may not grant); fails when the hard limit is below
// NEEDED. Returns the limit.
Result<rlim_t> raiseOpenFileLimit(rlim_t needed);

// The test bed's world (support/test_namespace.h): own network and mount namespaces, loopback up, a
// private scratch tmpfs as TMPDIR, no DNS server; and what earlier runs killed with SIGKILL left
// behind. Call it while the process is single-threaded.
Status enterBenchWorld();

}  // namespace shadowai::bench
