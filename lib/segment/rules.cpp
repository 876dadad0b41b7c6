#include "segment/rules.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

namespace digits {

namespace {

// --- straight lines across the page ------------------------------------------------------------

struct Segment {
  cv::Point a, b;
  bool horizontal = true;
  double length() const { return std::hypot(b.x - a.x, b.y - a.y); }
};

// The ink across a segment at evenly spaced points along it: at each point on ink, how long the
// run of ink across the segment is and how far its middle lies from the segment.
struct Across {
  double t;       // where along the segment, 0 to 1
  int run;
  double middle;  // signed, in pixels
};

std::vector<Across> across(const cv::Mat& mask, const Segment& s, int samples, int limit) {
  std::vector<Across> out;
  const cv::Point step = s.horizontal ? cv::Point(0, 1) : cv::Point(1, 0);
  const auto inside = [&](cv::Point q) { return q.x >= 0 && q.y >= 0 && q.x < mask.cols && q.y < mask.rows; };
  for (int i = 1; i <= samples; ++i) {
    const double t = static_cast<double>(i) / (samples + 1);
    const cv::Point p(static_cast<int>(std::lround(s.a.x + t * (s.b.x - s.a.x))),
                      static_cast<int>(std::lround(s.a.y + t * (s.b.y - s.a.y))));
    // A one-pixel line may pass a pixel beside the point: Hough's ends are that far off.
    std::optional<int> shift;
    for (const int k : {0, 1, -1, 2, -2})
      if (const cv::Point q = p + k * step; inside(q) && mask.at<std::uint8_t>(q) != 0) {
        shift = k;
        break;
      }
    if (!shift) continue;
    const cv::Point on = p + *shift * step;
    int after = 0, before = 0;
    for (cv::Point q = on + step; inside(q) && mask.at<std::uint8_t>(q) && after < limit; q += step) ++after;
    for (cv::Point q = on - step; inside(q) && mask.at<std::uint8_t>(q) && before < limit; q -= step) ++before;
    out.push_back({t, 1 + after + before, *shift + (after - before) / 2.0});
  }
  return out;
}

int median_run(std::vector<Across> samples) {
  if (samples.empty()) return 1;
  const auto middle = samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2);
  std::ranges::nth_element(samples, middle, {}, &Across::run);
  return middle->run;
}

// The line's thickness: the median run of ink across it.
int line_thickness(const cv::Mat& mask, const Segment& s, const RulesTuning& tuning) {
  return median_run(across(mask, s, tuning.thickness_samples, tuning.max_run));
}

// Whether a segment Hough found is a ruled line rather than strokes of digits that happen to
// line up (the bottoms of an 8 and a 2 written on one base line, in a picture cropped tightly
// around them): a rule is long for its thickness (15 times), and straight: where no digit crosses it, the
// middle of its ink lies on one straight line. A stroke's curve drifts off it.
bool is_rule(const cv::Mat& mask, const Segment& s, const RulesTuning& tuning) {
  const auto samples = across(mask, s, tuning.rule_samples, tuning.max_run);
  const int thickness = median_run(samples);
  if (s.length() < tuning.rule_length * thickness) return false;
  // The middles where the ink is the line's own, fitted by least squares against position.
  std::vector<Across> own;
  std::ranges::copy_if(samples, std::back_inserter(own), [&](const Across& a) { return a.run <= thickness + tuning.own_run_slack; });
  const double n = static_cast<double>(own.size());
  if (n < tuning.min_clean * tuning.rule_samples) return false;
  double st = 0, sm = 0, stt = 0, stm = 0;
  for (const auto& a : own) st += a.t, sm += a.middle, stt += a.t * a.t, stm += a.t * a.middle;
  const double denominator = n * stt - st * st;
  const double slope = denominator > 0 ? (n * stm - st * sm) / denominator : 0;
  const double offset = (sm - slope * st) / n;
  double squares = 0;
  for (const auto& a : own) squares += std::pow(a.middle - (offset + slope * a.t), 2);
  return std::sqrt(squares / n) <= std::max(1.0, tuning.max_wobble * thickness);
}

// Whether b lies on a's line (nearly parallel, its ends within `near` pixels of that line) and
// follows on from a with at most `gap` pixels between them.
bool continues(const Segment& a, const Segment& b, double near, double gap) {
  const cv::Point2d d = cv::Point2d(a.b - a.a) * (1.0 / std::max(1e-9, a.length()));
  const cv::Point2d n(-d.y, d.x);
  const cv::Point2d b1(b.a - a.a), b2(b.b - a.a);
  if (std::abs(n.dot(b1)) > near || std::abs(n.dot(b2)) > near) return false;
  const double lo = std::min(d.dot(b1), d.dot(b2)), hi = std::max(d.dot(b1), d.dot(b2));
  return lo - a.length() <= gap && -hi <= gap;
}

// The segment from the first to the last of a's and b's ends along a's direction.
Segment spanning(const Segment& a, const Segment& b) {
  const cv::Point2d d(a.b - a.a);
  std::array<cv::Point, 4> ends{a.a, a.b, b.a, b.b};
  const auto along = [&](const cv::Point& p) { return d.dot(cv::Point2d(p - a.a)); };
  const auto [first, last] = std::ranges::minmax_element(ends, {}, along);
  return {*first, *last, a.horizontal};
}

// Hough returns a long thin line that is slightly slanted as several pieces, each staying within
// one bin of distance from the origin: the pieces of one line, end to end, are joined.
std::vector<Segment> joined_pieces(std::vector<Segment> pieces, double near, double gap) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < pieces.size() && !changed; ++i)
      for (std::size_t j = i + 1; j < pieces.size() && !changed; ++j)
        if (continues(pieces[i], pieces[j], near, gap) || continues(pieces[j], pieces[i], near, gap)) {
          pieces[i] = pieces[i].length() >= pieces[j].length() ? spanning(pieces[i], pieces[j]) : spanning(pieces[j], pieces[i]);
          pieces.erase(pieces.begin() + static_cast<std::ptrdiff_t>(j));
          changed = true;
        }
  }
  return pieces;
}

