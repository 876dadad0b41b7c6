#include "cuts.hpp"

#include "normalise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

namespace digits {

namespace {

// The cheapest top-to-bottom paths through a mask, between columns lo and hi: the cost of the
// best path from the top row down to every pixel and from every pixel down to the bottom row, so
// that the best path through any pixel is known at once. Entering a stroke costs the most, so a
// path prefers running along one junction to cutting two strokes; each ink pixel costs a
// stroke-width fraction, a step sideways a little.
class SeamField {
 public:
  SeamField(const cv::Mat& mask, int lo, int hi, double stroke)
      : mask_(mask), lo_(lo), w_(hi - lo + 1), h_(mask.rows),
        down_(static_cast<std::size_t>(w_) * static_cast<std::size_t>(h_)), up_(down_.size()),
        from_above_(down_.size(), 0), from_below_(down_.size(), 0) {
    const float per_pixel = static_cast<float>(1.0 / std::max(1.0, stroke));
    // Stepping from (y0, j) to (y1, i): a sideways step, and the entry into a stroke.
    const auto step = [&](int y0, int j, int y1, int i) {
      return (i != j ? side_step : 0.0f) + (ink(y1, i) && !ink(y0, j) ? entry : 0.0f);
    };
    const auto here = [&](int y, int i) { return ink(y, i) ? per_pixel : 0.0f; };
    for (int i = 0; i < w_; ++i) down_[at(0, i)] = here(0, i) + (ink(0, i) ? entry : 0.0f);
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
      const bool on = mask_.at<std::uint8_t>(r, seam.x[static_cast<std::size_t>(r)]) != 0;
      seam.crossings += on && !inside ? 1 : 0;
      inside = on;
    }
    return seam;
  }

 private:
  static constexpr float entry = 1.5f, side_step = 0.05f;

