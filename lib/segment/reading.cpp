#include "segment/reading.hpp"

#include "segment/crop.hpp"
#include "segment/normalise.hpp"
#include "segment/seams.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>

namespace digits {

double reading_score(const Probabilities& digits, float not_digit, double temperature, double lowest) {
  const double floor = temperature * lowest;
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

double median_height(const std::vector<Blob>& line) {
  std::vector<int> heights;
  for (const auto& b : line) heights.push_back(b.box.height);
  // The lower median: of a digit and a taller pair of touching ones, the digit's height.
  const auto middle = heights.begin() + static_cast<std::ptrdiff_t>((heights.size() - 1) / 2);
  std::ranges::nth_element(heights, middle);
  return *middle;
}

// One more crop for the judge, counted before it is made (throws TooLarge past the bound).
void judging(Work* work) {
  if (work != nullptr) work->judging();
}

// How many crops the judge reads between two looks at the deadline: a line of noise can have
// thousands of candidates, and a crop reads the same in any batch, bit for bit (so this is no
// tuned number: it changes no output).
constexpr std::size_t judged_part = 256;

// The judge's readings of the crops, scored by reading_score; with `work`, the deadline looked at
// between parts of judged_part crops.
std::vector<double> judged(Judge& judge, std::span<const Crop> crops, const ReadingTuning& weights, const Work* work) {
  std::vector<Probabilities> probabilities(crops.size());
  std::vector<float> not_digit(crops.size());
  for (std::size_t start = 0; start < crops.size(); start += judged_part) {
    if (work != nullptr) work->check();
    const std::size_t n = std::min(judged_part, crops.size() - start);
    judge.probabilities(crops.subspan(start, n), std::span(probabilities).subspan(start, n),
                        std::span(not_digit).subspan(start, n));
  }
  std::vector<double> out(crops.size());
  for (std::size_t k = 0; k < crops.size(); ++k)
    out[k] = reading_score(probabilities[k], not_digit[k], weights.temperature, weights.lowest_score);
  return out;
}

// How plausible a digit's shape is: ink much wider than the line's digits are tall is more than
// one, much shorter is a fragment.
double shape(const Blob& blob, double height, const ReadingTuning& weights) {
  const double w = blob.box.width / height, h = blob.box.height / height;
  return -weights.too_wide * std::max(0.0, w - weights.wide_from) -
         weights.far_too_wide * std::max(0.0, w - weights.far_wide_from) - weights.too_short * std::max(0.0, weights.short_from - h);
}

// A digit that could lie between two boundaries: part of one blob between two of its seams, or
// the end of one blob, the blobs after it and the start of another.
struct Candidate {
  std::size_t u, v;  // boundaries
  Blob blob;
  double score = 0;
  std::optional<double> reading;  // the judge's, once asked (included in the score)
};

// Every way to read a line: the boundaries in reading order (each blob's left edge, then its
// seams; last, the right end) and the candidate digits between them, in order of their start.
// The boundaries point into `seams`: moved, never copied.
struct Lattice {
  std::vector<std::vector<Seam>> seams;  // each blob's
  std::vector<Boundary> nodes;
  std::vector<Candidate> candidates;
  std::vector<std::optional<double>> read_whole;  // the score of each blob read whole, when judged
};

// The judge's scores of the blobs that could hold two digits (if only two leaning together),
// each read whole in one batch (their crops kept in them); none for the others.
std::vector<std::optional<double>> whole_readings(std::vector<Blob>& line, const cv::Mat& ink, Judge& judge,
                                                  double height, const Tuning& tuning, Work* work) {
  std::vector<std::optional<double>> whole(line.size());
  std::vector<std::size_t> asked;
  std::vector<Crop> crops;
  for (std::size_t s = 0; s < line.size(); ++s)
    if (may_hold_two(line[s], height, true, tuning.seams)) {
      judging(work);
      line[s].crop = digit_crop(ink, line[s]);
      crops.push_back(*line[s].crop);
      asked.push_back(s);
    }
  const auto scores = judged(judge, crops, tuning.reading, work);
  for (std::size_t k = 0; k < asked.size(); ++k) whole[asked[k]] = scores[k];
  return whole;
}

// Step 1: every digit the line could hold, scored by shape and joins, and by the judge's reading
// where `whole` has it. A blob is cut at its seams unless the judge read it well enough whole.
Lattice enumerate_candidates(const std::vector<Blob>& line, const std::vector<std::optional<double>>& whole,
                             const cv::Mat& ink, double height, const Tuning& tuning, const Work* work) {
  const ReadingTuning& weights = tuning.reading;
  const std::size_t n = line.size();
  // A blob that the judge reads well enough as one digit is not cut: most digits stand alone,
  // and asking about every way to cut them costs dozens of readings. Well enough is exact: cut
  // in two, it pays for a second digit and at least one stroke crossed (a blob is connected),
  // and no reading scores above 0, so its parts can only win if the whole scores below that
  // price. (Only a part joining a neighbour blob escapes the bound: a broken digit touching
  // another; rare enough.)
  const double keeps_whole = -(weights.per_digit + weights.per_crossing);
  Lattice lattice;
  auto& [seams, nodes, candidates, read_whole] = lattice;
  seams.resize(n);
  std::vector<std::size_t> first(n + 1);  // each blob's left edge among the nodes
  std::vector<double> min_ink(n);
  for (std::size_t s = 0; s < n; ++s) {
    if (work != nullptr) work->check();
    const Blob& blob = line[s];
    if (!whole[s])
      seams[s] = candidate_seams(blob, height, ink, Doubt::none, tuning.seams);
    else if (*whole[s] + shape(blob, height, weights) < (may_hold_two(blob, height, false, tuning.seams) ? keeps_whole : weights.narrow_doubt))
      seams[s] = candidate_seams(blob, height, ink, *whole[s] < weights.no_digit ? Doubt::certain : Doubt::doubted, tuning.seams);
    first[s] = nodes.size();
    nodes.push_back({s, nullptr});
    for (const auto& seam : seams[s]) nodes.push_back({s, &seam});
    if (!seams[s].empty())  // only parts cut off by a seam are held to it
      min_ink[s] = weights.min_ink * std::max<double>(line[s].box.height, height) * stroke_width(line[s].mask);
  }
  first[n] = nodes.size();
  nodes.push_back({n, nullptr});

  read_whole.resize(n);
  for (std::size_t u = 0; u + 1 < nodes.size(); ++u) {
    if (work != nullptr) work->check();
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
        const double score = shape(blob, height, weights) - joins - weights.per_digit + (known ? *whole[t] : 0);
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
  return lattice;
}

// Step 2: the judge's readings, in one batch, of the candidates whose reading could change the
// choice. A candidate every reading takes (nothing spans its ends, nothing else leaves its start)
// is that digit whatever the judge says; one that joins blobs whose readings apart beat it
// whatever the judge would say of it (no reading scores above 0) cannot be chosen. Digits
// written close together are most such joins.
void judge_candidates(Lattice& lattice, const cv::Mat& ink, Judge& judge, const ReadingTuning& weights, Work* work) {
  // References, not a structured binding: clang 14 (the fuzz build's) lets no lambda capture one.
  const auto& nodes = lattice.nodes;
  auto& candidates = lattice.candidates;
  const auto& read_whole = lattice.read_whole;
  std::vector<int> leaving(nodes.size(), 0);
  std::vector<bool> spanned(nodes.size(), false);
  for (const auto& c : candidates) {
    ++leaving[c.u];
    for (std::size_t k = c.u + 1; k < c.v; ++k) spanned[k] = true;
  }
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
    judging(work);
    if (!cand.blob.crop) cand.blob.crop = digit_crop(ink, cand.blob);
    crops.push_back(*cand.blob.crop);
    asked.push_back(c);
  }
  const auto scores = judged(judge, crops, weights, work);
  for (std::size_t k = 0; k < asked.size(); ++k) {
    candidates[asked[k]].score += scores[k];
    candidates[asked[k]].reading = scores[k];
  }
}

// Step 3: the candidates of the best reading of the whole line, in order: the best reading up to
// every boundary, by dynamic programming over the candidates in order of their start (each starts
// where an earlier one, already final, ends); each seam a digit ends at pays for its cut.
std::vector<std::size_t> best_path(const Lattice& lattice, const ReadingTuning& weights) {
  const auto& [seams, nodes, candidates, read_whole] = lattice;
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
  return chosen;
}

}  // namespace

std::vector<Blob> read_line(std::vector<Blob> line, const cv::Mat& ink, Judge* judge, const Tuning& tuning, Work* work) {
  if (line.empty()) return line;
  const ReadingTuning& weights = tuning.reading;
  const double height = median_height(line);
  const auto whole = judge != nullptr ? whole_readings(line, ink, *judge, height, tuning, work)
                                      : std::vector<std::optional<double>>(line.size());
  Lattice lattice = enumerate_candidates(line, whole, ink, height, tuning, work);
  if (judge != nullptr) judge_candidates(lattice, ink, *judge, weights, work);
  const auto chosen = best_path(lattice, weights);
  auto& candidates = lattice.candidates;
  if (judge != nullptr) {  // the chosen digits nothing else could be (forced) were never read
    std::vector<Crop> crops;
    std::vector<std::size_t> asked;
    for (const std::size_t c : chosen)
      if (auto& cand = candidates[c]; !cand.reading) {
        judging(work);
        if (!cand.blob.crop) cand.blob.crop = digit_crop(ink, cand.blob);
        crops.push_back(*cand.blob.crop);
        asked.push_back(c);
      }
    const auto scores = judged(*judge, crops, weights, work);
    for (std::size_t k = 0; k < asked.size(); ++k) candidates[asked[k]].reading = scores[k];
  }
  // What the judge reads as no digit at all is dropped.
  std::vector<Blob> out;
  for (const std::size_t c : chosen)
    if (judge == nullptr || *candidates[c].reading >= weights.unread) out.push_back(std::move(candidates[c].blob));
  return out;
}

}  // namespace digits
