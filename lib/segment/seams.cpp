#include "segment/seams.hpp"

#include "segment/normalise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace digits {

namespace {

// The cheapest top-to-bottom paths through an ink weight image (0-255), between columns lo and
// hi: the cost of the best path from the top row down to every pixel and from every pixel down
// to the bottom row, so that the best path through any pixel is known at once. Entering ink
// costs the most, so a path prefers running along one junction to cutting two strokes; each
// pixel costs its share of ink over the stroke width, a step sideways a little. A pixel at
// least half ink is a stroke, for counting the strokes a path crosses.
class SeamField {
 public:
  SeamField(const cv::Mat& mask, int lo, int hi, double stroke, const SeamsTuning& tuning)
      : entry(tuning.entry), side_step(tuning.side_step), hug(tuning.hug), mask_(mask), lo_(lo), w_(hi - lo + 1), h_(mask.rows),
        down_(static_cast<std::size_t>(w_) * static_cast<std::size_t>(h_)), up_(down_.size()),
        from_above_(down_.size(), 0), from_below_(down_.size(), 0) {
    const float per_pixel = static_cast<float>(1.0 / std::max(1.0, stroke));
    // Stepping from (y0, j) to (y1, i): a sideways step, and the entry into a stroke.
    const auto step = [&](int y0, int j, int y1, int i) {
      return (i != j ? side_step : 0.0f) + entry * std::max(0.0f, ink(y1, i) - ink(y0, j));
    };
    // Paper beside a stroke is a little cheaper: where a cut must cross a stroke joining two
    // digits (a 2's tail curling into the 1 beside it, a 5's flag reaching the 1), crossing it
    // where it meets the other digit's stroke gives each digit all of its own.
    // Each pixel's own cost, once: the way up asks for it three times.
    std::vector<float> own(down_.size());
    for (int y = 0; y < h_; ++y)
      for (int i = 0; i < w_; ++i) own[at(y, i)] = ink(y, i) * per_pixel - (beside_stroke(y, i) ? hug : 0.0f);
    const auto here = [&](int y, int i) { return own[at(y, i)]; };
    for (int i = 0; i < w_; ++i) down_[at(0, i)] = here(0, i) + entry * ink(0, i);
    for (int y = 1; y < h_; ++y)
      for (int i = 0; i < w_; ++i) {
        auto [cost, d] = cheapest(i, [&](int j) { return down_[at(y - 1, j)] + step(y - 1, j, y, i); });
        down_[at(y, i)] = cost + here(y, i);
        from_above_[at(y, i)] = d;
      }
    for (int y = h_ - 2; y >= 0; --y)
      for (int i = 0; i < w_; ++i) {
        auto [cost, d] = cheapest(i, [&](int j) { return up_[at(y + 1, j)] + here(y + 1, j) + step(y, i, y + 1, j); });
        up_[at(y, i)] = cost;
        from_below_[at(y, i)] = d;
      }
  }

  // The cost of the cheapest path through column x (of the mask) in row y.
  float cost(int y, int x) const { return down_[at(y, x - lo_)] + up_[at(y, x - lo_)]; }

  // That path.
  Seam through(int y, int x) const {
    Seam seam;
    seam.x.assign(static_cast<std::size_t>(h_), 0);
    int i = x - lo_;
    seam.cost = down_[at(y, i)] + up_[at(y, i)];
    for (int r = y; r >= 0; i += from_above_[at(r, i)], --r) seam.x[static_cast<std::size_t>(r)] = lo_ + i;
    i = x - lo_;
    for (int r = y; r < h_; i += from_below_[at(r, i)], ++r) seam.x[static_cast<std::size_t>(r)] = lo_ + i;
    bool inside = false;
    for (int r = 0; r < h_; ++r) {
      const bool on = mask_.at<std::uint8_t>(r, seam.x[static_cast<std::size_t>(r)]) >= 128;
      seam.crossings += on && !inside ? 1 : 0;
      inside = on;
    }
    return seam;
  }

