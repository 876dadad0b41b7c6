#pragma once
// What a caller of segmentation chooses: the ink's polarity, the pixel limit, the working size,
// and, for benchmarks and sweeps, the tuned numbers of every stage (segment/tuning.hpp).
// No OpenCV here: this is part of the installed API (digits.hpp).

#include "io/limits.hpp"

#include <cstdint>
#include <memory>

namespace digits {

enum class Polarity { automatic, dark_on_light, light_on_dark };  // --invert auto|no|yes

struct Tuning;  // segment/tuning.hpp

struct SegmentOptions {
  Polarity polarity = Polarity::automatic;
  std::int64_t max_pixels = default_max_pixels;
  // Larger pictures are analysed at this longer side; boxes are still given in the original.
  int working_side = 1600;
  // The stages' tuned numbers; none: the defaults (default_tuning()). Shared and never changed
  // once set, so copies of the options (a server's threads, a second pass) are cheap and safe.
  std::shared_ptr<const Tuning> tuning;
};

}  // namespace digits