// Rules and grid lines span the page; a digit's stroke does not. A lone line must nearly cross
// the whole picture, as a stroke of a tightly cropped "1" or "7" might reach most of the way.
std::vector<Segment> page_lines(const cv::Mat& candidates, const RulesTuning& tuning) {
  std::vector<cv::Vec4i> found;
  const int shorter = std::min(candidates.cols, candidates.rows);
  const int gap = std::max(3, shorter / tuning.gap_parts);
  // Thickened, a thin line that is slightly slanted stays within one of Hough's bins for longer.
  cv::Mat thick;
  cv::dilate(candidates, thick, cv::Mat());
  cv::HoughLinesP(thick, found, 1, CV_PI / 360, std::max(20, shorter / tuning.votes_parts), tuning.min_segment * shorter, gap);
  std::vector<Segment> pieces[2];
  for (const auto& v : found) {
    Segment s{{v[0], v[1]}, {v[2], v[3]}};
    const double angle = std::abs(std::atan2(s.b.y - s.a.y, s.b.x - s.a.x)) * 180 / CV_PI;
    const double from_horizontal = std::min(angle, 180 - angle);
    if (from_horizontal <= tuning.max_slant) {
      pieces[0].push_back(s);
    } else if (std::abs(angle - 90) <= tuning.max_slant) {
      s.horizontal = false;
      pieces[1].push_back(s);
    }
  }
  std::vector<Segment> lines[2];
  for (int o = 0; o < 2; ++o)
    for (const auto& s : joined_pieces(pieces[o], tuning.join_near, gap))
      if (s.length() >= (o == 0 ? tuning.min_horizontal * candidates.cols : tuning.min_vertical * candidates.rows) &&
          is_rule(candidates, s, tuning))
        lines[o].push_back(s);
  std::vector<Segment> out;
  for (int o = 0; o < 2; ++o) {
    const double extent = o == 0 ? candidates.cols : candidates.rows;
    // Several parallel segments from one thick line count once: distinct lines are further apart
    // than the thickest is thick.
    std::vector<double> offsets;
    int thickest = 0;
    for (const auto& s : lines[o]) {
      offsets.push_back(o == 0 ? (s.a.y + s.b.y) / 2.0 : (s.a.x + s.b.x) / 2.0);
      thickest = std::max(thickest, line_thickness(candidates, s, tuning));
    }
    std::ranges::sort(offsets);
    int distinct = offsets.empty() ? 0 : 1;
    const int apart = std::max(tuning.line_apart, thickest + tuning.apart_slack);
    for (std::size_t i = 1; i < offsets.size(); ++i) distinct += offsets[i] - offsets[i - 1] > apart ? 1 : 0;
    for (const auto& s : lines[o])
      if (distinct >= 2 || s.length() >= tuning.lone_length * extent) out.push_back(s);
  }
  return out;
}