 private:
  const float entry, side_step, hug;

  // How much of the pixel is ink, 0 to 1.
  float ink(int y, int i) const { return mask_.at<std::uint8_t>(y, lo_ + i) * (1.0f / 255.0f); }
  // Paper with a stroke beside it in its row.
  bool beside_stroke(int y, int i) const {
    const int x = lo_ + i;
    const auto stroke = [&](int c) { return c >= 0 && c < mask_.cols && mask_.at<std::uint8_t>(y, c) >= 128; };
    return !stroke(x) && (stroke(x - 1) || stroke(x + 1));
  }
  std::size_t at(int y, int i) const { return static_cast<std::size_t>(y) * static_cast<std::size_t>(w_) + static_cast<std::size_t>(i); }

  // The cheapest of the (up to three) neighbours j of column i in the next row, and the step to it.
  template <class Cost>
  std::pair<float, std::int8_t> cheapest(int i, Cost&& cost) const {
    float best = std::numeric_limits<float>::max();
    std::int8_t d = 0;
    for (const int k : {0, -1, 1}) {
      const int j = i + k;
      if (j < 0 || j >= w_) continue;
      if (const float c = cost(j); c < best) best = c, d = static_cast<std::int8_t>(k);
    }
    return {best, d};
  }

  const cv::Mat& mask_;
  int lo_, w_, h_;
  std::vector<float> down_, up_;
  std::vector<std::int8_t> from_above_, from_below_;
};

}  // namespace

bool left_of(const Seam& a, const Seam& b) {
  for (std::size_t y = 0; y < a.x.size(); ++y)
    if (a.x[y] > b.x[y]) return false;
  return true;
}

namespace {

// How far apart two seams run: the mean of their distance, row by row.
double mean_distance(const Seam& a, const Seam& b) {
  double sum = 0;
  for (std::size_t y = 0; y < a.x.size(); ++y) sum += std::abs(a.x[y] - b.x[y]);
  return sum / static_cast<double>(a.x.size());
}

double mean_x(const Seam& s) {
  double sum = 0;
  for (const int x : s.x) sum += x;
  return sum / static_cast<double>(s.x.size());
}

}  // namespace

bool may_hold_two(const Blob& blob, double height, bool doubted, const SeamsTuning& tuning) {
  return blob.box.width >= (doubted ? tuning.two_leaning : tuning.two_wide) * std::max<double>(blob.box.height, height);
}

