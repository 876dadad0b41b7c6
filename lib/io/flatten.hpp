#pragma once
// A picture's grey plane built row by row as a decoder hands out its rows, with any transparency
// flattened onto a background at the end. The decoders keep only the grey plane and, once a pixel
// is not opaque, an 8-bit alpha plane: never the colour picture itself (a 40 MP RGBA canvas is
// 160 MB of pixels, its grey and alpha 80 MB).

#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

namespace digits {

class FlattenedGrey {
 public:
  explicit FlattenedGrey(cv::Size size);

  // Where the grey of row y goes; the decoder writes it (all of it, or the pixels of an
  // interlaced pass) before it records those pixels' alpha.
  std::uint8_t* row(int y) { return grey_.ptr<std::uint8_t>(y); }

  // The alpha of `count` pixels of row y, at columns x0, x0 + dx, ...: one byte every `stride`.
  // A picture with an alpha channel records every pixel once; one without records none.
  void record_alpha(int y, int x0, int dx, int count, const std::uint8_t* alpha, std::size_t stride);

  // The grey, transparent pixels composited onto the background their strokes stand out from:
  // 255 when the opaque pixels (alpha >= 128) are dark on average, 0 when they are light. A
  // picture whose pixels are all opaque comes back as it is.
  cv::Mat finish() &&;

 private:
  cv::Mat grey_;
  cv::Mat alpha_;  // allocated (255 everywhere) at the first pixel that is not opaque
  std::uint8_t lowest_ = 255;
  double opaque_sum_ = 0;
  std::int64_t opaque_count_ = 0;
};

}  // namespace digits
