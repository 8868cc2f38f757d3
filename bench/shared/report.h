// What the benchmarks' human reports share: how a goal's verdict reads.
#pragma once

namespace shadowai::bench {

// "met" or "MISSED": the word a reader scans a report for.
inline const char* verdict(bool met) { return met ? "met" : "MISSED"; }

}  // namespace shadowai::bench
