#include "shared/statistics.h"

#include <algorithm>
#include <cstddef>

namespace shadowai::bench {

double percentile(std::vector<uint32_t> values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(index), values.end());
  return values[index];
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double ratio(double value, double base) { return base == 0 ? 0 : value / base; }

double medianRatio(const std::vector<double>& samples, const std::vector<double>& baseSamples) {
  return ratio(median(samples), median(baseSamples));
}

}  // namespace shadowai::bench
