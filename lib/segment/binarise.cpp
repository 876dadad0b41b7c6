#include "segment/binarise.hpp"

#include "segment/levels.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace digits {

namespace {

PaperNoise paper_noise(const cv::Mat& smooth) {
  const auto hist = histogram(smooth);
  const int median = percentile(hist, 0.5);
  return {median, std::max(1, percentile(hist, 0.75) - median) / 0.674};
}

// Ink must stand out of the paper's noise and be at least ~16% darker than the paper. Ink half as
// bright as the paper always is ink: where ink covers more than a quarter of the picture (a tight
// crop of digits) the percentiles measure the ink, not the paper's noise.
double noise_floor(const PaperNoise& noise, const BinariseTuning& tuning) {
  return std::min(tuning.highest_floor, std::max(tuning.lowest_floor, noise.median + tuning.floor_sigmas * noise.sigma));
}

// The floor the noise sets in `map` (an ink map, smoothed), pixel by pixel where the paper is lit
// unevenly: a sensor's noise is about as strong all over a photo, but the ink map divides by the
// paper's level, so the noise in it is stronger where the paper is darker (a vignette, a shadow),
// weaker where it is lit. Measured on the map (as float) times `lit` (the paper's level over its
// mean), where it is even, its spread times `scale`.
cv::Mat noise_floor(const cv::Mat& map_f, const cv::Mat& lit, double scale, const BinariseTuning& tuning) {
  cv::Mat even;
  cv::Mat(map_f.mul(lit)).convertTo(even, CV_8U);
  const PaperNoise noise = paper_noise(even);
  cv::Mat floor = cv::Scalar::all(noise.median + tuning.floor_sigmas * scale * noise.sigma) / lit;
  cv::min(floor, tuning.highest_floor, floor);
  cv::max(floor, tuning.lowest_floor, floor);
  return floor;
}

}  // namespace

cv::Mat binarise(const cv::Mat& ink, std::vector<Blob>* blobs, cv::Mat* faint, const std::optional<PaperNoise>& noise,
                 PaperNoise* measured, const cv::Mat& paper_level, const BinariseTuning& tuning) {
  cv::Mat smooth;
  cv::GaussianBlur(ink, smooth, cv::Size(tuning.smoothing, tuning.smoothing), 0);
  // Each measure can only overstate the noise: the map's own where its ink is much of it, the
  // one given (from the picture at its own size, where this map is it enlarged) never by the
  // enlargement's coarser grain. The lower is the nearer.
  const PaperNoise own = paper_noise(smooth);
  const auto [median, sigma] = noise && noise->sigma < own.sigma ? *noise : own;
  if (measured != nullptr) *measured = {median, sigma};
  const double floor = noise_floor({median, sigma}, tuning);
  cv::Mat scratch;
  const double otsu = cv::threshold(smooth, scratch, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  const double high = std::max(otsu, floor);
  const double low = std::max(tuning.low_share * high, std::min(floor, tuning.low_above_median + median));
  // Faint rules can fall below even the low threshold between the digits they touch.
  if (faint != nullptr) *faint = smooth > std::max(median + tuning.faint_sigmas * sigma, tuning.faint_share * low);
  cv::Mat weak, confident;  // confident: above `high`, unless set here
  if (floor <= otsu) {
    weak = smooth > low;
  } else {
    // The noise sets the level: it does so pixel by pixel, following the paper's light.
    cv::Mat lit(smooth.size(), CV_32F, cv::Scalar(1.0));
    if (!paper_level.empty()) paper_level.convertTo(lit, CV_32F, 1.0 / std::max(1.0, cv::mean(paper_level)[0]));
    // Enlarged, the noise's grain is coarser than the smoothing and would pass for stronger: the
    // given measure (at the picture's own size) corrects it.
    const double scale = sigma / own.sigma;
    cv::Mat smooth_f;
    smooth.convertTo(smooth_f, CV_32F);
    const cv::Mat floors = noise_floor(smooth_f, lit, scale, tuning);
    cv::Mat highs, lows;
    cv::max(floors, otsu, highs);
    cv::min(floors, tuning.low_above_median + median, lows);
    cv::max(lows, tuning.low_share * highs, lows);
    weak = smooth_f > lows;
    confident = smooth_f > highs;
    // Three float planes fewer while the smoother map is measured: a 40 MP canvas, read again at
    // twice the working size, held eight of them at once here (420 MB of heap at its peak).
    smooth_f.release();
    highs.release();
    lows.release();
    // A faint stroke is coherent and the grain is not: smoothed a little more, the grain's
    // spread falls and the stroke's level stays, so a stroke standing 6 deviations out of that
    // map's noise is ink too, though under the floor here (a faint 6 beside bolder digits was
    // lost whole).
    cv::Mat smoother, smoother_f;
    cv::GaussianBlur(ink, smoother, cv::Size(0, 0), tuning.smoother_sigma);
    smoother.convertTo(smoother_f, CV_32F);
    cv::Mat levels = noise_floor(smoother_f, lit, scale, tuning);
    const cv::Mat lower = levels < floors;
    cv::max(levels, otsu, levels);
    confident |= (smoother_f > levels) & lower;
  }
  cv::Mat labels;
  const int n = cv::connectedComponents(weak, labels, 8, CV_32S);
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n), 0);
  const int strong = static_cast<int>(std::floor(high));  // s > high exactly when s > floor(high)
  // Most of a page is paper: both passes below skip, eight pixels at a time, where the weak mask
  // (and so every label) is 0.
  const auto for_weak = [&](int y, auto&& visit) {
    const auto* w = weak.ptr<std::uint8_t>(y);
    int x = 0;
    for (; x + 8 <= weak.cols; x += 8) {
      std::uint64_t eight = 0;
      std::memcpy(&eight, w + x, sizeof eight);
      if (eight == 0) continue;
      for (int k = x; k < x + 8; ++k)
        if (w[k] != 0) visit(k);
    }
    for (; x < weak.cols; ++x)
      if (w[x] != 0) visit(x);
  };
  for (int y = 0; y < smooth.rows; ++y) {
    const auto* s = smooth.ptr<std::uint8_t>(y);
    const auto* l = labels.ptr<int>(y);
    const auto* c = confident.empty() ? nullptr : confident.ptr<std::uint8_t>(y);
    for_weak(y, [&](int x) {
      if (c != nullptr ? c[x] != 0 : s[x] > strong) keep[static_cast<std::size_t>(l[x])] = 255;
    });
  }
  keep[0] = 0;
  cv::Mat mask = cv::Mat::zeros(smooth.size(), CV_8U);
  // The kept components are the mask's components, in the same (raster) order.
  std::vector<Extent> ext(blobs != nullptr ? keep.size() : 0);
  for (int y = 0; y < mask.rows; ++y) {
    auto* m = mask.ptr<std::uint8_t>(y);
    const auto* l = labels.ptr<int>(y);
    for_weak(y, [&](int x) {
      const auto label = static_cast<std::size_t>(l[x]);
      m[x] = keep[label];
      if (blobs != nullptr && keep[label] != 0) ext[label].add(x, y);
    });
  }
  if (blobs != nullptr) {
    blobs->clear();
    for (std::size_t i = 1; i < ext.size(); ++i)
      if (keep[i] != 0) blobs->push_back(blob_of(labels, ext[i].box(), static_cast<int>(i)));
  }
  return mask;
}

}  // namespace digits
