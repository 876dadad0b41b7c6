// The bytes-to-grey entry (lib/image.hpp): decode_image and decode_reduced return an 8-bit grey
// picture within the limits, or throw digits::Error; anything else (a crash, a sanitizer report,
// another exception) is a finding.

#include "fuzz.hpp"

#include "base/error.hpp"
#include "io/image.hpp"

#include <algorithm>
#include <array>

using namespace digits;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_opencv();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::bytes_of(data, size);
  // The input's length picks the entry, so every input reaches one of them whole: decode_image,
  // or decode_reduced at a longer side that makes a large JPEG come decoded at 1/2 to 1/8.
  constexpr std::array<int, 4> sides{0, 40, 100, 300};
  const int side = sides[size % sides.size()];
  try {
    if (side == 0) {
      const cv::Mat image = decode_image(bytes);
      FUZZ_CHECK(!image.empty() && image.type() == CV_8UC1);
      FUZZ_CHECK(std::int64_t{image.cols} * image.rows <= default_max_pixels);
      FUZZ_CHECK(std::min(image.cols, image.rows) >= min_image_side);
    } else {
      const Decoded d = decode_reduced(bytes, side);
      FUZZ_CHECK(!d.image.empty() && d.image.type() == CV_8UC1);
      FUZZ_CHECK(std::int64_t{d.image.cols} * d.image.rows <= default_max_pixels);
      FUZZ_CHECK(std::int64_t{d.full.width} * d.full.height <= default_max_pixels);
      FUZZ_CHECK(d.image.cols <= d.full.width && d.image.rows <= d.full.height);
      FUZZ_CHECK(std::min(d.image.cols, d.image.rows) >= 1);
    }
  } catch (const Error&) {
    // refused: what a bad file must come to
  }
  return 0;
}
