#include "segment/lines.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace digits {

namespace {

struct TextLine {
  TextLine(Blob first, double height, double page_slope, const LinesTuning& tuning)
      : height(height), page_slope(page_slope), tuning(&tuning) {
    add(std::move(first));
  }

  std::vector<Blob> members;
  double height = 0;  // of the page's digits
  double page_slope = 0;  // what a line too short to have a slope of its own follows
  const LinesTuning* tuning = nullptr;

  void add(Blob blob) {
    members.push_back(std::move(blob));
    const auto g = guides();
    last_x_ = cx(*g.back()), last_y_ = cy(*g.back()), slope_ = slope_of(g);
  }

  // The members whose middle tells where the line runs: not a fragment (a speck, the loop of a 6
  // whose faint stem was lost) sitting above or below it. All of them if there are no others.
  static bool full_height(const Blob& b, double height, const LinesTuning& tuning) {
    return b.box.height >= tuning.full_height * height;
  }
  std::vector<const Blob*> guides() const {
    std::vector<const Blob*> out;
    for (const auto& b : members)
      if (full_height(b, height, *tuning)) out.push_back(&b);
    if (out.empty())
      for (const auto& b : members) out.push_back(&b);
    return out;
  }
  double slope() const { return slope_of(guides()); }
  // Where the line runs at x: on from its last guide (lines curve a little over a page). Every
  // blob asks every line so far, so what it takes is kept as members join.
  double predict(double x) const { return last_y_ + slope_ * (x - last_x_); }
  double slope_of(const std::vector<const Blob*>& g) const {
    if (g.size() < 2) return page_slope;
    double mx = 0, my = 0;
    for (const auto* b : g) mx += cx(*b), my += cy(*b);
    mx /= static_cast<double>(g.size());
    my /= static_cast<double>(g.size());
    double sxx = 0, sxy = 0;
    for (const auto* b : g) sxx += (cx(*b) - mx) * (cx(*b) - mx), sxy += (cx(*b) - mx) * (cy(*b) - my);
    // Steeper than max_slope is no line of writing but digits stacked out of line.
    return sxx > 0 ? std::clamp(sxy / sxx, -tuning->max_slope, tuning->max_slope) : page_slope;
  }
  static double cx(const Blob& b) { return b.box.x + b.box.width / 2.0; }
  static double cy(const Blob& b) { return b.box.y + b.box.height / 2.0; }

 private:
  double last_x_ = 0, last_y_ = 0, slope_ = 0;  // the last guide's middle, the guides' slope
};

// The slope most of the page's writing follows: the one at which the most pairs of full-height
// neighbours (within four digit heights of each other) lie level, each pair counting less the
// further it is off level. A line's first digit has no slope of its own, and on a steep line (a
// photo turned by 10 degrees, writing that climbs) its second digit could be out of its reach at
// slope 0 and start a line of its own.
double page_slope(const std::vector<Blob>& blobs, double height, const LinesTuning& tuning) {
  // `blobs` are in order of their middles' abscissae.
  const double spread = tuning.level_spread * height;
  // A pair further apart in height than this counts exactly 0 at every slope: off level by 32
  // spreads at least, even at the steepest slope over the longest reach (with the defaults, six
  // digit heights; exp(-1024) is 0 in doubles), so it is left out: it changes no sum, and a page
  // of noise has hundreds of thousands of such pairs.
  const double level_reach = (32 * tuning.level_spread + tuning.max_slope * tuning.pair_reach) * height;
  std::vector<cv::Point2d> pairs;  // (dx, dy) of each pair
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (!TextLine::full_height(blobs[i], height, tuning)) continue;
    for (std::size_t j = i + 1; j < blobs.size(); ++j) {
      const double dx = TextLine::cx(blobs[j]) - TextLine::cx(blobs[i]);
      if (dx > tuning.pair_reach * height) break;
      if (!TextLine::full_height(blobs[j], height, tuning) || dx <= 0) continue;
      if (const double dy = TextLine::cy(blobs[j]) - TextLine::cy(blobs[i]); std::abs(dy) <= level_reach) pairs.emplace_back(dx, dy);
    }
  }
  const auto level = [&](double slope) {
    double sum = 0;
    for (const auto& p : pairs) {
      const double off = (p.y - slope * p.x) / spread;
      sum += std::exp(-off * off);
    }
    return sum;
  };
  // Level writing wins ties: steps of 0.01 outwards from 0.
  double best = 0, best_level = level(0);
  for (int step = 1; step <= static_cast<int>(std::lround(tuning.max_slope * 100)); ++step)
    for (const double slope : {step / 100.0, -step / 100.0})
      if (const double l = level(slope); l > best_level + 1e-9) best = slope, best_level = l;
  return best;
}

}  // namespace

std::vector<std::vector<Blob>> group_lines(std::vector<Blob> blobs, double height, const LinesTuning& tuning) {
  std::ranges::sort(blobs, [](const Blob& a, const Blob& b) { return TextLine::cx(a) < TextLine::cx(b); });
  const double slope_of_page = page_slope(blobs, height, tuning);
  std::vector<TextLine> lines;
  for (auto& blob : blobs) {
    const double tolerance = tuning.tolerance * std::max<double>(height, blob.box.height);
    TextLine* best = nullptr;
    double best_distance = tolerance;
    for (auto& line : lines) {
      const double distance = std::abs(TextLine::cy(blob) - line.predict(TextLine::cx(blob)));
      if (distance < best_distance) best_distance = distance, best = &line;
    }
    if (best)
      best->add(std::move(blob));
    else
      lines.emplace_back(std::move(blob), height, slope_of_page, tuning);
  }
  // Order lines by their height at a common abscissa, so a slanted page still reads top down.
  double x_mid = 0, slope_sum = 0;
  std::size_t count = 0, sloped = 0;
  for (const auto& line : lines) {
    for (const auto& b : line.members) x_mid += TextLine::cx(b), ++count;
    if (line.members.size() >= tuning.min_sloped) slope_sum += line.slope(), ++sloped;
  }
  if (count > 0) x_mid /= static_cast<double>(count);
  const double slope = sloped > 0 ? slope_sum / static_cast<double>(sloped) : 0;
  const auto level = [&](const TextLine& line) {
    double sum = 0;
    for (const auto& b : line.members) sum += TextLine::cy(b) - slope * (TextLine::cx(b) - x_mid);
    return sum / static_cast<double>(line.members.size());
  };
  std::ranges::sort(lines, [&](const TextLine& a, const TextLine& b) { return level(a) < level(b); });
  std::vector<std::vector<Blob>> out;
  for (auto& line : lines) out.push_back(std::move(line.members));
  return out;
}

}  // namespace digits