// Erases `lines` of one direction from `mask`, each as thick as it is in `drawn` (the mask the
// lines were found in).
void erase_lines(cv::Mat& mask, const cv::Mat& drawn, const std::vector<Segment>& lines, bool horizontal,
                 const RulesTuning& tuning) {
  cv::Mat band = cv::Mat::zeros(mask.size(), CV_8U);
  int widest = 0;
  for (const auto& s : lines) {
    if (s.horizontal != horizontal) continue;
    const int thickness = line_thickness(drawn, s, tuning);
    widest = std::max(widest, thickness);
    // Hough segments stop a little short of the ends; extend them.
    const cv::Point2d d = cv::Point2d(s.b - s.a) * (tuning.extend + tuning.extend_px / std::max(1.0, s.length()));
    cv::line(band, cv::Point(cv::Point2d(s.a) - d), cv::Point(cv::Point2d(s.b) + d), cv::Scalar(255),
             thickness + tuning.erase_slack);
  }
  if (widest == 0) return;
  cv::Mat on_line, rest;
  cv::bitwise_and(mask, band, on_line);
  cv::bitwise_and(mask, ~band, rest);
  // A stroke crossing the line has ink on both sides of it: bridge that gap again.
  const int reach = tuning.bridge_per_width * widest + tuning.bridge_slack;
  const cv::Mat across = cv::getStructuringElement(
      cv::MORPH_RECT, horizontal ? cv::Size(1, reach) : cv::Size(reach, 1));
  cv::Mat bridged;
  cv::morphologyEx(rest, bridged, cv::MORPH_CLOSE, across);
  cv::bitwise_and(bridged, on_line, bridged);
  cv::bitwise_or(rest, bridged, mask);
}

}  // namespace

bool spans_page(const cv::Rect& box, const cv::Size& page) {
  return box.width >= page.width / 2 || box.height >= 3 * page.height / 4;
}

int remove_straight_lines(cv::Mat& mask, const cv::Mat& faint, const RulesTuning& tuning) {
  const cv::Mat& drawn = faint.empty() ? mask : faint;
  cv::Mat labels;
  // Most pictures hold no rule: at half the size (no line broken: a pixel is ink if any of its
  // four was) the labels cost a quarter, and tell whether to look at full size.
  if (drawn.cols >= tuning.coarse_from && drawn.rows >= tuning.coarse_from) {
    const cv::Mat half = glance(drawn, 2);
    const auto coarse = label_components(half > 0, labels);
    if (std::ranges::none_of(coarse, [&](const cv::Rect& b) { return spans_page(b, half.size()); })) return 0;
  }
  const auto boxes = label_components(drawn, labels);
  // Only components spanning much of the picture can hold a rule; skip the search otherwise.
  std::vector<int> long_ones;
  for (std::size_t i = 0; i < boxes.size(); ++i)
    if (spans_page(boxes[i], mask.size())) long_ones.push_back(static_cast<int>(i) + 1);
  if (long_ones.empty()) return 0;
  cv::Mat candidates = cv::Mat::zeros(mask.size(), CV_8U);
  for (const int i : long_ones) candidates.setTo(255, labels == i);
  const auto lines = page_lines(candidates, tuning);
  erase_lines(mask, drawn, lines, true, tuning);
  erase_lines(mask, drawn, lines, false, tuning);
  return static_cast<int>(lines.size());
}

// --- boxes drawn around digits ------------------------------------------------------------------

