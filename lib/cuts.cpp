#include "cuts.hpp"

#include "normalise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace digits {

Seam find_seam(const cv::Mat& mask, int lo, int hi, double ideal, double stroke) {
  constexpr float entry = 1.5f;
  const float per_pixel = static_cast<float>(1.0 / std::max(1.0, stroke));
  const int w = hi - lo + 1, h = mask.rows;
  std::vector<float> cost(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  std::vector<std::int8_t> from(cost.size(), 0);
  const auto at = [w](int y, int i) { return static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(i); };
  for (int y = 0; y < h; ++y) {
    const auto* row = mask.ptr<std::uint8_t>(y);
    const auto* above = y > 0 ? mask.ptr<std::uint8_t>(y - 1) : nullptr;
    for (int i = 0; i < w; ++i) {
      const bool ink = row[lo + i] != 0;
      const float off = static_cast<float>((lo + i - ideal) / std::max(1, w));
      const float here = (ink ? per_pixel : 0.0f) + 0.02f * off * off;
      if (y == 0) {
        cost[at(y, i)] = here + (ink ? entry : 0.0f);
        continue;
      }
      float best = std::numeric_limits<float>::max();
      std::int8_t step = 0;
      for (const int d : {0, -1, 1}) {
        const int j = i + d;
        if (j < 0 || j >= w) continue;
        const float c = cost[at(y - 1, j)] + (d != 0 ? 0.05f : 0.0f) + (ink && !above[lo + j] ? entry : 0.0f);
        if (c < best) best = c, step = static_cast<std::int8_t>(d);
      }
      cost[at(y, i)] = best + here;
      from[at(y, i)] = step;
    }
  }
  int i = 0;
  for (int k = 1; k < w; ++k)
    if (cost[at(h - 1, k)] < cost[at(h - 1, i)]) i = k;
  Seam seam;
  seam.cost = cost[at(h - 1, i)];
  seam.x.assign(static_cast<std::size_t>(h), 0);
  bool inside = false;
  for (int y = h - 1; y >= 0; --y) {
    seam.x[static_cast<std::size_t>(y)] = lo + i;
    const bool ink = mask.at<std::uint8_t>(y, lo + i) != 0;
    seam.crossings += ink && !inside ? 1 : 0;
    inside = ink;
    i += from[at(y, i)];
  }
  return seam;
}

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

std::vector<Seam> candidate_seams(const Blob& blob, double height) {
  const double full_ref = std::max<double>(blob.box.height, height);
  if (blob.box.width < 0.7 * full_ref) return {};
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
  // A seam may wander ±0.3 digit heights from where it starts looking: slanted digits touch
  // along a slant.
  const int step = std::max(1, static_cast<int>(0.08 * ref));
  const int reach = std::max(2, static_cast<int>(0.3 * ref));
  const int margin = std::max(2, static_cast<int>(0.12 * ref));
  const double stroke = stroke_width(mask);
  // Touching digits meet in one stroke. A cut through two (across a loop, or where overlapping
  // digits cross) is tried only in ink at least as wide as a digit is tall; the judge decides.
  const int max_crossings = w >= ref ? 2 : 1;
  std::vector<Seam> found;
  for (int ideal = margin; ideal <= w - margin; ideal += step) {
    Seam seam = find_seam(mask, std::max(margin, ideal - reach), std::min(w - margin, ideal + reach), ideal, stroke);
    if (seam.crossings <= max_crossings) found.push_back(std::move(seam));
  }
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

}  // namespace

std::vector<Blob> read_line(std::vector<Blob> line, const cv::Mat& ink, Recogniser* judge) {
  if (line.empty()) return line;
  const Weights weights;
  const double height = median_height(line);
  std::vector<Piece> pieces;
  for (std::size_t s = 0; s < line.size(); ++s) {
    const auto seams = candidate_seams(line[s], height);
    if (seams.empty()) {
      pieces.push_back({std::move(line[s]), s, 0});
      continue;
    }
    std::vector<Piece> parts;
    for (std::size_t p = 0; p <= seams.size(); ++p) {
      Blob part = part_between(line[s], seams, p);
      const int right = p < seams.size() ? seams[p].crossings : 0;
      if (part.box.empty()) {
        // Two seams with no ink between them: cutting there costs the cheaper of the two.
        if (!parts.empty()) parts.back().crossings = std::min(parts.back().crossings, right);
        continue;
      }
      parts.push_back({std::move(part), s, right});
    }
    // A sliver (a seam grazing a stroke's end) is no digit and no digit's half: it goes to the
    // neighbour it is more firmly attached to.
    const double min_ink = 0.3 * std::max<double>(line[s].box.height, height) * stroke_width(line[s].mask);
    for (bool merged = true; merged && parts.size() > 1;) {
      merged = false;
      for (std::size_t k = 0; k < parts.size() && !merged; ++k) {
        if (cv::countNonZero(parts[k].blob.mask) >= min_ink) continue;
        const int left = k > 0 ? parts[k - 1].crossings : std::numeric_limits<int>::max();
        const int right = k + 1 < parts.size() ? parts[k].crossings : std::numeric_limits<int>::max();
        if (left <= right) {
          parts[k - 1].blob = joined(parts[k - 1].blob, parts[k].blob);
          parts[k - 1].crossings = parts[k].crossings;
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
      candidates.push_back({i, j, blob, shape - joins - weights.per_digit});
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
      if (forced) continue;
      candidates[c].blob.crop = digit_crop(ink, candidates[c].blob);
      crops.push_back(*candidates[c].blob.crop);
      asked.push_back(c);
    }
    std::vector<Probabilities> probabilities(crops.size());
    std::vector<float> not_digit(crops.size());
    judge->probabilities(crops, probabilities, not_digit);
    for (std::size_t k = 0; k < asked.size(); ++k) {
      // The most probable digit, discounted by the chance that this is no one digit at all.
      const double best = *std::ranges::max_element(probabilities[k]) * (1.0 - not_digit[k]);
      auto& cand = candidates[asked[k]];
      cand.score += std::log(std::max(1e-4, best));
    }
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
