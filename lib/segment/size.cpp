#include "segment/size.hpp"

#include "segment/binarise.hpp"
#include "segment/blobs.hpp"
#include "segment/ink.hpp"
#include "segment/normalise.hpp"
#include "segment/rules.hpp"

#include <algorithm>
#include <cmath>

namespace digits {

// Digits at least comfortable_height tall, in strokes at least comfortable_stroke wide, read as well
// at that size as larger: the crop is 20 px, seams are looked for at most 96 px tall, and a stroke
// of four pixels keeps its shape.
int writing_reduction(const cv::Mat& gray, bool light_on_dark, const Tuning& tuning) {
  const SizeTuning& size = tuning.size;
  const int glance_factor = size.glance;
  if (std::min(gray.cols, gray.rows) < 2 * size.comfortable_height) return 1;  // no room for large digits
  const cv::Mat small = glance(gray, glance_factor);
  std::vector<Blob> blobs;
  const cv::Mat mask =
      binarise(ink_map(small, light_on_dark, nullptr, tuning.ink), &blobs, nullptr, std::nullopt, nullptr, {}, tuning.binarise);
  // Rules and grids are not taken out at a glance: leave them, and the digits touching them, aside.
  // Nor is what the frame cuts any guide to the writing's size: where a shadow's edge meets the
  // frame, a tall dark band would pass for large digits, and small writing be shrunk away.
  std::erase_if(blobs, [&](const Blob& b) { return spans_page(b.box, small.size()) || touches_frame(b.box, small.size()); });
  // A fine pen's strokes are faint or gone at a glance, and every stroke is wider there than it is
  // (the glance is blurred): too thin, or digits too short, to shrink.
  const double height = glance_factor * typical_height(blobs, small.size(), tuning.blobs),
               stroke = glance_factor * (stroke_width(mask) - size.glance_blur);
  for (const int f : {4, 2})
    if (height >= f * size.comfortable_height && stroke >= f * size.comfortable_stroke) return f;
  return 1;
}

bool small_writing(double height, const SizeTuning& tuning) { return height > 0 && height < tuning.small_height; }

cv::Rect writing_part(const std::vector<Blob>& blobs, double height, const cv::Size& size, const SizeTuning& tuning) {
  cv::Rect writing;
  for (const auto& blob : blobs)
    if (blob.box.height >= tuning.part_min_height * height && blob.box.height <= tuning.part_max_height * height)
      writing = writing.empty() ? blob.box : writing | blob.box;
  if (writing.empty()) return {};
  const int pad_x = static_cast<int>(std::ceil(tuning.part_pad_along * height)),
            pad_y = static_cast<int>(std::ceil(tuning.part_pad_across * height));
  writing = (writing - cv::Point(pad_x, pad_y) + cv::Size(2 * pad_x, 2 * pad_y)) & cv::Rect({}, size);
  return static_cast<double>(writing.area()) <= tuning.max_part * static_cast<double>(size.area()) ? writing : cv::Rect();
}

}  // namespace digits
