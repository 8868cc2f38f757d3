// What /proc and the CPU clocks say about a process of a benchmark (the daemon, nginx, a worker):
// memory, open files, threads, its open-file limit, CPU time.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/result.h"

namespace shadowai::bench {

struct MemoryFigures {
  uint64_t rssKiB = 0;  // VmRSS: resident pages, shared libraries included
  uint64_t pssKiB = 0;  // Pss from smaps_rollup: shared pages divided among their users
  uint64_t openFiles = 0;
  uint64_t threads = 0;
};

Result<MemoryFigures> readMemoryFigures(pid_t pid);

struct OpenFileLimit {
  uint64_t soft = 0;  // "unlimited" reads as the largest uint64_t
  uint64_t hard = 0;
};

Result<OpenFileLimit> readOpenFileLimit(pid_t pid);

// CPU time (user + system, all threads) of any process, in nanoseconds.
Result<uint64_t> processCpuNs(pid_t pid);

}  // namespace shadowai::bench
