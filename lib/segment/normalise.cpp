#include "segment/normalise.hpp"

#include "base/error.hpp"
#include "segment/levels.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace digits {

namespace {

// Below this, a pixel is background noise rather than ink.
constexpr int ink_floor = 24;

// The level of the strong strokes: the 90th percentile of the ink above the noise floor (0 when
// there is none). Light pencil and full-black ink alike reach it.
double strong_level(const cv::Mat& img) {
  const auto count = histogram(img);
  int total = 0;
  for (int v = ink_floor + 1; v < 256; ++v) total += count[static_cast<std::size_t>(v)];
  if (total == 0) return 0;
  return level_at_rank(count, total * 9 / 10, ink_floor + 1);
}

cv::Mat thicken(const cv::Mat& ink, double scale) {
  // Measured at half the strokes' own strength: faint ink (pencil, a fine pen in a blurred
  // photo) may never reach half of 255, and would pass for no stroke at all.
  const double level = strong_level(ink);
  if (level <= 0) return ink;
  const cv::Mat strokes = ink > level / 2;
  const double width = stroke_width(strokes);
  const double wanted = min_stroke_in_box / scale;
  if (width <= 0 || width * scale >= min_stroke_in_box) return ink;
  const int radius = static_cast<int>(std::lround((wanted - width) / 2));
  if (radius < 1) return ink;
  cv::Mat out;
  const cv::Mat disc = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1));
  // Pad first, so the thickened strokes are not clipped at the crop's edge.
  cv::Mat padded;
  cv::copyMakeBorder(ink, padded, radius, radius, radius, radius, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::dilate(padded, out, disc);
  return out;
}

// Scales the intensities so the strong strokes are white.
void stretch(cv::Mat& img) {
  const double top = strong_level(img);
  if (top > 0) img.convertTo(img, CV_8U, 255.0 / top);
}

}  // namespace

double stroke_width(const cv::Mat& ink) {
  cv::Mat mask = ink > 127;
  const int area = cv::countNonZero(mask);
  if (area == 0) return 0;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
  double perimeter = 0;
  for (const auto& c : contours) perimeter += cv::arcLength(c, true);
  // A lone pixel's contour has no length; it is one pixel wide.
  return perimeter > 0 ? std::min(2.0 * area / perimeter, std::sqrt(static_cast<double>(area))) : 1.0;
}

Crop normalise_digit(const cv::Mat& ink) {
  if (ink.empty() || ink.type() != CV_8UC1) throw Error("normalise_digit needs a non-empty 8-bit grayscale image");
  Crop crop{};
  const cv::Rect inked = cv::boundingRect(ink > ink_floor);  // of the non-zero pixels
  if (inked.empty()) return crop;
  const cv::Mat tight = ink(inked);
  const double scale = static_cast<double>(digit_box_side) / std::max(tight.cols, tight.rows);
  cv::Mat digit = thicken(tight, scale);
  const double fit = static_cast<double>(digit_box_side) / std::max(digit.cols, digit.rows);
  const cv::Size size(std::clamp(static_cast<int>(std::lround(digit.cols * fit)), 1, digit_box_side),
                      std::clamp(static_cast<int>(std::lround(digit.rows * fit)), 1, digit_box_side));
  cv::Mat small;
  cv::resize(digit, small, size, 0, 0, fit < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  stretch(small);

  const cv::Moments m = cv::moments(small);
  const double cx = m.m00 > 0 ? m.m10 / m.m00 : small.cols / 2.0;
  const double cy = m.m00 > 0 ? m.m01 / m.m00 : small.rows / 2.0;
  // Whole-pixel shift (no resampling blur), kept inside the field so no ink is cut off.
  const int left = std::clamp(static_cast<int>(std::lround(crop_side / 2.0 - cx)), 0, crop_side - small.cols);
  const int top = std::clamp(static_cast<int>(std::lround(crop_side / 2.0 - cy)), 0, crop_side - small.rows);
  cv::Mat field(crop_side, crop_side, CV_8U, crop.data());
  small.copyTo(field(cv::Rect(left, top, small.cols, small.rows)));
  return crop;
}

cv::Mat crop_to_mat(const Crop& crop) {
  return cv::Mat(crop_side, crop_side, CV_8U, const_cast<std::uint8_t*>(crop.data())).clone();
}

}  // namespace digits
