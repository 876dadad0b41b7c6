#include "segment/common.hpp"

#include "segment/levels.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <numeric>

namespace digits {

Blob joined(const Blob& a, const Blob& b) {
  Blob out;
  out.box = a.box | b.box;
  out.mask = cv::Mat::zeros(out.box.size(), CV_8U);
  for (const Blob* part : {&a, &b}) {
    cv::Mat target = out.mask(part->box - out.box.tl());
    cv::bitwise_or(target, part->mask, target);
  }
  if (!a.others.empty() || !b.others.empty()) {
    out.others = cv::Mat::zeros(out.box.size(), CV_8U);
    for (const Blob* part : {&a, &b})
      if (!part->others.empty()) {
        cv::Mat target = out.others(part->box - out.box.tl());
        cv::bitwise_or(target, part->others, target);
      }
    out.others.setTo(0, out.mask);
    if (cv::countNonZero(out.others) == 0) out.others.release();
  }
  return out;
}

Blob blob_of(const cv::Mat& labels, const cv::Rect& box, int label) { return {box, labels(box) == label, std::nullopt, {}}; }

cv::Mat padded(const cv::Mat& img, int factor) {
  const int right = (factor - img.cols % factor) % factor, bottom = (factor - img.rows % factor) % factor;
  if (right == 0 && bottom == 0) return img;
  cv::Mat out;
  cv::copyMakeBorder(img, out, 0, bottom, 0, right, cv::BORDER_REPLICATE);
  return out;
}

// OpenCV's INTER_AREA is fast only where the sizes divide exactly: a 1001x301 picture shrunk by 4
// took 0.33 ms, 1000x300 0.08 ms.
cv::Mat shrink(const cv::Mat& img, int factor) {
  if (factor <= 1) return img;
  const cv::Mat whole = padded(img, factor);
  cv::Mat small;
  cv::resize(whole, small, cv::Size(whole.cols / factor, whole.rows / factor), 0, 0, cv::INTER_AREA);
  return small;
}

// Halved while the factor is even, which is five times faster than shrink (0.015 ms for 1000x300
// by 4) but rounds at each halving, a bias of a third of a level. (The ink map's background shrunk
// so lost 8 of 1000 grid images' texts.)
cv::Mat glance(const cv::Mat& img, int factor) {
  if (factor <= 1) return img;
  cv::Mat small = padded(img, factor);
  for (; factor % 2 == 0; factor /= 2) {
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  return shrink(small, factor);
}

// Stretched to `size` instead, a map is off by up to a block at the far edges: enough to turn the
// polarity of a small desk photo, whose sheet edge is most of its contrast.
cv::Mat enlarge(const cv::Mat& small, int factor, cv::Size size, int interpolation) {
  if (small.size() == size) return small;
  cv::Mat big;
  cv::resize(small, big, cv::Size(small.cols * factor, small.rows * factor), 0, 0, interpolation);
  return big(cv::Rect(cv::Point(0, 0), size));
}

int percentile(const std::array<int, 256>& hist, double fraction) {
  const long total = std::accumulate(hist.begin(), hist.end(), 0L);
  // At least fraction * total pixels at that level or darker: the one of rank ceil(that) - 1.
  return level_at_rank(hist, static_cast<long>(std::ceil(fraction * static_cast<double>(total))) - 1);
}

// One pass over the labels: OpenCV's WithStats variant is several times slower here.
std::vector<cv::Rect> label_components(const cv::Mat& mask, cv::Mat& labels) {
  const int n = cv::connectedComponents(mask, labels, 8, CV_32S);
  std::vector<Extent> ext(static_cast<std::size_t>(std::max(0, n - 1)));
  for (int y = 0; y < labels.rows; ++y) {
    const auto* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x)
      if (l[x] > 0) ext[static_cast<std::size_t>(l[x] - 1)].add(x, y);
  }
  std::vector<cv::Rect> boxes;
  boxes.reserve(ext.size());
  for (const auto& e : ext) boxes.push_back(e.box());
  return boxes;
}

int horizontal_overlap(const cv::Rect& a, const cv::Rect& b) {
  return std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x);
}

int vertical_gap(const cv::Rect& a, const cv::Rect& b) {
  return std::max(a.y, b.y) - std::min(a.y + a.height, b.y + b.height);
}

FrameSides frame_sides(const cv::Rect& r, const cv::Size& picture) {
  return {r.x <= 1, r.y <= 1, r.br().x >= picture.width - 1, r.br().y >= picture.height - 1};
}

bool touches_frame(const cv::Rect& r, const cv::Size& picture) { return frame_sides(r, picture).any(); }

}  // namespace digits
