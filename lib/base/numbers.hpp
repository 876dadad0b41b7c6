#pragma once
// Small numeric helpers several modules share, defined once.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace digits {

// `v` rounded to a multiple of 1 / `scale` (1e4: four decimals), for figures written to JSON:
// more digits would be noise.
inline double rounded(double v, double scale) { return std::round(v * scale) / scale; }

// The lower median of `values` (of a digit and a taller pair of touching ones, the digit's
// height); `values` is reordered. Empty: T{}.
template <typename T>
T lower_median(std::vector<T>& values) {
  if (values.empty()) return T{};
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>((values.size() - 1) / 2);
  std::ranges::nth_element(values, middle);
  return *middle;
}

}  // namespace digits
