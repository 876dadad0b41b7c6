#pragma once
// What the stages of segmentation share: the Blob (a candidate digit), pictures shrunk and enlarged
// in whole blocks, a histogram's percentiles, connected components, and boxes measured against
// each other and against the picture's frame.

#include "io/records.hpp"

#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <vector>

namespace digits {

// A candidate digit: its box in working coordinates and its own ink (255) within that box.
struct Blob {
  cv::Rect box;
  cv::Mat mask;             // CV_8U, box.size()
  std::optional<Crop> crop;  // its digit_crop, once made (read_line makes it to judge the blob)
  // Cut from a larger blob: the ink in its box that the cut left to its neighbours (CV_8U,
  // box.size(); empty when none). Its crop takes the soft edge around its strokes, not that.
  cv::Mat others;
};

// One blob of the two, their masks combined.
Blob joined(const Blob& a, const Blob& b);

// The component `label` of `labels`, which lies within `box`.
Blob blob_of(const cv::Mat& labels, const cv::Rect& box, int label);

// The odd number v or v + 1: kernel sizes must be odd.
inline int odd(int v) { return v | 1; }

// The picture padded with its own edge to a multiple of `factor` on each side.
cv::Mat padded(const cv::Mat& img, int factor);

// The mean of every `factor` x `factor` block of the picture padded to a multiple of that:
// ceil(size / factor) pixels, each exactly a block.
cv::Mat shrink(const cv::Mat& img, int factor);

// As shrink, for a glance that only measures or decides: faster, a little less exact.
cv::Mat glance(const cv::Mat& img, int factor);

// Back to `size` from what shrink() made `factor` times smaller: enlarged by exactly that factor
// and the padding cut off, so that every pixel lands on the block it came from.
cv::Mat enlarge(const cv::Mat& small, int factor, cv::Size size, int interpolation);

// The value below which `fraction` of the histogram's mass lies.
int percentile(const std::array<int, 256>& hist, double fraction);

// The bounding box of the pixels added to it, one at a time.
struct Extent {
  int x0 = std::numeric_limits<int>::max(), y0 = std::numeric_limits<int>::max(), x1 = -1, y1 = -1;
  void add(int x, int y) { x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y); }
  cv::Rect box() const { return {x0, y0, x1 - x0 + 1, y1 - y0 + 1}; }
};

// Labels the 8-connected components and returns each one's bounding box (index = label - 1).
std::vector<cv::Rect> label_components(const cv::Mat& mask, cv::Mat& labels);

// How many columns two boxes share; negative: the gap between them.
int horizontal_overlap(const cv::Rect& a, const cv::Rect& b);

// How many rows apart two boxes are; negative: how many they share.
int vertical_gap(const cv::Rect& a, const cv::Rect& b);

// The sides of the picture a box lies within a pixel of: cut off by the frame there, or running
// out of the picture.
struct FrameSides {
  bool left = false, top = false, right = false, bottom = false;
  bool any() const { return left || top || right || bottom; }
  int count() const { return int{left} + int{top} + int{right} + int{bottom}; }
};
FrameSides frame_sides(const cv::Rect& r, const cv::Size& picture);

// Within a pixel of the picture's edge: cut off by the frame, or running out of the picture.
bool touches_frame(const cv::Rect& r, const cv::Size& picture);

}  // namespace digits
