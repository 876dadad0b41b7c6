#include "train/augment.hpp"

#include "segment/normalise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>
#include <numbers>

namespace digits {

nlohmann::ordered_json AugmentOptions::to_json() const {
  return {{"probability", probability}, {"rotation", rotation}, {"scale", {scale_min, scale_max}},
          {"shear", shear}, {"stroke", stroke}, {"blur", blur}, {"noise", noise}, {"jitter", jitter}};
}

std::mt19937 sample_rng(std::uint64_t seed, int epoch, std::size_t index) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(index)};
  return std::mt19937(seq);
}

namespace {

// Work at 2x so rotation, shear and pen changes stay smooth, then let normalise_digit shrink it back.
constexpr int upscale = 2;
constexpr int work_side = crop_side * upscale;

bool chance(std::mt19937& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

cv::Mat distort_geometry(const cv::Mat& big, const AugmentOptions& o, std::mt19937& rng) {
  const double angle = uniform(rng, -o.rotation, o.rotation) * std::numbers::pi / 180.0;
  const double scale = uniform(rng, o.scale_min, o.scale_max);
  const double shear = uniform(rng, -o.shear, o.shear);
  const double aspect = uniform(rng, 0.85, 1.15);  // writers differ in how wide their digits are
  // A = R(angle) * Shear * diag(scale * aspect, scale), about the centre, onto a canvas with room.
  const double c = std::cos(angle), s = std::sin(angle);
  const double sx = scale * aspect, sy = scale;
  const cv::Matx22d m = cv::Matx22d(c, -s, s, c) * cv::Matx22d(1, shear, 0, 1) * cv::Matx22d(sx, 0, 0, sy);
  // MNIST's digit fills 20 of 28 pixels; even at the largest scale, aspect and shear it fits in 1.5x.
  const int side = work_side * 3 / 2;
  const cv::Point2d from(work_side / 2.0, work_side / 2.0), to(side / 2.0, side / 2.0);
  const cv::Vec2d shift = cv::Vec2d(to.x, to.y) - m * cv::Vec2d(from.x, from.y);
  const cv::Matx23d affine(m(0, 0), m(0, 1), shift[0], m(1, 0), m(1, 1), shift[1]);
  cv::Mat out;
  cv::warpAffine(big, out, affine, {side, side}, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  return out;
}

void change_stroke(cv::Mat& img, std::mt19937& rng) {
  // At 2x, a radius-1..2 ellipse changes MNIST's ~2 px pen by half to a whole pen width.
  const int radius = std::uniform_int_distribution<int>(1, 2)(rng);
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * radius + 1, 2 * radius + 1});
  if (chance(rng, 0.5)) {
    cv::dilate(img, img, kernel);
  } else {
    cv::Mat thinner;
    cv::erode(img, thinner, kernel);
    // Never erase the digit: a pen too thin to survive keeps its original strokes.
    if (cv::countNonZero(thinner > 96) > cv::countNonZero(img > 96) / 4) img = thinner;
  }
}

// Uneven ink, as pencil or a dry pen leaves it. Only the strokes vary: noise on the background
// would be taken for ink by normalise_digit, which segmentation never hands it.
void texture_ink(cv::Mat& img, std::mt19937& rng) {
  cv::RNG noise_rng(rng());  // OpenCV's generator, seeded from ours: fast, and as deterministic
  cv::Mat factor(img.size(), CV_32F);
  noise_rng.fill(factor, cv::RNG::UNIFORM, 0.5, 1.0);
  cv::Mat ink;
  img.convertTo(ink, CV_32F);
  cv::multiply(ink, factor, ink);
  ink.convertTo(img, CV_8U);
}

// Moves and rescales the finished crop a little, as an imperfect segmentation would.
Crop jitter_crop(const Crop& crop, double amount, std::mt19937& rng) {
  const cv::Mat src = crop_to_mat(crop);
  const double scale = uniform(rng, 0.92, 1.08);
  const double dx = uniform(rng, -amount, amount), dy = uniform(rng, -amount, amount);
  const double c = crop_side / 2.0;
  const cv::Matx23d affine(scale, 0, c - scale * c + dx, 0, scale, c - scale * c + dy);
  cv::Mat out;
  cv::warpAffine(src, out, affine, {crop_side, crop_side}, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  Crop result{};
  std::copy(out.datastart, out.dataend, result.begin());
  return result;
}

}  // namespace

Crop augment_digit(std::span<const std::uint8_t> digit, const AugmentOptions& o, std::mt19937& rng) {
  Crop original{};
  std::copy(digit.begin(), digit.end(), original.begin());
  if (!chance(rng, o.probability)) return original;

  cv::Mat big;
  cv::resize(crop_to_mat(original), big, {work_side, work_side}, 0, 0, cv::INTER_CUBIC);
  cv::Mat img = distort_geometry(big, o, rng);
  if (chance(rng, o.stroke)) change_stroke(img, rng);
  if (chance(rng, o.blur)) cv::GaussianBlur(img, img, {0, 0}, uniform(rng, 0.7, 2.0));
  if (chance(rng, o.noise)) texture_ink(img, rng);
  Crop crop = normalise_digit(img);
  if (o.jitter > 0 && chance(rng, 0.5)) crop = jitter_crop(crop, o.jitter, rng);
  return crop;
}

namespace {

// The first and last ink column (above `level`) of every row (-1, -1 for a row without ink).
std::vector<std::pair<int, int>> row_extents(const cv::Mat& img, int level = 64) {
  std::vector<std::pair<int, int>> rows(static_cast<std::size_t>(img.rows), {-1, -1});
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      if (img.at<std::uint8_t>(y, x) > level) {
        auto& r = rows[static_cast<std::size_t>(y)];
        if (r.first < 0) r.first = x;
        r.second = x;
      }
  return rows;
}

// The ink's first and last column.
std::pair<int, int> ink_columns(const cv::Mat& img) {
  int lo = img.cols, hi = -1;
  for (const auto& [first, last] : row_extents(img))
    if (first >= 0) lo = std::min(lo, first), hi = std::max(hi, last);
  return {lo, hi};
}

// Blacks out the columns of `img` outside [keep_lo, keep_hi].
void keep_columns(cv::Mat& img, int keep_lo, int keep_hi) {
  if (keep_lo > 0) img.colRange(0, std::min(keep_lo, img.cols)).setTo(0);
  if (keep_hi + 1 < img.cols) img.colRange(std::max(0, keep_hi + 1), img.cols).setTo(0);
}

}  // namespace

std::optional<int> touching_offset(const cv::Mat& left, const cv::Mat& right, int dy, int level) {
  const auto l = row_extents(left, level), r = row_extents(right, level);
  std::optional<int> touch;
  for (int y = 0; y < right.rows; ++y) {
    const int ly = y + dy;
    if (ly < 0 || ly >= left.rows) continue;
    const auto& la = l[static_cast<std::size_t>(ly)];
    const auto& rb = r[static_cast<std::size_t>(y)];
    if (la.first < 0 || rb.first < 0) continue;
    const int x = la.second + 1 - rb.first;
    touch = touch ? std::max(*touch, x) : x;
  }
  return touch;
}

Crop compose_not_digit(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, std::mt19937& rng) {
  Crop ca{}, cb{};
  std::copy(a.begin(), a.end(), ca.begin());
  std::copy(b.begin(), b.end(), cb.begin());
  cv::Mat left = crop_to_mat(ca), right;
  // Neighbours are written a little larger or smaller, higher or lower.
  const double scale = uniform(rng, 0.85, 1.15);
  cv::resize(crop_to_mat(cb), right, {}, scale, scale, cv::INTER_LINEAR);
  constexpr int margin = 2;
  const int dy = static_cast<int>(std::lround(uniform(rng, -3, 3))) + (crop_side - right.rows) / 2;
  // Either digit may be only partly there: the candidate took a piece of its neighbour.
  const double part = uniform(rng, 0, 1);
  if (part < 0.3) {
    const auto [lo, hi] = ink_columns(right);
    if (hi >= lo) keep_columns(right, 0, lo + static_cast<int>((hi - lo) * uniform(rng, 0.35, 0.65)));
  } else if (part < 0.45) {
    const auto [lo, hi] = ink_columns(left);
    if (hi >= lo) keep_columns(left, lo + static_cast<int>((hi - lo) * uniform(rng, 0.35, 0.65)), left.cols - 1);
  }
  // Slide the right-hand digit in until the two touch, then a little further, or stop just short.
  const int touch =
      touching_offset(left, right, dy).value_or(ink_columns(left).second + 1 - std::max(0, ink_columns(right).first));
  const int dx = touch + static_cast<int>(std::lround(uniform(rng, -3, 1)));
  const PairLayout at = pair_layout(left.size(), right.size(), dx, dy, margin);
  cv::Mat canvas = cv::Mat::zeros(at.size, CV_8U);
  const auto paste = [&](const cv::Mat& img, cv::Point corner) {
    cv::Mat target = canvas(cv::Rect(corner, img.size()));
    cv::max(target, img, target);
  };
  paste(left, at.left);
  paste(right, at.right);
  return normalise_digit(canvas);
}

PairLayout pair_layout(cv::Size left, cv::Size right, int dx, int dy, int margin) {
  const int lx = margin + std::max(0, -dx), ly = margin + std::max(0, -dy);
  return {cv::Size(lx + std::max(left.width, dx + right.width) + margin, ly + std::max(left.height, dy + right.height) + margin),
          cv::Point(lx, ly), cv::Point(lx + dx, ly + dy)};
}

double uniform(std::mt19937& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

}  // namespace digits
