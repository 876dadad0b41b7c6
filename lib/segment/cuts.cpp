#include "segment/cuts.hpp"

#include "segment/normalise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

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
  SeamField(const cv::Mat& mask, int lo, int hi, double stroke)
      : mask_(mask), lo_(lo), w_(hi - lo + 1), h_(mask.rows),
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
  static constexpr float entry = 1.5f, side_step = 0.05f, hug = 0.07f;

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

namespace {

// True when seam a is nowhere right of seam b: the part between them is well defined.
bool left_of(const Seam& a, const Seam& b) {
  for (std::size_t y = 0; y < a.x.size(); ++y)
    if (a.x[y] > b.x[y]) return false;
  return true;
}

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

// Narrower ink is one digit (or part of one): two digits side by side are wider. Unless the
// judge doubts it is one digit (`doubted`): two 1s, or a 1 and a 7, leaning together are narrow.
bool may_hold_two(const Blob& blob, double height, bool doubted = false) {
  return blob.box.width >= (doubted ? 0.3 : 0.7) * std::max<double>(blob.box.height, height);
}

}  // namespace

std::vector<Seam> candidate_seams(const Blob& blob, double height, const cv::Mat& ink, Doubt doubt) {
  if (!may_hold_two(blob, height, doubt != Doubt::none)) return {};
  const double full_ref = std::max<double>(blob.box.height, height);
  // How much ink each pixel of the blob holds (0-255): where strokes merely touch, the ink map
  // is fainter than in a stroke, so a seam through the junction costs less than one through a
  // stroke, even where the mask has closed the gap (small or blurred writing).
  cv::Mat weight = blob.mask;
  if (!ink.empty()) {
    weight = cv::Mat(blob.mask.size(), CV_8U, cv::Scalar(0));
    ink(blob.box).copyTo(weight, blob.mask);
  }
  // Seams are looked for with the digit at most 96 px tall: the search costs the square of the
  // size. Not smaller: where two strokes run close, a coarser grid merges them into one thick
  // stroke and the cut between them looks dearer than one through a loop.
  const double f = std::min(1.0, 96.0 / full_ref);
  cv::Mat mask = weight;
  if (f < 1)
    cv::resize(weight, mask, cv::Size(std::max(1, static_cast<int>(std::lround(weight.cols * f))),
                                      std::max(1, static_cast<int>(std::lround(weight.rows * f)))), 0, 0, cv::INTER_AREA);
  const double ref = full_ref * f;
  const int w = mask.cols;
  const int step = std::max(1, static_cast<int>(0.05 * ref));
  const int margin = std::max(2, static_cast<int>(0.12 * ref));
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
  const SeamField field(mask, margin, w - 1 - margin, stroke);
  std::vector<Seam> found;
  for (const int y : {mask.rows / 4, mask.rows / 2, 3 * mask.rows / 4})
    for (int x = margin; x <= w - 1 - margin; x += step)
      if (Seam seam = field.through(y, x); seam.crossings <= max_crossings) found.push_back(std::move(seam));
  // The cheapest first; a seam running beside a cheaper one (on average closer than a twentieth
  // of a digit height) adds nothing. Seams may cross: of two ways around a stroke where digits
  // overlap, the judge picks.
  std::ranges::sort(found, [](const Seam& a, const Seam& b) { return a.cost < b.cost; });
  const double near = std::max(2.0, 0.05 * ref);
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

namespace {

// The part of `blob` right of seam `left` and left of seam `right` (none: the blob's edge),
// shrunk to its ink; an empty box when it has none.
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

}  // namespace

std::vector<Blob> cut_at(const Blob& blob, const std::vector<Seam>& seams) {
  std::vector<Blob> out;
  for (std::size_t p = 0; p <= seams.size(); ++p) {
    Blob part = part_between(blob, p == 0 ? nullptr : &seams[p - 1], p == seams.size() ? nullptr : &seams[p]);
    if (!part.box.empty()) out.push_back(std::move(part));
  }
  return out;
}

double reading_score(const Probabilities& digits, float not_digit, double temperature) {
  const double floor = temperature * std::log(1e-4);
  // The digits' probabilities come without the not-one-digit share: back to the outputs.
  const double one_digit = 1.0 - not_digit;
  const double top = *std::ranges::max_element(digits) * one_digit;
  if (top <= 0) return floor;
  double sum = std::pow(not_digit / top, 1.0 / temperature);  // the top output's own term is among the digits
  for (const float p : digits) sum += std::pow(p * one_digit / top, 1.0 / temperature);
  return std::max(floor, -temperature * std::log(sum));
}

namespace {

// Where a digit may begin or end: at a seam of a blob, or between two blobs.
struct Boundary {
  std::size_t blob = 0;        // the blob it cuts, or the first blob right of it
  const Seam* seam = nullptr;  // none: at that blob's left edge
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
  double far_too_wide = 3.0;   // and more beyond far_wide_from: no one digit is that wide
  double far_wide_from = 2.0;
  double too_short = 6.0;      // per digit height below short_from: a fragment, not a digit
  double short_from = 0.8;
  // Some doubt about every extra digit: a cut must buy a better reading. (1.0 while the judge had
  // never seen a cut part: it doubted the parts of every cut, right or wrong.)
  double per_digit = 0.2;
  double narrow_doubt = -2.5;  // ink too narrow for two digits side by side is cut only when read this badly
  double no_digit = -4.0;      // ink read this badly is surely no one digit: its seams may cross a stroke more
  // Blobs further apart (in digit heights) are never one digit: pieces of a broken stroke nearly
  // touch, and judging every pair of neighbours would double the work on clean writing.
  double max_gap = 0.12;
  double max_width = 2.3;      // nor is ink this much wider than a digit height (a 2 with a long tail is 2)
  std::size_t max_blobs = 8;
  // A part cut off with less ink than a stroke this many digit heights long is a sliver (a seam
  // grazing a stroke's end): no digit, though it may belong to one.
  double min_ink = 0.3;
  // Ink the judge reads this badly (reading_score of its likeliest digit, and of being one) is
  // no digit at all: specks of a dim photo's noise joined into something digit-sized, the grain
  // of a desk, what is left of a line.
  double unread = std::log(0.003);
  // Where the judge is as sure of two readings (its probabilities round to 1 either way: a 5's
  // flag given to the 1 beside it reads 7), the cut through less ink: a junction is thinner than
  // a stroke. Per unit of a seam's cost (a stroke crossed costs about 2.5).
  double per_seam_cost = 0.01;
  // How soft the judge's outputs are made before they are scored (reading_score): 1 takes them
  // as they are. Tuned on bench-segment: 2, 2.5 and 3 read touching digits alike, 1.5 and 4
  // worse than 1.
  double temperature = 2.5;
};

double median_height(const std::vector<Blob>& line) {
  std::vector<int> heights;
  for (const auto& b : line) heights.push_back(b.box.height);
  // The lower median: of a digit and a taller pair of touching ones, the digit's height.
  const auto middle = heights.begin() + static_cast<std::ptrdiff_t>((heights.size() - 1) / 2);
  std::ranges::nth_element(heights, middle);
  return *middle;
}

// The judge's readings of the crops, scored by reading_score.
std::vector<double> judged(Judge& judge, std::span<const Crop> crops, double temperature) {
  std::vector<Probabilities> probabilities(crops.size());
  std::vector<float> not_digit(crops.size());
  judge.probabilities(crops, probabilities, not_digit);
  std::vector<double> out(crops.size());
  for (std::size_t k = 0; k < crops.size(); ++k) out[k] = reading_score(probabilities[k], not_digit[k], temperature);
  return out;
}

}  // namespace

std::vector<Blob> read_line(std::vector<Blob> line, const cv::Mat& ink, Judge* judge) {
  if (line.empty()) return line;
  const Weights weights;
  const double height = median_height(line);
  const std::size_t n = line.size();

  // How plausible a digit's shape is: ink much wider than the line's digits are tall is more
  // than one, much shorter is a fragment.
  const auto shape = [&](const Blob& blob) {
    const double w = blob.box.width / height, h = blob.box.height / height;
    return -weights.too_wide * std::max(0.0, w - weights.wide_from) -
           weights.far_too_wide * std::max(0.0, w - weights.far_wide_from) - weights.too_short * std::max(0.0, weights.short_from - h);
  };

  // A blob that the judge reads well enough as one digit is not cut: most digits stand alone,
  // and asking about every way to cut them costs dozens of readings. Well enough is exact: cut
  // in two, it pays for a second digit and at least one stroke crossed (a blob is connected),
  // and no reading scores above 0, so its parts can only win if the whole scores below that
  // price. (Only a part joining a neighbour blob escapes the bound: a broken digit touching
  // another; rare enough.)
  const double keeps_whole = -(weights.per_digit + weights.per_crossing);
  std::vector<std::optional<double>> whole(n);
  if (judge != nullptr) {
    std::vector<std::size_t> asked;
    std::vector<Crop> crops;
    // Every blob wide enough to be two digits, if only two leaning together.
    for (std::size_t s = 0; s < n; ++s)
      if (may_hold_two(line[s], height, true)) {
        line[s].crop = digit_crop(ink, line[s]);
        crops.push_back(*line[s].crop);
        asked.push_back(s);
      }
    const auto scores = judged(*judge, crops, weights.temperature);
    for (std::size_t k = 0; k < asked.size(); ++k) whole[asked[k]] = scores[k];
  }

  // The boundaries in reading order: each blob's left edge, then its seams; last, the right end.
  std::vector<std::vector<Seam>> seams(n);
  std::vector<Boundary> nodes;
  std::vector<std::size_t> first(n + 1);  // each blob's left edge among the nodes
  std::vector<double> min_ink(n);
  for (std::size_t s = 0; s < n; ++s) {
    if (!whole[s])
      seams[s] = candidate_seams(line[s], height, ink);
    else if (*whole[s] + shape(line[s]) < (may_hold_two(line[s], height) ? keeps_whole : weights.narrow_doubt))
      seams[s] = candidate_seams(line[s], height, ink, *whole[s] < weights.no_digit ? Doubt::certain : Doubt::doubted);
    first[s] = nodes.size();
    nodes.push_back({s, nullptr});
    for (const auto& seam : seams[s]) nodes.push_back({s, &seam});
    if (!seams[s].empty())  // only parts cut off by a seam are held to it
      min_ink[s] = weights.min_ink * std::max<double>(line[s].box.height, height) * stroke_width(line[s].mask);
  }
  first[n] = nodes.size();
  nodes.push_back({n, nullptr});

  // Every digit that could lie between two boundaries: part of one blob between two of its
  // seams, or the end of one blob, the blobs after it and the start of another.
  struct Candidate {
    std::size_t u, v;  // boundaries
    Blob blob;
    double score = 0;
    std::optional<double> reading;  // the judge's, once asked (included in the score)
  };
  std::vector<Candidate> candidates;
  std::vector<std::optional<double>> read_whole(n);  // the score of each blob read whole, when judged
  for (std::size_t u = 0; u + 1 < nodes.size(); ++u) {
    const Boundary from = nodes[u];
    Blob before;  // the ink of the blobs wholly passed so far
    double joins = 0;
    for (std::size_t t = from.blob; t < n && t - from.blob < weights.max_blobs; ++t) {
      const Seam* start = t == from.blob ? from.seam : nullptr;
      // Ending at one of t's seams, or after all of t.
      for (std::size_t v = (t == from.blob ? u + 1 : first[t] + 1); v <= first[t + 1]; ++v) {
        const Seam* end = nodes[v].seam;
        if (start != nullptr && end != nullptr && !left_of(*start, *end)) continue;
        Blob part = part_between(line[t], start, end);
        if (part.box.empty()) continue;
        const bool cut = start != nullptr || end != nullptr;
        Blob blob = before.box.empty() ? std::move(part) : joined(before, part);
        if (cut && cv::countNonZero(blob.mask) < min_ink[t]) continue;
        if ((t > from.blob || cut) && blob.box.width > weights.max_width * height) continue;
        const bool known = !cut && t == from.blob && whole[t];
        const double score = shape(blob) - joins - weights.per_digit + (known ? *whole[t] : 0);
        if (known) read_whole[t] = score;
        candidates.push_back({u, v, std::move(blob), score, known ? whole[t] : std::nullopt});
      }
      // Go on past t into the next blob, if close enough to be part of one digit with it.
      if (t + 1 == n) break;
      const Blob tail = part_between(line[t], start, nullptr);
      if (tail.box.empty()) break;
      const double gap = -horizontal_overlap(tail.box, line[t + 1].box) / height;
      if (gap > weights.max_gap) break;
      joins += weights.join + weights.join_per_gap * std::max(0.0, gap);
      before = before.box.empty() ? tail : joined(before, tail);
      if (before.box.width > weights.max_width * height) break;
    }
  }

  // A candidate every reading takes (nothing spans its ends, nothing else leaves its start) is
  // that digit whatever the judge says: ask about the rest.
  if (judge != nullptr) {
    std::vector<int> leaving(nodes.size(), 0);
    std::vector<bool> spanned(nodes.size(), false);
    for (const auto& c : candidates) {
      ++leaving[c.u];
      for (std::size_t k = c.u + 1; k < c.v; ++k) spanned[k] = true;
    }
    // Blobs joined into one digit whose readings apart, already known, beat the join whatever
    // the judge would say of it (no reading scores above 0): it cannot be chosen, so it is not
    // asked about. Digits written close together are most such joins.
    const auto beaten = [&](const Candidate& cand) {
      const Boundary from = nodes[cand.u], to = nodes[cand.v];
      if (from.seam != nullptr || to.seam != nullptr || to.blob < from.blob + 2) return false;
      double apart = 0;
      for (std::size_t s = from.blob; s < to.blob; ++s) {
        if (!read_whole[s]) return false;
        apart += *read_whole[s];
      }
      return apart > cand.score;
    };
    std::vector<Crop> crops;
    std::vector<std::size_t> asked;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      auto& cand = candidates[c];
      const bool forced = leaving[cand.u] == 1 && !spanned[cand.u] && !spanned[cand.v];
      if (forced || cand.reading) continue;
      if (beaten(cand)) {
        cand.score = -std::numeric_limits<double>::infinity();
        continue;
      }
      if (!cand.blob.crop) cand.blob.crop = digit_crop(ink, cand.blob);
      crops.push_back(*cand.blob.crop);
      asked.push_back(c);
    }
    const auto scores = judged(*judge, crops, weights.temperature);
    for (std::size_t k = 0; k < asked.size(); ++k) {
      candidates[asked[k]].score += scores[k];
      candidates[asked[k]].reading = scores[k];
    }
  }

  // The best reading up to every boundary, by dynamic programming over the candidates in order
  // of their start (each starts where an earlier one, already final, ends).
  constexpr double none = -std::numeric_limits<double>::infinity();
  std::vector<double> best(nodes.size(), none);
  std::vector<std::size_t> choice(nodes.size(), 0);
  best[0] = 0;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    const auto& cand = candidates[c];
    if (best[cand.u] == none) continue;
    const Seam* at = nodes[cand.v].seam;
    const double total =
        best[cand.u] + cand.score - (at != nullptr ? weights.per_crossing * at->crossings + weights.per_seam_cost * at->cost : 0);
    if (total > best[cand.v]) best[cand.v] = total, choice[cand.v] = c;
  }
  std::vector<std::size_t> chosen;
  for (std::size_t v = nodes.size() - 1; v > 0; v = candidates[chosen.back()].u) chosen.push_back(choice[v]);
  std::ranges::reverse(chosen);
  if (judge != nullptr) {  // the chosen digits nothing else could be (forced) were never read
    std::vector<Crop> crops;
    std::vector<std::size_t> asked;
    for (const std::size_t c : chosen)
      if (auto& cand = candidates[c]; !cand.reading) {
        if (!cand.blob.crop) cand.blob.crop = digit_crop(ink, cand.blob);
        crops.push_back(*cand.blob.crop);
        asked.push_back(c);
      }
    const auto scores = judged(*judge, crops, weights.temperature);
    for (std::size_t k = 0; k < asked.size(); ++k) candidates[asked[k]].reading = scores[k];
  }
  std::vector<Blob> out;
  for (const std::size_t c : chosen)
    if (judge == nullptr || *candidates[c].reading >= weights.unread) out.push_back(std::move(candidates[c].blob));
  return out;
}

}  // namespace digits