  bool ink(int y, int i) const { return mask_.at<std::uint8_t>(y, lo_ + i) != 0; }
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

namespace {

// True when one seam is nowhere right of the other: the part between them is well defined.
bool apart(const Seam& a, const Seam& b) {
  bool a_left = true, b_left = true;
  for (std::size_t y = 0; y < a.x.size(); ++y) {
    a_left = a_left && a.x[y] <= b.x[y];
    b_left = b_left && b.x[y] <= a.x[y];
  }
  return a_left || b_left;
}

double mean_x(const Seam& s) {
  double sum = 0;
  for (const int x : s.x) sum += x;
  return sum / static_cast<double>(s.x.size());
}

}  // namespace

namespace {

// Narrower ink is one digit (or part of one): two digits side by side are wider.
bool may_hold_two(const Blob& blob, double height) { return blob.box.width >= 0.7 * std::max<double>(blob.box.height, height); }

}  // namespace

std::vector<Seam> candidate_seams(const Blob& blob, double height) {
  if (!may_hold_two(blob, height)) return {};
  const double full_ref = std::max<double>(blob.box.height, height);
  // Seams are looked for with the digit at most 96 px tall: the search costs the square of the
  // size. Not smaller: where two strokes run close, a coarser grid merges them into one thick
  // stroke and the cut between them looks dearer than one through a loop. Half-covered pixels
  // count as ink, so thin gaps stay open.
  const double f = std::min(1.0, 96.0 / full_ref);
  cv::Mat mask = blob.mask;
  if (f < 1) {
    cv::resize(blob.mask, mask, cv::Size(std::max(1, static_cast<int>(std::lround(blob.mask.cols * f))),
                                         std::max(1, static_cast<int>(std::lround(blob.mask.rows * f)))),
               0, 0, cv::INTER_AREA);
    mask = mask >= 128;
  }
  const double ref = full_ref * f;
  const int w = mask.cols;
  const int step = std::max(1, static_cast<int>(0.08 * ref));
  const int margin = std::max(2, static_cast<int>(0.12 * ref));
  if (w - 2 * margin < 1) return {};
  const double stroke = stroke_width(mask);
  // Touching digits meet in one stroke. A cut through two (across a loop, or where overlapping
  // digits cross) is tried only in ink at least as wide as a digit is tall; the judge decides.
  const int max_crossings = w >= ref ? 2 : 1;
  // The cheapest path through points across the blob at a quarter, half and three quarters of
  // its height: where digits overlap, the way between them is not the cheapest way overall,
  // but it is the cheapest through the gap they leave at some height.
  const SeamField field(mask, margin, w - 1 - margin, stroke);
  std::vector<Seam> found;
  for (const int y : {mask.rows / 4, mask.rows / 2, 3 * mask.rows / 4})
    for (int x = margin; x <= w - 1 - margin; x += step)
      if (Seam seam = field.through(y, x); seam.crossings <= max_crossings) found.push_back(std::move(seam));
  // The cheapest first; a seam crossing a cheaper one, or running beside it, adds nothing.
  std::ranges::sort(found, [](const Seam& a, const Seam& b) { return a.cost < b.cost; });
  const double near = std::max(2.0, 0.12 * ref);
  std::vector<Seam> out;
  for (auto& seam : found) {
    const bool fresh = std::ranges::all_of(out, [&](const Seam& o) {
      return apart(seam, o) && std::abs(mean_x(seam) - mean_x(o)) >= near;
    });
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

namespace {

// Part `p` of the parts between seams (0 = left of the first seam), shrunk to its ink; an empty
// box when it has none.
Blob part_between(const Blob& blob, const std::vector<Seam>& seams, std::size_t p) {
  cv::Mat part = cv::Mat::zeros(blob.mask.size(), CV_8U);
  for (int y = 0; y < blob.mask.rows; ++y) {
    const int a = p == 0 ? 0 : seams[p - 1].x[static_cast<std::size_t>(y)];
    const int b = p == seams.size() ? blob.mask.cols : seams[p].x[static_cast<std::size_t>(y)];
    if (b > a) blob.mask.row(y).colRange(a, b).copyTo(part.row(y).colRange(a, b));
  }
  const cv::Rect tight = cv::boundingRect(part);  // of the non-zero pixels
  if (tight.empty()) return {};
  return {tight + blob.box.tl(), part(tight).clone(), std::nullopt};
}

}  // namespace

std::vector<Blob> cut_at(const Blob& blob, const std::vector<Seam>& seams) {
  std::vector<Blob> out;
  for (std::size_t p = 0; p <= seams.size(); ++p) {
    Blob part = part_between(blob, seams, p);
    if (!part.box.empty()) out.push_back(std::move(part));
  }
  return out;
}

namespace {

// A piece of ink: a whole blob, or the part of one between two seams.
struct Piece {
  Blob blob;
  std::size_t source = 0;  // which blob of the line it comes from
  int crossings = 0;       // strokes cut by the seam on its right (same source only)
  float cost = 0;          // that seam's cost
  std::optional<double> judged;  // the judge's log-probability of it as one digit, when asked already
};

// The weights of read_line's choice, in units of the judge's log-probability. Tuned on
// generated lines of clean, touching and photographed digits (bench-segment): the judge's
// not-one-digit output does most of the work, and the results barely move with these.
struct Weights {
  double per_crossing = 0.6;   // cutting a stroke: touching digits meet in one, a 0 has two
  double join = 0.6;           // one digit from two blobs the ink did not connect
  double join_per_gap = 3.0;   // ... the wider the gap between them (in digit heights), the less likely
  double too_wide = 1.5;       // per digit height beyond wide_from: two digits are wider than one
  double wide_from = 1.2;
  double too_short = 6.0;      // per digit height below short_from: a fragment, not a digit
  double short_from = 0.8;
  double per_digit = 0.3;      // some doubt about every extra digit
  // Blobs further apart (in digit heights) are never one digit: pieces of a broken stroke nearly
  // touch, and judging every pair of neighbours would double the work on clean writing.
  double max_gap = 0.12;
  double max_width = 2.3;      // nor is ink this much wider than a digit height (a 2 with a long tail is 2)
  double sure = 0.9;           // a blob this surely one digit stays whole
  std::size_t max_pieces = 8;
};

double median_height(const std::vector<Blob>& line) {
  std::vector<int> heights;
  for (const auto& b : line) heights.push_back(b.box.height);
  // The lower median: of a digit and a taller pair of touching ones, the digit's height.
  const auto middle = heights.begin() + static_cast<std::ptrdiff_t>((heights.size() - 1) / 2);
  std::ranges::nth_element(heights, middle);
  return *middle;
}

// The judge's log-probability of each crop being the digit it most likely is, discounted by the
// chance that it is no one digit at all.
std::vector<double> judged(Recogniser& judge, std::span<const Crop> crops) {
  std::vector<Probabilities> probabilities(crops.size());
  std::vector<float> not_digit(crops.size());
  judge.probabilities(crops, probabilities, not_digit);
  std::vector<double> out(crops.size());
  for (std::size_t k = 0; k < crops.size(); ++k)
    out[k] = std::log(std::max(1e-4, *std::ranges::max_element(probabilities[k]) * (1.0 - not_digit[k])));
  return out;
}

}  // namespace

std::vector<Blob> read_line(std::vector<Blob> line, const cv::Mat& ink, Recogniser* judge) {
  if (line.empty()) return line;
  const Weights weights;
  const double height = median_height(line);
  // A blob the judge is sure is one digit, and no wider than one, is not cut: most digits stand
  // alone, and asking about every way to cut them would cost several readings each.
  std::vector<std::optional<double>> whole(line.size());
  if (judge != nullptr) {
    std::vector<std::size_t> asked;
    std::vector<Crop> crops;
    for (std::size_t s = 0; s < line.size(); ++s)
      if (may_hold_two(line[s], height) && line[s].box.width <= weights.wide_from * height) {
        line[s].crop = digit_crop(ink, line[s]);
        crops.push_back(*line[s].crop);
        asked.push_back(s);
      }
    const auto scores = judged(*judge, crops);
    for (std::size_t k = 0; k < asked.size(); ++k) whole[asked[k]] = scores[k];
  }
  std::vector<Piece> pieces;
  for (std::size_t s = 0; s < line.size(); ++s) {
    if (whole[s] && *whole[s] >= std::log(weights.sure)) {
      pieces.push_back({std::move(line[s]), s, 0, 0, whole[s]});
      continue;
    }
    const auto seams = candidate_seams(line[s], height);
    if (seams.empty()) {
      pieces.push_back({std::move(line[s]), s, 0, 0, whole[s]});
      continue;
    }
    std::vector<Piece> parts;
    for (std::size_t p = 0; p <= seams.size(); ++p) {
      Blob part = part_between(line[s], seams, p);
      const int right = p < seams.size() ? seams[p].crossings : 0;
      const float cost = p < seams.size() ? seams[p].cost : 0;
      if (part.box.empty()) {
        // Two seams with no ink between them: cutting there costs the cheaper of the two.
        if (!parts.empty() && p < seams.size() && cost < parts.back().cost) parts.back().crossings = right, parts.back().cost = cost;
        continue;
      }
      parts.push_back({std::move(part), s, right, cost, std::nullopt});
    }
    // A sliver (a seam grazing a stroke's end) is no digit and no digit's half: of the two seams
    // around it the dearer goes, and the sliver with it to that side's neighbour.
    const double min_ink = 0.3 * std::max<double>(line[s].box.height, height) * stroke_width(line[s].mask);
    for (bool merged = true; merged && parts.size() > 1;) {
      merged = false;
      for (std::size_t k = 0; k < parts.size() && !merged; ++k) {
        if (cv::countNonZero(parts[k].blob.mask) >= min_ink) continue;
        const float left = k > 0 ? parts[k - 1].cost : std::numeric_limits<float>::max();
        const float right = k + 1 < parts.size() ? parts[k].cost : std::numeric_limits<float>::max();
        if (k + 1 == parts.size() || (k > 0 && left >= right)) {
          parts[k - 1].blob = joined(parts[k - 1].blob, parts[k].blob);
          parts[k - 1].crossings = parts[k].crossings;
          parts[k - 1].cost = parts[k].cost;
        } else {
          parts[k + 1].blob = joined(parts[k].blob, parts[k + 1].blob);
        }
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(k));
        merged = true;
      }
    }
    for (auto& part : parts) pieces.push_back(std::move(part));
  }
  const std::size_t n = pieces.size();

  // Every way to make a digit of consecutive pieces [i, j).
  struct Candidate {
    std::size_t i, j;
    Blob blob;
    double score = 0;
    bool judged = false;
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < n; ++i) {
    Blob blob = pieces[i].blob;
    double joins = 0;
    for (std::size_t j = i + 1; j <= n && j - i <= weights.max_pieces; ++j) {
      if (j > i + 1) {
        const Piece& prev = pieces[j - 2];
        const Piece& next = pieces[j - 1];
        if (prev.source != next.source) {
          const double gap = -horizontal_overlap(prev.blob.box, next.blob.box) / height;
          if (gap > weights.max_gap) break;
          joins += weights.join + weights.join_per_gap * std::max(0.0, gap);
        }
        blob = joined(blob, next.blob);
        if (blob.box.width > weights.max_width * height) break;
      }
      const double w = blob.box.width / height, h = blob.box.height / height;
      const double shape = -weights.too_wide * std::max(0.0, w - weights.wide_from) - weights.too_short * std::max(0.0, weights.short_from - h);
      const bool known = j == i + 1 && pieces[i].judged;
      candidates.push_back({i, j, blob, shape - joins - weights.per_digit + (known ? *pieces[i].judged : 0), known});
    }
  }

  // A piece only one candidate covers is that digit whatever the judge says: ask about the rest.
  if (judge != nullptr) {
    std::vector<int> covering(n, 0);
    for (const auto& c : candidates)
      for (std::size_t k = c.i; k < c.j; ++k) ++covering[k];
    std::vector<Crop> crops;
    std::vector<std::size_t> asked;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      const bool forced = std::all_of(covering.begin() + static_cast<std::ptrdiff_t>(candidates[c].i),
                                      covering.begin() + static_cast<std::ptrdiff_t>(candidates[c].j),
                                      [](int k) { return k == 1; });
      if (forced || candidates[c].judged) continue;
      candidates[c].blob.crop = digit_crop(ink, candidates[c].blob);
      crops.push_back(*candidates[c].blob.crop);
      asked.push_back(c);
    }
    const auto scores = judged(*judge, crops);
    for (std::size_t k = 0; k < asked.size(); ++k) candidates[asked[k]].score += scores[k];
  }

  // The best reading of pieces [0, j) for every j, by dynamic programming.
  constexpr double none = -std::numeric_limits<double>::infinity();
  std::vector<double> best(n + 1, none);
  std::vector<std::size_t> choice(n + 1, 0);
  best[0] = 0;
  std::ranges::sort(candidates, [](const Candidate& a, const Candidate& b) { return a.j < b.j; });
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const auto& cand = candidates[c];
    if (best[cand.i] == none) continue;
    const bool cuts_seam = cand.j < n && pieces[cand.j - 1].source == pieces[cand.j].source;
    const double cut = cuts_seam ? weights.per_crossing * pieces[cand.j - 1].crossings : 0;
    const double total = best[cand.i] + cand.score - cut;
    if (total > best[cand.j]) best[cand.j] = total, choice[cand.j] = c;
  }
  std::vector<Blob> out;
  for (std::size_t j = n; j > 0;) {
    auto& cand = candidates[choice[j]];
    out.push_back(std::move(cand.blob));
    j = cand.i;
  }
  std::ranges::reverse(out);
  return out;
}

}  // namespace digits
