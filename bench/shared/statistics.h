// The figures the benchmarks report from their samples: percentiles, medians and ratios, the same
// way in every report.
#pragma once

#include <cstdint>
#include <vector>

namespace shadowai::bench {

// The value at FRACTION (0.5: the median) of VALUES by rank, the nearest below; 0 for none.
double percentile(std::vector<uint32_t> values, double fraction);
// The middle value, or the mean of the two middle ones; 0 for none.
double median(std::vector<double> values);
// VALUE / BASE, or 0 when there is no base to compare with.
double ratio(double value, double base);
// The median of SAMPLES over the median of BASE_SAMPLES (one figure per round each).
double medianRatio(const std::vector<double>& samples, const std::vector<double>& baseSamples);

}  // namespace shadowai::bench
