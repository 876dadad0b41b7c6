#include "segment/size.hpp"

#include "segment/binarise.hpp"
#include "segment/blobs.hpp"
#include "segment/ink.hpp"
#include "segment/normalise.hpp"
#include "segment/rules.hpp"

#include <algorithm>
#include <cmath>

namespace digits {

namespace {

// Digits at least this tall, in strokes at least this wide, read as well at that size as larger:
// the crop is 20 px, seams are looked for at most 96 px tall, and a stroke of four pixels keeps
// its shape. (At 48 px, bench-segment's touching and photo classes lost a few images in 1000.)
constexpr double comfortable_height = 56, comfortable_stroke = 4;

}  // namespace

int writing_reduction(const cv::Mat& gray, bool light_on_dark) {
  constexpr int glance_factor = 4;
  if (std::min(gray.cols, gray.rows) < 2 * comfortable_height) return 1;  // no room for large digits
  const cv::Mat small = glance(gray, glance_factor);
  std::vector<Blob> blobs;
  const cv::Mat mask = binarise(ink_map(small, light_on_dark), &blobs);
  // Rules and grids are not taken out at a glance: leave them, and the digits touching them, aside.
  // Nor is what the frame cuts any guide to the writing's size: where a shadow's edge meets the
  // frame, a tall dark band would pass for large digits, and small writing be shrunk away.
  std::erase_if(blobs, [&](const Blob& b) { return spans_page(b.box, small.size()) || touches_frame(b.box, small.size()); });
  // A fine pen's strokes are faint or gone at a glance, and every stroke is about 1.5 px wider
  // there than it is (the glance is blurred): too thin, or digits too short, to shrink.
  const double height = glance_factor * typical_height(blobs, small.size()),
               stroke = glance_factor * (stroke_width(mask) - 1.5);
  for (const int f : {4, 2})
    if (height >= f * comfortable_height && stroke >= f * comfortable_stroke) return f;
  return 1;
}

cv::Rect writing_part(const std::vector<Blob>& blobs, double height, const cv::Size& size) {
  cv::Rect writing;
  for (const auto& blob : blobs)
    if (blob.box.height >= 0.5 * height && blob.box.height <= 2 * height)
      writing = writing.empty() ? blob.box : writing | blob.box;
  if (writing.empty()) return {};
  const int pad_x = static_cast<int>(std::ceil(6 * height)), pad_y = static_cast<int>(std::ceil(2 * height));
  writing = (writing - cv::Point(pad_x, pad_y) + cv::Size(2 * pad_x, 2 * pad_y)) & cv::Rect({}, size);
  return 4.0 * writing.area() <= static_cast<double>(size.area()) ? writing : cv::Rect();
}

}  // namespace digits
