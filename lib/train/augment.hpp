#pragma once
// Training-time distortions of MNIST digits, so the network learns what real crops look like:
// other slants, sizes, pens and imperfect segmentation, not only MNIST's tidy scans.

#include "io/records.hpp"

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <span>

#include <nlohmann/json.hpp>

namespace digits {

struct AugmentOptions {
  double probability = 0.7;     // share of samples distorted; the rest are seen as MNIST has them
  double rotation = 12.0;       // degrees, either way
  double scale_min = 0.8, scale_max = 1.2;
  double shear = 0.25;          // horizontal shear factor, either way
  double stroke = 0.5;          // share of distorted samples whose pen gets thinner or thicker
  double blur = 0.2;            // share blurred slightly
  double noise = 0.2;           // share with speckle noise
  double jitter = 1.5;          // pixels: the final crop's centre misplaced as segmentation may do

  nlohmann::ordered_json to_json() const;
};

// Distorts one 28x28 MNIST-style digit (white on black) and re-normalises it exactly as
// segmentation normalises a crop (normalise_digit). Deterministic for a given `rng` state.
Crop augment_digit(std::span<const std::uint8_t> digit, const AugmentOptions& options, std::mt19937& rng);

// A crop that is not one digit, as segmentation may propose one: `a` and `b` (28x28 MNIST
// digits) side by side, touching or slightly overlapping, or `a` with part of `b` (or part of
// `a` with `b`), normalised like a crop. Deterministic for a given `rng` state.
Crop compose_not_digit(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, std::mt19937& rng);

// How far right of `left`'s origin `right` (its top `dy` below `left`'s) lies when slid in from
// the right until some row of the two has ink (above `level`) side by side; none when no row has.
std::optional<int> touching_offset(const cv::Mat& left, const cv::Mat& right, int dy, int level = 64);

// Two digits on one canvas, the right one `dx`, `dy` from the left one (either may be negative),
// `margin` pixels of paper around both: the canvas's size and where each digit's corner lies.
struct PairLayout {
  cv::Size size;
  cv::Point left, right;
};
PairLayout pair_layout(cv::Size left, cv::Size right, int dx, int dy, int margin);

// The random stream of one sample in one epoch: independent of threads and batch order.
std::mt19937 sample_rng(std::uint64_t seed, int epoch, std::size_t index);

// A draw from [lo, hi).
double uniform(std::mt19937& rng, double lo, double hi);

}  // namespace digits
