// CPU time of the calling thread, for budgets of work a hostile input controls (masking a text shaped
// to be slow): CPU rather than wall time, so a busy host does not make an honest call run out.
#pragma once

#include <cstdint>

namespace shadowai {

// CLOCK_THREAD_CPUTIME_ID in nanoseconds.
uint64_t threadCpuNanos();

}  // namespace shadowai