namespace {

// A segment found in a picture transposed when `horizontal` (so that it runs down the rows),
// turned back into the picture's own pixels.
Segment untransposed(Segment s, bool horizontal) {
  if (horizontal) {
    std::swap(s.a.x, s.a.y);
    std::swap(s.b.x, s.b.y);
  } else {
    s.horizontal = false;
  }
  return s;
}

// The straight line through `middles` (points as (along, across) in a picture transposed when
// `horizontal`), from along = 0 to `length` - 1, in the picture's own pixels.
std::optional<Segment> line_through(const std::vector<cv::Point2d>& middles, int length, bool horizontal) {
  cv::Vec4d fit;  // (v_along, v_across, along0, across0)
  cv::fitLine(middles, fit, cv::DIST_L2, 0, 0.01, 0.01);
  if (std::abs(fit[0]) < 1e-6) return std::nullopt;  // running across: no side of a box
  const double slope = fit[1] / fit[0];
  const auto across = [&](double along) { return static_cast<int>(std::lround(fit[3] + slope * (along - fit[2]))); };
  return untransposed({{across(0), 0}, {across(length - 1), length - 1}}, horizontal);
}

// Where a side of a box drawn around `m` (a blob's mask) runs: for each row (each column when
// `horizontal`), the middle of the ink run starting at the blob's edge (the far edge when
// `far`), when that run is thin; the line fitted through them, in the blob's pixels. None unless
// the side runs most of the blob's length (80%: a turned box's corners break it) as a thin stroke.
std::optional<Segment> frame_side(const cv::Mat& m, bool horizontal, bool far, const RulesTuning& tuning) {
  const cv::Mat t = horizontal ? cv::Mat(m.t()) : m;  // rows along the side
  // t.rows / lean_parts: a side leaning 5 degrees
  const int band = std::max({3, t.cols / tuning.side_band_parts, t.rows / tuning.lean_parts});
  std::vector<cv::Point2d> middles;
  for (int y = 0; y < t.rows; ++y) {
    const auto* row = t.ptr<std::uint8_t>(y);
    const auto at = [&](int k) { return row[far ? t.cols - 1 - k : k] != 0; };
    int first = 0;
    while (first < band && !at(first)) ++first;
    if (first == band) continue;
    int end = first;
    while (end < t.cols && at(end)) ++end;
    if (end - first > band) continue;  // a solid stroke, not a line
    const double middle = (first + end - 1) / 2.0;
    middles.emplace_back(y, far ? t.cols - 1 - middle : middle);
  }
  if (middles.size() < tuning.min_side * t.rows) return std::nullopt;
  return line_through(middles, t.rows, horizontal);
}

// The lines parting a row of boxes (a form's comb field) framed by `m` (a blob's mask): thin lines
// across its whole height (its whole width when `horizontal`), in the blob's pixels.
std::vector<Segment> parting_lines(const cv::Mat& m, bool horizontal, const RulesTuning& tuning) {
  const cv::Mat along = horizontal ? cv::Mat(m.t()) : m;
  // Widened by how far a line leaning 5 degrees drifts, so that it still covers its columns.
  const int lean = std::max(3, along.rows / tuning.lean_parts);
  cv::Mat near;
  cv::dilate(along, near, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(lean, 1)));
  const int band = std::max(3, along.cols / tuning.side_band_parts);
  std::vector<Segment> out;
  for (int x = band; x < along.cols - band;) {
    int end = x;
    while (end < along.cols - band && cv::countNonZero(near.col(end)) >= tuning.min_side * along.rows) ++end;
    if (end > x && end - x <= band + lean) {
      // The line itself: the middles of its ink in those columns, row by row.
      std::vector<cv::Point2d> middles;
      for (int y = 0; y < along.rows; ++y) {
        const auto* row = along.ptr<std::uint8_t>(y);
        int first = -1, last = -1;
        for (int k = x; k < end; ++k)
          if (row[k] != 0) last = k, first = first < 0 ? k : first;
        if (first >= 0) middles.emplace_back(y, (first + last) / 2.0);
      }
      if (middles.size() >= tuning.min_parting * along.rows)
        if (auto line = line_through(middles, along.rows, horizontal)) out.push_back(*line);
    }
    x = std::max(x + 1, end);
  }
  return out;
}

}  // namespace

int remove_frames(cv::Mat& mask, const std::vector<Blob>& blobs, const RulesTuning& tuning) {
  std::vector<Segment> lines;
  for (const auto& b : blobs) {
    // A grid runs out of the picture; a box drawn on the page lies within it.
    if (b.box.width < tuning.min_box || b.box.height < tuning.min_box || touches_frame(b.box, mask.size())) continue;
    std::vector<Segment> sides;
    for (const bool horizontal : {false, true})
      for (const bool far : {false, true})
        if (auto side = frame_side(b.mask, horizontal, far, tuning)) sides.push_back(*side);
    if (sides.size() < tuning.min_sides) continue;
    // A row of boxes (a form's comb field): the lines parting them run its whole height too.
    for (const bool horizontal : {false, true})
      std::ranges::copy(parting_lines(b.mask, horizontal, tuning), std::back_inserter(sides));
    for (auto s : sides) {
      s.a += b.box.tl();
      s.b += b.box.tl();
      lines.push_back(s);
    }
  }
  erase_lines(mask, mask, lines, true, tuning);
  erase_lines(mask, mask, lines, false, tuning);
  return static_cast<int>(lines.size());
}

}  // namespace digits