std::vector<Seam> candidate_seams(const Blob& blob, double height, const cv::Mat& ink, Doubt doubt, const SeamsTuning& tuning) {
  if (!may_hold_two(blob, height, doubt != Doubt::none, tuning)) return {};
  const double full_ref = std::max<double>(blob.box.height, height);
  // How much ink each pixel of the blob holds (0-255): where strokes merely touch, the ink map
  // is fainter than in a stroke, so a seam through the junction costs less than one through a
  // stroke, even where the mask has closed the gap (small or blurred writing).
  cv::Mat weight = blob.mask;
  if (!ink.empty()) {
    weight = cv::Mat(blob.mask.size(), CV_8U, cv::Scalar(0));
    ink(blob.box).copyTo(weight, blob.mask);
  }
  // Seams are looked for with the digit at most search_height tall: the search costs the square of the
  // size. Not smaller: where two strokes run close, a coarser grid merges them into one thick
  // stroke and the cut between them looks dearer than one through a loop.
  const double f = std::min(1.0, tuning.search_height / full_ref);
  cv::Mat mask = weight;
  if (f < 1)
    cv::resize(weight, mask, cv::Size(std::max(1, static_cast<int>(std::lround(weight.cols * f))),
                                      std::max(1, static_cast<int>(std::lround(weight.rows * f)))), 0, 0, cv::INTER_AREA);
  const double ref = full_ref * f;
  const int w = mask.cols;
  const int step = std::max(1, static_cast<int>(tuning.step * ref));
  const int margin = std::max(2, static_cast<int>(tuning.margin * ref));
  if (w - 2 * margin < 1) return {};
  const double stroke = stroke_width(mask >= 128);
  // Touching digits meet in one stroke. A cut through two (across a loop, or where overlapping
  // digits cross) is tried only in ink at least as wide as a digit is tall; the judge decides.
  // Bold digits pressed together can meet in three places (a 3's tips against its neighbour):
  // ink that is surely no digit is cut wherever it parts.
  const int max_crossings = (w >= ref ? 2 : 1) + (doubt == Doubt::certain ? 1 : 0);
  // The cheapest path through points across the blob at a quarter, half and three quarters of
  // its height: where digits overlap, the way between them is not the cheapest way overall,
  // but it is the cheapest through the gap they leave at some height.
  const SeamField field(mask, margin, w - 1 - margin, stroke, tuning);
  std::vector<Seam> found;
  for (const int y : {mask.rows / 4, mask.rows / 2, 3 * mask.rows / 4})
    for (int x = margin; x <= w - 1 - margin; x += step)
      if (Seam seam = field.through(y, x); seam.crossings <= max_crossings) found.push_back(std::move(seam));
  // The cheapest first; a seam running beside a cheaper one (on average closer than a twentieth
  // of a digit height) adds nothing. Seams may cross: of two ways around a stroke where digits
  // overlap, the judge picks.
  std::ranges::sort(found, [](const Seam& a, const Seam& b) { return a.cost < b.cost; });
  const double near = std::max(2.0, tuning.apart * ref);
  std::vector<Seam> out;
  for (auto& seam : found) {
    const bool fresh = std::ranges::all_of(out, [&](const Seam& o) { return mean_distance(seam, o) >= near; });
    if (fresh) out.push_back(std::move(seam));
  }
  std::ranges::sort(out, [](const Seam& a, const Seam& b) { return mean_x(a) < mean_x(b); });
  if (f < 1)
    for (auto& seam : out) {
      std::vector<int> x(static_cast<std::size_t>(blob.mask.rows));
      for (std::size_t y = 0; y < x.size(); ++y) {
        const std::size_t low = std::min(seam.x.size() - 1, static_cast<std::size_t>(static_cast<double>(y) * f));
        x[y] = std::clamp(static_cast<int>(std::lround(seam.x[low] / f)), 0, blob.mask.cols);
      }
      seam.x = std::move(x);
    }
  return out;
}

Blob part_between(const Blob& blob, const Seam* left, const Seam* right) {
  if (left == nullptr && right == nullptr) return blob;
  cv::Mat part = cv::Mat::zeros(blob.mask.size(), CV_8U);
  for (int y = 0; y < blob.mask.rows; ++y) {
    const int a = left != nullptr ? left->x[static_cast<std::size_t>(y)] : 0;
    const int b = right != nullptr ? right->x[static_cast<std::size_t>(y)] : blob.mask.cols;
    if (b > a) blob.mask.row(y).colRange(a, b).copyTo(part.row(y).colRange(a, b));
  }
  const cv::Rect tight = cv::boundingRect(part);  // of the non-zero pixels
  if (tight.empty()) return {};
  Blob out{tight + blob.box.tl(), part(tight).clone(), std::nullopt, {}};
  cv::Mat others = blob.mask(tight) & ~out.mask;
  if (!blob.others.empty()) others |= blob.others(tight);
  if (cv::countNonZero(others) > 0) out.others = std::move(others);
  return out;
}

std::vector<Blob> cut_at(const Blob& blob, const std::vector<Seam>& seams) {
  std::vector<Blob> out;
  for (std::size_t p = 0; p <= seams.size(); ++p) {
    Blob part = part_between(blob, p == 0 ? nullptr : &seams[p - 1], p == seams.size() ? nullptr : &seams[p]);
    if (!part.box.empty()) out.push_back(std::move(part));
  }
  return out;
}

}  // namespace digits
