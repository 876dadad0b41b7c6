#pragma once
// What a caller of segmentation chooses: the ink's polarity, the pixel limit, the working size,
// the bounds on the work of reading one picture (base/work.hpp), and, for benchmarks and sweeps,
// the tuned numbers of every stage (segment/tuning.hpp).
// No OpenCV here: this is part of the installed API (digits.hpp).

#include "base/work.hpp"
#include "io/limits.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace digits {

enum class Polarity { automatic, dark_on_light, light_on_dark };  // --invert auto|no|yes

struct Tuning;  // segment/tuning.hpp

// How many candidate digits the judge may read in one picture while deciding where its digits
// part (read_line). Each costs 0.2-0.4 ms (its crop and the network), and a picture of noise has
// tens of thousands: 18,000-22,000 in uniform noise of 500x400 to 2000x1500, 52,000 in 800x800
// (enlarged to read, its specks grow into long chains). Writing needs far fewer: at most 3,231 in
// a picture of bench-segment's classes (300 of each, seed 1; the 99th percentile of the hardest,
// touching digits, 802), 523 in examples/; pages tiled from them, 600 to 2,800 digits in
// 1600x1600, 1,700-12,800 (but 31,000-38,000 for 700 to 1,200 digits that all touch).
inline constexpr std::size_t default_max_judged = 20000;

struct SegmentOptions {
  Polarity polarity = Polarity::automatic;
  std::int64_t max_pixels = default_max_pixels;
  // Larger pictures are analysed at this longer side; boxes are still given in the original.
  int working_side = 1600;
  // Past this many candidate digits read, or past the deadline (none by default: the caller sets
  // one when the work starts), the picture is refused with TooLarge rather than read in part.
  std::size_t max_judged = default_max_judged;
  Deadline deadline;
  // The stages' tuned numbers; none: the defaults (default_tuning()). Shared and never changed
  // once set, so copies of the options (a server's threads, a second pass) are cheap and safe.
  std::shared_ptr<const Tuning> tuning;
};

}  // namespace digits
