#include "train/cut_samples.hpp"

#include "recognise/model.hpp"
#include "segment/blobs.hpp"
#include "segment/crop.hpp"
#include "segment/normalise.hpp"
#include "segment/seams.hpp"
#include "train/augment.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace digits {

namespace {

// A digit as it would lie in a picture: distorted like a training digit, `height` px tall.
cv::Mat written(std::span<const std::uint8_t> digit, double height, std::mt19937& rng) {
  const Crop crop = augment_digit(digit, AugmentOptions{}, rng);
  cv::Mat out;
  const double f = height / digit_box_side;
  cv::resize(crop_to_mat(crop), out, {}, f, f, cv::INTER_CUBIC);
  return out;
}

double ink_in(const cv::Mat& ink, const cv::Mat& mask) { return cv::sum(ink.mul(mask, 1.0 / 255.0))[0]; }

}  // namespace

std::optional<CutSample> cut_sample(std::span<const std::uint8_t> a, int label_a, std::span<const std::uint8_t> b,
                                    int label_b, std::mt19937& rng) {
  // Sizes as segmentation sees them once it has chosen its working scale (digits 30-96 px tall).
  const double height = uniform(rng, 30, 90);
  const cv::Mat left = written(a, height, rng);
  const cv::Mat right = written(b, height * uniform(rng, 0.85, 1.15), rng);
  const int dy = static_cast<int>(std::lround(uniform(rng, -0.12, 0.12) * height)) + (left.rows - right.rows) / 2;
  const auto touch = touching_offset(left, right, dy, 127);
  if (!touch) return std::nullopt;
  // Just touching, or overlapping by up to a tenth of a digit height beyond the first touch:
  // a 1 leaning into a 6, a 2's tail under a 3.
  const int dx = *touch - static_cast<int>(std::lround(uniform(rng, -0.01, 0.10) * height));
  const PairLayout at = pair_layout(left.size(), right.size(), dx, dy, 2);
  const cv::Size size = at.size;
  cv::Mat ink_a = cv::Mat::zeros(size, CV_8U), ink_b = cv::Mat::zeros(size, CV_8U);
  left.copyTo(ink_a(cv::Rect(at.left, left.size())));
  right.copyTo(ink_b(cv::Rect(at.right, right.size())));
  cv::Mat ink;
  cv::max(ink_a, ink_b, ink);

  // The pair as one blob, as binarisation would leave it: its largest connected piece.
  const auto blobs = find_blobs(ink >= 128);
  if (blobs.empty()) return std::nullopt;
  const Blob& blob = *std::ranges::max_element(blobs, {}, [](const Blob& b) { return cv::countNonZero(b.mask); });
  const auto seams = candidate_seams(blob, height, ink, Doubt::doubted);
  if (seams.empty()) return std::nullopt;
  const Seam& seam = seams[std::uniform_int_distribution<std::size_t>(0, seams.size() - 1)(rng)];
  auto parts = cut_at(blob, {seam});
  if (parts.empty()) return std::nullopt;
  const Blob& part = parts[std::uniform_int_distribution<std::size_t>(0, parts.size() - 1)(rng)];

  // Whose ink the part holds: each pixel is the digit's that is darker there.
  cv::Mat part_mask = cv::Mat::zeros(size, CV_8U);
  part.mask.copyTo(part_mask(part.box));
  const cv::Mat own_a = ink_a >= ink_b, own_b = ink_b > ink_a;
  const double total_a = ink_in(ink_a, own_a & (ink >= 128)), total_b = ink_in(ink_b, own_b & (ink >= 128));
  const double in_a = ink_in(ink_a, own_a & part_mask), in_b = ink_in(ink_b, own_b & part_mask);
  if (total_a <= 0 || total_b <= 0 || in_a + in_b <= 0) return std::nullopt;
  const bool mostly_a = in_a >= in_b;
  // How much of its main digit the part holds, how much of the other, and the other's share of it.
  const double coverage = mostly_a ? in_a / total_a : in_b / total_b;
  const double taken = mostly_a ? in_b / total_b : in_a / total_a;
  const double foreign = (mostly_a ? in_b : in_a) / (in_a + in_b);
  // The neighbour's ink in the part, against the larger digit's: beside a 1, a sliver of a 0 is
  // a large share of the part's little ink, yet the part is still a 1.
  const double sliver = (mostly_a ? in_b : in_a) / std::max(total_a, total_b);
  // A sliver of the neighbour is still one digit; a whole 1 beside a bold 0 is little ink, but two.
  int label = not_digit_class;
  if (coverage >= 0.9 && taken <= 0.2 && (foreign <= 0.12 || sliver <= 0.08))
    label = mostly_a ? label_a : label_b;
  else if (coverage >= 0.7 && taken < 0.4 && foreign < 0.25)
    return std::nullopt;  // neither clearly one digit nor clearly not
  else if (coverage >= 0.5 && foreign < 0.05)
    return std::nullopt;  // most of one digit alone: often a digit still (a 4 open at the top, a 7 without its bar)
  // Most cuts miss, but a judge taught that a cut part is usually no digit would doubt every
  // cut: as many parts of each kind.
  if (label == not_digit_class && uniform(rng, 0, 1) > 0.35) return std::nullopt;
  return CutSample{digit_crop(ink, part), label};
}

}  // namespace digits
