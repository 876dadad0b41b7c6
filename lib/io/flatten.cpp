#include "io/flatten.hpp"

#include <algorithm>

namespace digits {

FlattenedGrey::FlattenedGrey(cv::Size size) : grey_(size, CV_8U) {}

void FlattenedGrey::record_alpha(int y, int x0, int dx, int count, const std::uint8_t* alpha, std::size_t stride) {
  const std::uint8_t* grey = row(y);
  std::uint8_t* plane = alpha_.empty() ? nullptr : alpha_.ptr<std::uint8_t>(y);
  for (int i = 0, x = x0; i < count; ++i, x += dx, alpha += stride) {
    const std::uint8_t a = *alpha;
    if (a < lowest_) {
      lowest_ = a;
      // The first pixel that is not opaque: every pixel before it was, as the pixels not yet
      // decoded are until their rows come.
      if (alpha_.empty()) {
        alpha_.create(grey_.size(), CV_8U);
        alpha_.setTo(255);
        plane = alpha_.ptr<std::uint8_t>(y);
      }
    }
    if (plane != nullptr) plane[x] = a;
    if (a >= 128) {
      opaque_sum_ += grey[x];
      ++opaque_count_;
    }
  }
}

cv::Mat FlattenedGrey::finish() && {
  if (lowest_ == 255) return std::move(grey_);
  const double level = opaque_count_ > 0 ? opaque_sum_ / static_cast<double>(opaque_count_) : 0;
  const float background = level < 128 ? 255.0f : 0.0f;
  for (int y = 0; y < grey_.rows; ++y) {
    const std::uint8_t* alpha = alpha_.ptr<std::uint8_t>(y);
    std::uint8_t* g = grey_.ptr<std::uint8_t>(y);
    for (int x = 0; x < grey_.cols; ++x) {
      const float a = static_cast<float>(alpha[x]) * (1.0f / 255.0f);
      g[x] = cv::saturate_cast<std::uint8_t>(static_cast<float>(g[x]) * a + (1.0f - a) * background);
    }
  }
  alpha_.release();
  return std::move(grey_);
}

}  // namespace digits
