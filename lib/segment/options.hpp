#pragma once
// What a caller of segmentation chooses: the ink's polarity, the pixel limit, the working size.
// No OpenCV here: this is part of the installed API (digits.hpp).

#include "io/limits.hpp"

#include <cstdint>

namespace digits {

enum class Polarity { automatic, dark_on_light, light_on_dark };  // --invert auto|no|yes

struct SegmentOptions {
  Polarity polarity = Polarity::automatic;
  std::int64_t max_pixels = default_max_pixels;
  // Larger pictures are analysed at this longer side; boxes are still given in the original.
  int working_side = 1600;
};

}  // namespace digits
