#include "segment.hpp"

#include "cuts.hpp"
#include "error.hpp"
#include "normalise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>

namespace digits {

namespace {

int odd(int v) { return v | 1; }

// The picture padded with its own edge to a multiple of `factor` on each side.
cv::Mat padded(const cv::Mat& img, int factor) {
  const int right = (factor - img.cols % factor) % factor, bottom = (factor - img.rows % factor) % factor;
  if (right == 0 && bottom == 0) return img;
  cv::Mat out;
  cv::copyMakeBorder(img, out, 0, bottom, 0, right, cv::BORDER_REPLICATE);
  return out;
}

// The mean of every `factor` x `factor` block of the picture padded to a multiple of that:
// ceil(size / factor) pixels, each exactly a block. OpenCV's INTER_AREA is fast only where the
// sizes divide exactly: a 1001x301 picture shrunk by 4 took 0.33 ms, 1000x300 0.08 ms.
cv::Mat shrink(const cv::Mat& img, int factor) {
  if (factor <= 1) return img;
  const cv::Mat whole = padded(img, factor);
  cv::Mat small;
  cv::resize(whole, small, cv::Size(whole.cols / factor, whole.rows / factor), 0, 0, cv::INTER_AREA);
  return small;
}

// As shrink, for a glance that only measures or decides: halved while the factor is even, which
// is five times faster (0.015 ms for 1000x300 by 4) but rounds at each halving, a bias of a third
// of a level. (The ink map's background shrunk so lost 8 of 1000 grid images' texts.)
cv::Mat glance(const cv::Mat& img, int factor) {
  if (factor <= 1) return img;
  cv::Mat small = padded(img, factor);
  for (; factor % 2 == 0; factor /= 2) {
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  return shrink(small, factor);
}

// Back to `size` from what shrink() made `factor` times smaller: enlarged by exactly that factor
// and the padding cut off, so that every pixel lands on the block it came from. (Stretched to
// `size` instead, a map is off by up to a block at the far edges: enough to turn the polarity of
// a small desk photo, whose sheet edge is most of its contrast.)
cv::Mat enlarge(const cv::Mat& small, int factor, cv::Size size, int interpolation) {
  if (small.size() == size) return small;
  cv::Mat big;
  cv::resize(small, big, cv::Size(small.cols * factor, small.rows * factor), 0, 0, interpolation);
  return big(cv::Rect(cv::Point(0, 0), size));
}

// The value below which `fraction` of the histogram's mass lies.
int percentile(const std::array<int, 256>& hist, double fraction) {
  const long total = std::accumulate(hist.begin(), hist.end(), 0L);
  // At least fraction * total pixels at that level or darker: the one of rank ceil(that) - 1.
  return level_at_rank(hist, static_cast<long>(std::ceil(fraction * static_cast<double>(total))) - 1);
}

// The bounding box of the pixels added to it, one at a time.
struct Extent {
  int x0 = std::numeric_limits<int>::max(), y0 = std::numeric_limits<int>::max(), x1 = -1, y1 = -1;
  void add(int x, int y) { x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y); }
  cv::Rect box() const { return {x0, y0, x1 - x0 + 1, y1 - y0 + 1}; }
};

// Labels the 8-connected components and returns each one's bounding box (index = label - 1).
// One pass over the labels: OpenCV's WithStats variant is several times slower here.
std::vector<cv::Rect> label_components(const cv::Mat& mask, cv::Mat& labels) {
  const int n = cv::connectedComponents(mask, labels, 8, CV_32S);
  std::vector<Extent> ext(static_cast<std::size_t>(std::max(0, n - 1)));
  for (int y = 0; y < labels.rows; ++y) {
    const auto* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x)
      if (l[x] > 0) ext[static_cast<std::size_t>(l[x] - 1)].add(x, y);
  }
  std::vector<cv::Rect> boxes;
  boxes.reserve(ext.size());
  for (const auto& e : ext) boxes.push_back(e.box());
  return boxes;
}

// The component `label` of `labels`, which lies within `box`.
Blob blob_of(const cv::Mat& labels, const cv::Rect& box, int label) { return {box, labels(box) == label, std::nullopt, {}}; }

int vertical_gap(const cv::Rect& a, const cv::Rect& b) {
  return std::max(a.y, b.y) - std::min(a.y + a.height, b.y + b.height);
}

// The sides of the picture a box lies within a pixel of: cut off by the frame there, or running
// out of the picture.
struct FrameSides {
  bool left = false, top = false, right = false, bottom = false;
  bool any() const { return left || top || right || bottom; }
  int count() const { return int{left} + int{top} + int{right} + int{bottom}; }
};

FrameSides frame_sides(const cv::Rect& r, const cv::Size& picture) {
  return {r.x <= 1, r.y <= 1, r.br().x >= picture.width - 1, r.br().y >= picture.height - 1};
}

// Within a pixel of the picture's edge: cut off by the frame, or running out of the picture.
bool touches_frame(const cv::Rect& r, const cv::Size& picture) { return frame_sides(r, picture).any(); }

// --- straight lines ----------------------------------------------------------------------------

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

std::vector<Across> across(const cv::Mat& mask, const Segment& s, int samples) {
  std::vector<Across> out;
  constexpr int limit = 40;
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
int line_thickness(const cv::Mat& mask, const Segment& s) { return median_run(across(mask, s, 15)); }

// Whether a segment Hough found is a ruled line rather than strokes of digits that happen to
// line up (the bottoms of an 8 and a 2 written on one base line, in a picture cropped tightly
// around them): a rule is long for its thickness (15 times), and straight: where no digit crosses it, the
// middle of its ink lies on one straight line. A stroke's curve drifts off it.
bool is_rule(const cv::Mat& mask, const Segment& s) {
  const auto samples = across(mask, s, 31);
  const int thickness = median_run(samples);
  if (s.length() < 15.0 * thickness) return false;
  // The middles where the ink is the line's own, fitted by least squares against position.
  std::vector<Across> own;
  std::ranges::copy_if(samples, std::back_inserter(own), [&](const Across& a) { return a.run <= thickness + 2; });
  const double n = static_cast<double>(own.size());
  if (n < 0.4 * 31) return false;
  double st = 0, sm = 0, stt = 0, stm = 0;
  for (const auto& a : own) st += a.t, sm += a.middle, stt += a.t * a.t, stm += a.t * a.middle;
  const double denominator = n * stt - st * st;
  const double slope = denominator > 0 ? (n * stm - st * sm) / denominator : 0;
  const double offset = (sm - slope * st) / n;
  double squares = 0;
  for (const auto& a : own) squares += std::pow(a.middle - (offset + slope * a.t), 2);
  return std::sqrt(squares / n) <= std::max(1.0, 0.2 * thickness);
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
std::vector<Segment> joined_pieces(std::vector<Segment> pieces, double gap) {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < pieces.size() && !changed; ++i)
      for (std::size_t j = i + 1; j < pieces.size() && !changed; ++j)
        if (continues(pieces[i], pieces[j], 2.5, gap) || continues(pieces[j], pieces[i], 2.5, gap)) {
          pieces[i] = pieces[i].length() >= pieces[j].length() ? spanning(pieces[i], pieces[j]) : spanning(pieces[j], pieces[i]);
          pieces.erase(pieces.begin() + static_cast<std::ptrdiff_t>(j));
          changed = true;
        }
  }
  return pieces;
}

// Rules and grid lines span the page; a digit's stroke does not. A lone line must nearly cross
// the whole picture, as a stroke of a tightly cropped "1" or "7" might reach most of the way.
std::vector<Segment> page_lines(const cv::Mat& candidates) {
  std::vector<cv::Vec4i> found;
  const int shorter = std::min(candidates.cols, candidates.rows);
  const int gap = std::max(3, shorter / 40);
  // Thickened, a thin line that is slightly slanted stays within one of Hough's bins for longer.
  cv::Mat thick;
  cv::dilate(candidates, thick, cv::Mat());
  cv::HoughLinesP(thick, found, 1, CV_PI / 360, std::max(20, shorter / 4), 0.4 * shorter, gap);
  std::vector<Segment> pieces[2];
  for (const auto& v : found) {
    Segment s{{v[0], v[1]}, {v[2], v[3]}};
    const double angle = std::abs(std::atan2(s.b.y - s.a.y, s.b.x - s.a.x)) * 180 / CV_PI;
    const double from_horizontal = std::min(angle, 180 - angle);
    if (from_horizontal <= 15) {
      pieces[0].push_back(s);
    } else if (std::abs(angle - 90) <= 15) {
      s.horizontal = false;
      pieces[1].push_back(s);
    }
  }
  std::vector<Segment> lines[2];
  for (int o = 0; o < 2; ++o)
    for (const auto& s : joined_pieces(pieces[o], gap))
      if (s.length() >= (o == 0 ? 0.5 * candidates.cols : 0.75 * candidates.rows) && is_rule(candidates, s))
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
      thickest = std::max(thickest, line_thickness(candidates, s));
    }
    std::ranges::sort(offsets);
    int distinct = offsets.empty() ? 0 : 1;
    for (std::size_t i = 1; i < offsets.size(); ++i) distinct += offsets[i] - offsets[i - 1] > std::max(6, thickest + 3) ? 1 : 0;
    for (const auto& s : lines[o])
      if (distinct >= 2 || s.length() >= 0.9 * extent) out.push_back(s);
  }
  return out;
}

// Erases `lines` of one direction from `mask`, each as thick as it is in `drawn` (the mask the
// lines were found in).
void erase_lines(cv::Mat& mask, const cv::Mat& drawn, const std::vector<Segment>& lines, bool horizontal) {
  cv::Mat band = cv::Mat::zeros(mask.size(), CV_8U);
  int widest = 0;
  for (const auto& s : lines) {
    if (s.horizontal != horizontal) continue;
    const int thickness = line_thickness(drawn, s);
    widest = std::max(widest, thickness);
    // Hough segments stop a little short of the ends; extend them.
    const cv::Point2d d = cv::Point2d(s.b - s.a) * (0.05 + 4.0 / std::max(1.0, s.length()));
    cv::line(band, cv::Point(cv::Point2d(s.a) - d), cv::Point(cv::Point2d(s.b) + d), cv::Scalar(255), thickness + 2);
  }
  if (widest == 0) return;
  cv::Mat on_line, rest;
  cv::bitwise_and(mask, band, on_line);
  cv::bitwise_and(mask, ~band, rest);
  // A stroke crossing the line has ink on both sides of it: bridge that gap again.
  const int reach = 2 * widest + 5;
  const cv::Mat across = cv::getStructuringElement(
      cv::MORPH_RECT, horizontal ? cv::Size(1, reach) : cv::Size(reach, 1));
  cv::Mat bridged;
  cv::morphologyEx(rest, bridged, cv::MORPH_CLOSE, across);
  cv::bitwise_and(bridged, on_line, bridged);
  cv::bitwise_or(rest, bridged, mask);
}

// --- lines ---------------------------------------------------------------------------------------

// Steeper than this (about 17 degrees) is no line of writing but digits stacked out of line.
constexpr double max_slope = 0.3;

struct TextLine {
  std::vector<Blob> members;
  double height = 0;  // of the page's digits
  double page_slope = 0;  // what a line too short to have a slope of its own follows

  // The members whose middle tells where the line runs: not a fragment (a speck, the loop of a 6
  // whose faint stem was lost) sitting above or below it. All of them if there are no others.
  static bool full_height(const Blob& b, double height) { return b.box.height >= 0.6 * height; }
  std::vector<const Blob*> guides() const {
    std::vector<const Blob*> out;
    for (const auto& b : members)
      if (full_height(b, height)) out.push_back(&b);
    if (out.empty())
      for (const auto& b : members) out.push_back(&b);
    return out;
  }
  double slope() const { return slope_of(guides()); }
  // Where the line runs at x: on from its last guide (lines curve a little over a page).
  double predict(double x) const {
    const auto g = guides();
    return cy(*g.back()) + slope_of(g) * (x - cx(*g.back()));
  }
  double slope_of(const std::vector<const Blob*>& g) const {
    if (g.size() < 2) return page_slope;
    double mx = 0, my = 0;
    for (const auto* b : g) mx += cx(*b), my += cy(*b);
    mx /= static_cast<double>(g.size());
    my /= static_cast<double>(g.size());
    double sxx = 0, sxy = 0;
    for (const auto* b : g) sxx += (cx(*b) - mx) * (cx(*b) - mx), sxy += (cx(*b) - mx) * (cy(*b) - my);
    return sxx > 0 ? std::clamp(sxy / sxx, -max_slope, max_slope) : page_slope;
  }
  static double cx(const Blob& b) { return b.box.x + b.box.width / 2.0; }
  static double cy(const Blob& b) { return b.box.y + b.box.height / 2.0; }
};

}  // namespace

int horizontal_overlap(const cv::Rect& a, const cv::Rect& b) {
  return std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x);
}

Blob joined(const Blob& a, const Blob& b) {
  Blob out;
  out.box = a.box | b.box;
  out.mask = cv::Mat::zeros(out.box.size(), CV_8U);
  for (const Blob* part : {&a, &b}) {
    cv::Mat target = out.mask(part->box - out.box.tl());
    cv::bitwise_or(target, part->mask, target);
  }
  if (!a.others.empty() || !b.others.empty()) {
    out.others = cv::Mat::zeros(out.box.size(), CV_8U);
    for (const Blob* part : {&a, &b})
      if (!part->others.empty()) {
        cv::Mat target = out.others(part->box - out.box.tl());
        cv::bitwise_or(target, part->others, target);
      }
    out.others.setTo(0, out.mask);
    if (cv::countNonZero(out.others) == 0) out.others.release();
  }
  return out;
}

Crop digit_crop(const cv::Mat& ink, const Blob& blob) {
  if (blob.crop) return *blob.crop;
  cv::Mat mask;
  cv::dilate(blob.mask, mask, cv::Mat());
  if (!blob.others.empty()) mask.setTo(0, blob.others);
  cv::Mat own = cv::Mat::zeros(blob.box.size(), CV_8U);
  ink(blob.box).copyTo(own, mask);
  return normalise_digit(own);
}

// --- step 2 --------------------------------------------------------------------------------------

namespace {

// Pictures no larger than this on their shorter side are a thumbnail of a digit or two (an MNIST
// image is 28 px): no photo of a sheet on a desk. (At 100, some photos of a desk with one short
// line of digits on the sheet fall below it: desk 272 -> 261 of 300.)
constexpr int small_picture = 48;

// A sheet's outline: its convex hull, and the corners of the polygon that hull nearly is.
struct Outline {
  std::vector<cv::Point> hull, corners;
};

// The outline of the sheet that is the largest region of `bright` (found in a blurred picture;
// `sharp_bright` is the same level unblurred), when that region is one: most of the picture,
// convex (its writing inside filled in) and mostly bright, a polygon of four corners or a few
// more where the frame cuts it, running out of the frame on two sides at most (light falling
// across a sheet from one side leaves a lit part running out of it on three), with enough around
// it to matter.
std::optional<Outline> sheet_in(const cv::Mat& bright, const cv::Mat& sharp_bright) {
  std::vector<std::vector<cv::Point>> outlines;
  cv::findContours(bright, outlines, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  if (outlines.empty()) return std::nullopt;
  const auto& outline = *std::ranges::max_element(outlines, {}, [](const auto& c) { return cv::contourArea(c); });
  std::vector<cv::Point> hull;
  cv::convexHull(outline, hull);
  const double image_area = static_cast<double>(bright.total());
  const double hull_area = cv::contourArea(hull);
  if (hull_area < 0.2 * image_area || hull_area > 0.97 * image_area) return std::nullopt;
  if (cv::contourArea(outline) < 0.9 * hull_area) return std::nullopt;
  // Mostly bright inside, too, before any blur (which fills small holes): writing covers a small
  // part of a sheet, and the outline of a bright ring (a large 0 drawn light on dark) is convex
  // as well.
  cv::Mat region = cv::Mat::zeros(bright.size(), CV_8U);
  cv::fillConvexPoly(region, hull, cv::Scalar(255));
  if (cv::countNonZero(sharp_bright & region) < 0.8 * hull_area) return std::nullopt;
  std::vector<cv::Point> corners;
  cv::approxPolyDP(hull, corners, 0.03 * cv::arcLength(hull, true), true);
  if (corners.size() < 4 || corners.size() > 8) return std::nullopt;
  // A sheet has four corners, five where a side bends or a corner is folded; more lie only
  // where the frame cuts it. A bold rounded digit drawn light on dark (a 0 or an 8 filling the
  // picture) has seven or eight, all of them inside the frame.
  const auto inside_frame = [&](const cv::Point& p) { return !frame_sides({p, cv::Size(1, 1)}, bright.size()).any(); };
  if (std::ranges::count_if(corners, inside_frame) > 5) return std::nullopt;
  if (frame_sides(cv::boundingRect(hull), bright.size()).count() > 2) return std::nullopt;
  return Outline{std::move(hull), std::move(corners)};
}

// The sheet within `hull` (in `small`, and `smooth` that blurred) as a mask, and its paper's
// level, if around it lies a desk: much darker than the paper, across a sharp edge (`sharp`; a
// sheet grown into its own shadow has one soft side). Not a shadow or the fall of the light
// across the sheet, which stay paper (the ink map takes them out).
std::optional<std::pair<cv::Mat, double>> sheet_on_desk(const cv::Mat& small, const cv::Mat& smooth,
                                                        const std::vector<cv::Point>& hull, bool sharp = true) {
  cv::Mat page = cv::Mat::zeros(small.size(), CV_8U);
  cv::fillConvexPoly(page, hull, cv::Scalar(255));
  const double paper = cv::mean(smooth, page)[0];
  if (cv::mean(smooth, ~page)[0] > 0.7 * paper) return std::nullopt;
  const cv::Mat near = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7));
  cv::Mat shrunk, grown;
  cv::erode(page, shrunk, near);
  cv::dilate(page, grown, near);
  const double edge_inside = cv::mean(small, page & ~shrunk)[0], edge_outside = cv::mean(small, grown & ~page)[0];
  if (sharp && edge_inside - edge_outside < 0.25 * paper) return std::nullopt;
  return std::pair{page, paper};
}

// Where the sheet found in `page` (its outline's `corners`, paper at `paper`) may grow when a side
// of its outline is no step down to the desk but the edge of a shadow across the sheet, soft, or
// hard and running from one of the sheet's edges to another: anywhere but beyond its other sides
// (along which the desk's lighter grain lies). None without such a side.
std::optional<cv::Mat> past_soft_sides(const cv::Mat& small, const cv::Mat& page, double paper,
                                       const std::vector<cv::Point>& corners) {
  struct Side {
    cv::Point2d a, b, along, out;
    double inner = 0, outer = 0;  // the light a few pixels either side of it
    bool framed = false;          // it is the frame's edge
  };
  const cv::Rect frame(cv::Point(0, 0), small.size());
  const auto light_along = [&](cv::Point2d from, cv::Point2d to) {
    cv::Mat line = cv::Mat::zeros(small.size(), CV_8U);
    cv::line(line, from, to, cv::Scalar(255), 3);
    return cv::countNonZero(line) == 0 ? -1.0 : cv::mean(small, line)[0];
  };
  std::vector<Side> sides;
  for (std::size_t i = 0; i < corners.size(); ++i) {
    Side side;
    side.a = corners[i], side.b = corners[(i + 1) % corners.size()];
    const double length = cv::norm(side.b - side.a);
    side.along = length > 0 ? (side.b - side.a) * (1.0 / length) : cv::Point2d(1, 0);
    side.out = {side.along.y, -side.along.x};
    const cv::Point2d mid = (side.a + side.b) * 0.5;
    const cv::Point probe(static_cast<int>(mid.x + 4 * side.out.x), static_cast<int>(mid.y + 4 * side.out.y));
    if (frame.contains(probe) && page.at<std::uint8_t>(probe) != 0) side.out = -side.out;
    side.inner = light_along(side.a - side.out * 4.0, side.b - side.out * 4.0);
    side.outer = light_along(side.a + side.out * 4.0, side.b + side.out * 4.0);
    side.framed = length < 4 || side.outer < 0;
    sides.push_back(side);
  }
  const auto real = [](const Side& s) { return !s.framed; };
  if (std::ranges::none_of(sides, real)) return std::nullopt;
  // Beyond the sheet's own edges lies the desk. Beyond a hard shadow's edge lies shaded paper: a
  // sharp step down too, but to something lighter than the desk beyond the darkest side, and the
  // sheet's neighbouring edges run on past it, a step down to the desk all along.
  double desk = 255;
  for (const auto& s : sides)
    if (real(s)) desk = std::min(desk, s.outer);
  const double reach = 0.05 * (small.cols + small.rows);
  // Along a neighbouring edge past the corner: shaded paper as light as beyond the shadow's edge
  // (`shade`) on one side, the desk on the other (a streak of wood grain along the edge is no
  // paper: it is lighter than the desk beyond the darkest side).
  const auto runs_on = [&](const Side& s, cv::Point2d corner, cv::Point2d direction, double shade) {
    const cv::Point2d from = corner + direction * 6.0, to = corner + direction * (6.0 + reach);
    if (!frame.contains(cv::Point(to)) || !frame.contains(cv::Point(from))) return false;
    // The outline's corners are found in a blurred picture and can sit a few pixels inside the
    // sheet: look for the desk a little further out as well.
    const double inner = light_along(from - s.out * 4.0, to - s.out * 4.0);
    double outer = 255;
    for (const double d : {4.0, 7.0, 10.0})
      if (const double l = light_along(from + s.out * d, to + s.out * d); l >= 0) outer = std::min(outer, l);
    return inner >= 0 && inner - outer >= 0.1 * paper && outer <= desk + 0.08 * paper && std::abs(inner - shade) <= 0.08 * paper;
  };
  cv::Mat allowed(small.size(), CV_8U, cv::Scalar(255));
  bool soft = false;
  const double far = 4.0 * (small.cols + small.rows);
  for (std::size_t i = 0; i < sides.size(); ++i) {
    const Side& side = sides[i];
    if (side.framed) continue;
    const Side& before = sides[(i + sides.size() - 1) % sides.size()];
    const Side& after = sides[(i + 1) % sides.size()];
    const bool shadow = side.outer - desk >= 0.15 * paper && real(before) && real(after) &&
                        runs_on(before, side.a, before.along, side.outer) && runs_on(after, side.b, -after.along, side.outer);
    if (side.inner - side.outer < 0.25 * paper || shadow) {
      soft = true;
      continue;
    }
    const std::vector<cv::Point> beyond{side.a - side.along * far, side.b + side.along * far,
                                        side.b + side.along * far + side.out * far, side.a - side.along * far + side.out * far};
    cv::fillConvexPoly(allowed, beyond, cv::Scalar(0));
  }
  if (!soft) return std::nullopt;
  return allowed;
}

}  // namespace

cv::Mat isolate_page(const cv::Mat& gray) {
  // A thumbnail is no photo of a desk, and a thick digit drawn light on dark in one (a bright 8
  // filling an MNIST image) would pass for a sheet, its background for the desk.
  if (std::min(gray.cols, gray.rows) <= small_picture) return gray;
  // A desk shows on two sides of the frame at least, darker than the middle of the picture; most
  // pictures (scans, crops, drawings) are done with at this glance.
  const double middle = cv::mean(gray(cv::Rect(gray.cols / 4, gray.rows / 4, gray.cols / 2, gray.rows / 2)))[0];
  const std::array<cv::Rect, 4> edges{cv::Rect(0, 0, gray.cols, 1), cv::Rect(0, gray.rows - 1, gray.cols, 1),
                                      cv::Rect(0, 0, 1, gray.rows), cv::Rect(gray.cols - 1, 0, 1, gray.rows)};
  if (std::ranges::count_if(edges, [&](const cv::Rect& e) { return cv::mean(gray(e))[0] < 0.85 * middle; }) < 2)
    return gray;
  // The sheet is looked for at about 256 px: its outline, not its writing, matters.
  const int longer = std::max(gray.cols, gray.rows);
  const int factor = std::max(1, longer / 256);
  const cv::Mat small = glance(gray, factor);
  cv::Mat smooth, scratch;
  cv::GaussianBlur(small, smooth, cv::Size(5, 5), 0);
  const double otsu = cv::threshold(smooth, scratch, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  auto outline = sheet_in(smooth > otsu, small > otsu);
  auto sheet = outline ? sheet_on_desk(small, smooth, outline->hull) : std::nullopt;
  // A sheet lit unevenly (a lamp on one side) can be cut by Otsu's level: lower the level until
  // the region is a sheet with the desk all around it, down to the darker side's mean.
  const double below = cv::mean(smooth, smooth <= otsu)[0];
  for (double level = otsu - 8; !sheet && level > below; level -= 8) {
    outline = sheet_in(smooth > level, small > level);
    if (outline) sheet = sheet_on_desk(small, smooth, outline->hull);
  }
  if (!sheet) return gray;
  // A shadow across the sheet leaves its shaded part below Otsu's level: lower the level, beyond
  // the shadow's edge only, down to the darker side's mean, and keep the lowest at which the
  // region is still a sheet on a desk (on the way, the shadow's soft edge can make it concave).
  if (const auto allowed = past_soft_sides(small, sheet->first, sheet->second, outline->corners)) {
    for (double level = otsu - 8; level > below; level -= 8) {
      const auto lower = sheet_in((smooth > level) & *allowed, small > level);
      if (!lower) continue;
      auto grown = sheet_on_desk(small, smooth, lower->hull, false);
      if (!grown) continue;
      sheet = std::move(grown);
    }
  }
  // Everything but the sheet, a little inside its edge (shaded, and bent in a photo), becomes
  // paper: the paper nearest to it, so that no step is left where the sheet ends, however unevenly
  // it is lit (one tone for all would be darker than a sunlit part and lighter than a shaded one,
  // and either step would read as ink).
  const cv::Mat& page = sheet->first;
  cv::Mat inside;
  cv::erode(page, inside, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
  cv::Mat paper;  // the writing taken out: the small picture's strokes are a few pixels wide
  cv::morphologyEx(small, paper, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(7, 7)));
  cv::Mat nearest, scratch_distance;
  cv::distanceTransform(~inside, scratch_distance, nearest, cv::DIST_L2, cv::DIST_MASK_5, cv::DIST_LABEL_PIXEL);
  // Labels number the sheet's pixels in raster order, from 1.
  std::vector<std::uint8_t> tone{0};
  for (int y = 0; y < inside.rows; ++y)
    for (int x = 0; x < inside.cols; ++x)
      if (inside.at<std::uint8_t>(y, x) != 0) tone.push_back(paper.at<std::uint8_t>(y, x));
  cv::Mat filled(small.size(), CV_8U);
  for (int y = 0; y < filled.rows; ++y)
    for (int x = 0; x < filled.cols; ++x)
      filled.at<std::uint8_t>(y, x) = tone[static_cast<std::size_t>(nearest.at<int>(y, x))];
  inside = enlarge(inside, factor, gray.size(), cv::INTER_NEAREST);
  cv::Mat out = enlarge(filled, factor, gray.size(), cv::INTER_LINEAR).clone();
  gray.copyTo(out, inside);
  return out;
}

bool is_light_on_dark(const cv::Mat& gray) {
  const int shorter = std::min(gray.cols, gray.rows);
  // About 75 px on the shorter side: strokes are fainter there but still lean the same way. In a
  // photo (over 1000 px) the writing may be a line in one corner, a pixel tall at 75: 300 px.
  const bool photo = shorter >= 1000;
  const cv::Mat small = glance(gray, std::max(1, shorter / (photo ? 300 : 75)));
  // The surroundings (a median over a third of the picture) vary slowly: they are taken at a
  // quarter of that size and enlarged back, sixteen times fewer pixels to take medians over.
  const cv::Mat smaller = glance(small, 4);
  cv::Mat local;
  const int k = odd(std::clamp(std::min(smaller.cols, smaller.rows) / 3, 3, 99));
  cv::medianBlur(smaller, local, k);
  local = enlarge(local, 4, small.size(), cv::INTER_LINEAR);
  // In a photo (over 1000 px on its shorter side) writing is a small part of the picture, and
  // lit or shaded patches a third of it across depart from that median as much: ink departs from
  // its nearer surroundings too, as its strokes see them: what an opening (or closing) a twelfth
  // across takes away, being lighter (darker) than all around it and narrower than that. A lit
  // patch wider than a twelfth, beside a shadow across the sheet, departs nowhere, not even along
  // the shadow's edge (where a median over a twelfth is half shade: desk photos framed in 4000x3000
  // read light on dark). Not in smaller pictures, which the writing may fill: there a twelfth can
  // lie within a bold stroke (photo 97.8 -> 97.2% in bench-segment, with a median).
  // (Their own buffers: written into `local`'s, they would overwrite it.)
  cv::Mat opened, closed;
  if (photo) {
    const int n = odd(std::max(3, std::min(small.cols, small.rows) / 12));
    const cv::Mat square = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(n, n));
    cv::morphologyEx(small, opened, cv::MORPH_OPEN, square);
    cv::morphologyEx(small, closed, cv::MORPH_CLOSE, square);
  } else {
    opened = closed = local;
  }
  // Ink is the minority that departs strongly from its surroundings; which way it departs
  // is the polarity. Small departures (noise, gradients) are ignored.
  constexpr int margin = 10;
  double darker = 0, lighter = 0;
  for (int y = 0; y < small.rows; ++y) {
    const auto* s = small.ptr<std::uint8_t>(y);
    const auto* l = local.ptr<std::uint8_t>(y);
    const auto* o = opened.ptr<std::uint8_t>(y);
    const auto* c = closed.ptr<std::uint8_t>(y);
    for (int x = 0; x < small.cols; ++x) {
      const int far = s[x] - l[x];
      const int d = far > 0 ? std::max(0, std::min(far, s[x] - o[x])) : std::min(0, std::max(far, s[x] - c[x]));
      if (d > margin) lighter += d - margin;
      if (-d > margin) darker += -d - margin;
    }
  }
  // A fine pen in a photo may not show at all at this size: then the paper's grain and light
  // decide, by a hair either way. Dark writing on paper is far the commoner: light ink must
  // clearly outweigh it there (chalk on a board photographed whole: no darker departure at all).
  return lighter > (photo ? 2 : 1) * darker;
}

cv::Mat ink_map(const cv::Mat& gray, bool light_on_dark, cv::Mat* paper_level) {
  cv::Mat src;
  if (light_on_dark)
    cv::bitwise_not(gray, src);
  else
    src = gray;
  const int shorter = std::min(src.cols, src.rows);
  const int factor = shorter >= 200 ? 4 : shorter >= 60 ? 2 : 1;
  const cv::Mat small = shrink(src, factor);
  // The closing must be wider than any stroke: a quarter of the shorter side is, for writing
  // that fills the picture as much as for a page.
  const int k = odd(std::max(3, std::clamp(shorter / 4, 15, 301) / factor));
  cv::Mat background;
  cv::morphologyEx(small, background, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
  cv::blur(background, background, cv::Size(odd(k / 2), odd(k / 2)));
  background = enlarge(background, factor, src.size(), cv::INTER_LINEAR);
  cv::max(background, 1, background);
  if (paper_level != nullptr) *paper_level = background;
  cv::Mat paper;
  cv::divide(src, background, paper, 255.0);  // 255 where the paper is, whatever the lighting
  cv::Mat ink;
  cv::bitwise_not(paper, ink);
  return ink;
}

namespace {

// Digits shorter than this are read at twice their size (bench-segment at 1000 per class: touching
// 93.6 -> 94.5%, grid 94.3 -> 95.8%, only the pen class an image worse; 26 or 40 gained less).
constexpr double small_height = 32;

// Digits at least this tall, in strokes at least this wide, read as well at that size as larger:
// the crop is 20 px, seams are looked for at most 96 px tall, and a stroke of four pixels keeps
// its shape. (At 48 px, bench-segment's touching and photo classes lost a few images in 1000.)
constexpr double comfortable_height = 56, comfortable_stroke = 4;

// Rules and grid lines span the page; without such a blob there is no line to look for.
bool spans_page(const cv::Rect& box, const cv::Size& page) {
  return box.width >= page.width / 2 || box.height >= 3 * page.height / 4;
}

}  // namespace

int writing_reduction(const cv::Mat& gray, bool light_on_dark) {
  constexpr int glance_factor = 4;
  if (std::min(gray.cols, gray.rows) < 2 * comfortable_height) return 1;  // no room for large digits
  const cv::Mat small = glance(gray, glance_factor);
  std::vector<Blob> blobs;
  const cv::Mat mask = binarise(ink_map(small, light_on_dark), &blobs);
  // Rules and grids are not taken out at a glance: leave them, and the digits touching them, aside.
  // Nor is what the frame cuts any guide to the writing's size: where a shadow's edge meets the
  // frame, a tall dark band would pass for large digits, and small writing be shrunk away.
  std::erase_if(blobs, [&](const Blob& b) { return spans_page(b.box, small.size()) || touches_frame(b.box, small.size()); });
  // A fine pen's strokes are faint or gone at a glance, and every stroke is about 1.5 px wider
  // there than it is (the glance is blurred): too thin, or digits too short, to shrink.
  const double height = glance_factor * typical_height(blobs, small.size()),
               stroke = glance_factor * (stroke_width(mask) - 1.5);
  for (const int f : {4, 2})
    if (height >= f * comfortable_height && stroke >= f * comfortable_stroke) return f;
  return 1;
}

// --- step 3 --------------------------------------------------------------------------------------

namespace {

PaperNoise paper_noise(const cv::Mat& smooth) {
  const auto hist = histogram(smooth);
  const int median = percentile(hist, 0.5);
  return {median, std::max(1, percentile(hist, 0.75) - median) / 0.674};
}

// Ink must stand out of the paper's noise and be at least ~16% darker than the paper. Ink half as
// bright as the paper always is ink: where ink covers more than a quarter of the picture (a tight
// crop of digits) the percentiles measure the ink, not the paper's noise.
constexpr double lowest_floor = 40, highest_floor = 128;
double noise_floor(const PaperNoise& noise) {
  return std::min(highest_floor, std::max(lowest_floor, noise.median + 6 * noise.sigma));
}

// The floor the noise sets in `map` (an ink map, smoothed), pixel by pixel where the paper is lit
// unevenly: a sensor's noise is about as strong all over a photo, but the ink map divides by the
// paper's level, so the noise in it is stronger where the paper is darker (a vignette, a shadow),
// weaker where it is lit. Measured on the map (as float) times `lit` (the paper's level over its
// mean), where it is even, its spread times `scale`.
cv::Mat noise_floor(const cv::Mat& map_f, const cv::Mat& lit, double scale) {
  cv::Mat even;
  cv::Mat(map_f.mul(lit)).convertTo(even, CV_8U);
  const PaperNoise noise = paper_noise(even);
  cv::Mat floor = cv::Scalar::all(noise.median + 6 * scale * noise.sigma) / lit;
  cv::min(floor, highest_floor, floor);
  cv::max(floor, lowest_floor, floor);
  return floor;
}

}  // namespace

cv::Mat binarise(const cv::Mat& ink, std::vector<Blob>* blobs, cv::Mat* faint, const std::optional<PaperNoise>& noise,
                 PaperNoise* measured, const cv::Mat& paper_level) {
  cv::Mat smooth;
  cv::GaussianBlur(ink, smooth, cv::Size(3, 3), 0);
  // Each measure can only overstate the noise: the map's own where its ink is much of it, the
  // one given (from the picture at its own size, where this map is it enlarged) never by the
  // enlargement's coarser grain. The lower is the nearer.
  const PaperNoise own = paper_noise(smooth);
  const auto [median, sigma] = noise && noise->sigma < own.sigma ? *noise : own;
  if (measured != nullptr) *measured = {median, sigma};
  const double floor = noise_floor({median, sigma});
  cv::Mat scratch;
  const double otsu = cv::threshold(smooth, scratch, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  const double high = std::max(otsu, floor);
  const double low = std::max(0.5 * high, std::min(floor, 25.0 + median));
  // Faint rules can fall below even the low threshold between the digits they touch.
  if (faint != nullptr) *faint = smooth > std::max(median + 3 * sigma, 0.75 * low);
  cv::Mat weak, confident;  // confident: above `high`, unless set here
  if (floor <= otsu) {
    weak = smooth > low;
  } else {
    // The noise sets the level: it does so pixel by pixel, following the paper's light.
    cv::Mat lit(smooth.size(), CV_32F, cv::Scalar(1.0));
    if (!paper_level.empty()) paper_level.convertTo(lit, CV_32F, 1.0 / std::max(1.0, cv::mean(paper_level)[0]));
    // Enlarged, the noise's grain is coarser than the smoothing and would pass for stronger: the
    // given measure (at the picture's own size) corrects it.
    const double scale = sigma / own.sigma;
    cv::Mat smooth_f;
    smooth.convertTo(smooth_f, CV_32F);
    const cv::Mat floors = noise_floor(smooth_f, lit, scale);
    cv::Mat highs, lows;
    cv::max(floors, otsu, highs);
    cv::min(floors, 25.0 + median, lows);
    cv::max(lows, 0.5 * highs, lows);
    weak = smooth_f > lows;
    confident = smooth_f > highs;
    // Three float planes fewer while the smoother map is measured: a 40 MP canvas, read again at
    // twice the working size, held eight of them at once here (420 MB of heap at its peak).
    smooth_f.release();
    highs.release();
    lows.release();
    // A faint stroke is coherent and the grain is not: smoothed a little more, the grain's
    // spread falls and the stroke's level stays, so a stroke standing 6 deviations out of that
    // map's noise is ink too, though under the floor here (a faint 6 beside bolder digits was
    // lost whole).
    cv::Mat smoother, smoother_f;
    cv::GaussianBlur(ink, smoother, cv::Size(0, 0), 1.0);
    smoother.convertTo(smoother_f, CV_32F);
    cv::Mat levels = noise_floor(smoother_f, lit, scale);
    const cv::Mat lower = levels < floors;
    cv::max(levels, otsu, levels);
    confident |= (smoother_f > levels) & lower;
  }
  cv::Mat labels;
  const int n = cv::connectedComponents(weak, labels, 8, CV_32S);
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n), 0);
  const int strong = static_cast<int>(std::floor(high));  // s > high exactly when s > floor(high)
  // Most of a page is paper: both passes below skip, eight pixels at a time, where the weak mask
  // (and so every label) is 0.
  const auto for_weak = [&](int y, auto&& visit) {
    const auto* w = weak.ptr<std::uint8_t>(y);
    int x = 0;
    for (; x + 8 <= weak.cols; x += 8) {
      std::uint64_t eight = 0;
      std::memcpy(&eight, w + x, sizeof eight);
      if (eight == 0) continue;
      for (int k = x; k < x + 8; ++k)
        if (w[k] != 0) visit(k);
    }
    for (; x < weak.cols; ++x)
      if (w[x] != 0) visit(x);
  };
  for (int y = 0; y < smooth.rows; ++y) {
    const auto* s = smooth.ptr<std::uint8_t>(y);
    const auto* l = labels.ptr<int>(y);
    const auto* c = confident.empty() ? nullptr : confident.ptr<std::uint8_t>(y);
    for_weak(y, [&](int x) {
      if (c != nullptr ? c[x] != 0 : s[x] > strong) keep[static_cast<std::size_t>(l[x])] = 255;
    });
  }
  keep[0] = 0;
  cv::Mat mask = cv::Mat::zeros(smooth.size(), CV_8U);
  // The kept components are the mask's components, in the same (raster) order.
  std::vector<Extent> ext(blobs != nullptr ? keep.size() : 0);
  for (int y = 0; y < mask.rows; ++y) {
    auto* m = mask.ptr<std::uint8_t>(y);
    const auto* l = labels.ptr<int>(y);
    for_weak(y, [&](int x) {
      const auto label = static_cast<std::size_t>(l[x]);
      m[x] = keep[label];
      if (blobs != nullptr && keep[label] != 0) ext[label].add(x, y);
    });
  }
  if (blobs != nullptr) {
    blobs->clear();
    for (std::size_t i = 1; i < ext.size(); ++i)
      if (keep[i] != 0) blobs->push_back(blob_of(labels, ext[i].box(), static_cast<int>(i)));
  }
  return mask;
}

int remove_straight_lines(cv::Mat& mask, const cv::Mat& faint) {
  const cv::Mat& drawn = faint.empty() ? mask : faint;
  cv::Mat labels;
  // Most pictures hold no rule: at half the size (no line broken: a pixel is ink if any of its
  // four was) the labels cost a quarter, and tell whether to look at full size.
  if (drawn.cols >= 64 && drawn.rows >= 64) {
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
  const auto lines = page_lines(candidates);
  erase_lines(mask, drawn, lines, true);
  erase_lines(mask, drawn, lines, false);
  return static_cast<int>(lines.size());
}

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
std::optional<Segment> frame_side(const cv::Mat& m, bool horizontal, bool far) {
  const cv::Mat t = horizontal ? cv::Mat(m.t()) : m;  // rows along the side
  const int band = std::max({3, t.cols / 8, t.rows / 12});  // t.rows / 12: a side leaning 5 degrees
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
  if (middles.size() < 0.8 * t.rows) return std::nullopt;
  return line_through(middles, t.rows, horizontal);
}

// The lines parting a row of boxes (a form's comb field) framed by `m` (a blob's mask): thin lines
// across its whole height (its whole width when `horizontal`), in the blob's pixels.
std::vector<Segment> parting_lines(const cv::Mat& m, bool horizontal) {
  const cv::Mat along = horizontal ? cv::Mat(m.t()) : m;
  // Widened by how far a line leaning 5 degrees drifts, so that it still covers its columns.
  const int lean = std::max(3, along.rows / 12);
  cv::Mat near;
  cv::dilate(along, near, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(lean, 1)));
  const int band = std::max(3, along.cols / 8);
  std::vector<Segment> out;
  for (int x = band; x < along.cols - band;) {
    int end = x;
    while (end < along.cols - band && cv::countNonZero(near.col(end)) >= 0.8 * along.rows) ++end;
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
      if (middles.size() >= 0.5 * along.rows)
        if (auto line = line_through(middles, along.rows, horizontal)) out.push_back(*line);
    }
    x = std::max(x + 1, end);
  }
  return out;
}

}  // namespace

int remove_frames(cv::Mat& mask, const std::vector<Blob>& blobs) {
  std::vector<Segment> lines;
  for (const auto& b : blobs) {
    // A grid runs out of the picture; a box drawn on the page lies within it.
    if (b.box.width < 16 || b.box.height < 16 || touches_frame(b.box, mask.size())) continue;
    std::vector<Segment> sides;
    for (const bool horizontal : {false, true})
      for (const bool far : {false, true})
        if (auto side = frame_side(b.mask, horizontal, far)) sides.push_back(*side);
    if (sides.size() < 3) continue;
    // A row of boxes (a form's comb field): the lines parting them run its whole height too.
    for (const bool horizontal : {false, true}) std::ranges::copy(parting_lines(b.mask, horizontal), std::back_inserter(sides));
    for (auto s : sides) {
      s.a += b.box.tl();
      s.b += b.box.tl();
      lines.push_back(s);
    }
  }
  erase_lines(mask, mask, lines, true);
  erase_lines(mask, mask, lines, false);
  return static_cast<int>(lines.size());
}

// --- step 4 --------------------------------------------------------------------------------------

std::vector<Blob> find_blobs(const cv::Mat& mask) {
  cv::Mat labels;
  const auto boxes = label_components(mask, labels);
  std::vector<Blob> blobs;
  blobs.reserve(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i)
    blobs.push_back(blob_of(labels, boxes[i], static_cast<int>(i) + 1));
  return blobs;
}

double typical_height(const std::vector<Blob>& blobs, const cv::Size& picture) {
  // What the frame cuts (a desk's edge, a scanner's dark border, a neighbour's stroke) is no
  // guide to the digits' size, unless nothing else is there (a tight crop).
  const auto at_frame = [&](const Blob& b) { return !picture.empty() && touches_frame(b.box, picture); };
  const bool inside_any = !std::ranges::all_of(blobs, at_frame);
  std::vector<std::pair<int, int>> height_area;
  long total = 0;
  for (const auto& b : blobs) {
    const int h = b.box.height, w = b.box.width;
    if (h < 4 || w > 10 * h || h > 25 * w) continue;  // specks and line-shaped marks (chains of touching digits count)
    if (inside_any && at_frame(b)) continue;
    const int area = cv::countNonZero(b.mask);
    height_area.emplace_back(h, area);
    total += area;
  }
  if (height_area.empty()) return 0;
  std::ranges::sort(height_area);
  long seen = 0;
  for (const auto& [h, area] : height_area) {
    seen += area;
    if (2 * seen >= total) return h;
  }
  return height_area.back().first;
}

std::vector<Blob> merge_pieces(std::vector<Blob> blobs, double height) {
  if (height <= 0) return blobs;
  for (bool changed = true; changed;) {
    changed = false;
    std::ranges::sort(blobs, [](const Blob& a, const Blob& b) { return a.box.area() < b.box.area(); });
    for (std::size_t i = 0; i < blobs.size() && !changed; ++i) {
      const cv::Rect piece = blobs[i].box;
      if (piece.height >= 0.75 * height || std::max(piece.width, piece.height) < 0.15 * height) continue;
      std::size_t best = blobs.size();
      long best_growth = 0;
      for (std::size_t j = 0; j < blobs.size(); ++j) {
        if (j == i) continue;
        const cv::Rect host = blobs[j].box;
        const cv::Rect both = piece | host;
        const cv::Rect widened(host.x - static_cast<int>(0.1 * height), host.y,
                               host.width + static_cast<int>(0.2 * height), host.height);
        const bool above_or_below = horizontal_overlap(piece, widened) >= piece.width / 2;
        // A 5's flag, written as a stroke of its own, sets off rightwards from the top of the
        // belly: a flat piece level with the host's top, from its right part on, a little apart.
        const bool flag = piece.width >= 1.5 * piece.height && piece.y + piece.height <= host.y + 0.4 * host.height &&
                          piece.x >= host.x + host.width / 3 && -horizontal_overlap(piece, host) <= 0.3 * height;
        // The pieces' union may be taller than a typical digit (a 5's bar above its belly) or
        // wider (a wide 5), but not by as much as two digits or two lines would make it.
        const bool digit_sized = both.height <= 1.5 * height && both.width <= 1.4 * std::max<double>(height, host.height);
        const bool close = vertical_gap(piece, host) <= 0.35 * height;
        if (!((above_or_below || flag) && digit_sized && close)) continue;
        const long growth = static_cast<long>(both.area()) - host.area();
        if (best == blobs.size() || growth < best_growth) best = j, best_growth = growth;
      }
      if (best == blobs.size()) continue;
      blobs[best] = joined(blobs[best], blobs[i]);
      blobs.erase(blobs.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
    }
  }
  return blobs;
}

std::vector<Blob> drop_marks(std::vector<Blob> blobs, double height) {
  constexpr int min_digit_height = 8;  // working pixels; smaller is not legible
  std::erase_if(blobs, [&](const Blob& b) {
    const int h = b.box.height, w = b.box.width;
    if (h < min_digit_height || h < 0.4 * height) return true;        // specks, dots, dashes
    if (w > 2.5 * h && h < 0.5 * height) return true;                // underlines, minus signs
    if (h > 2.5 * height && height > 0) return true;                  // blots and shadows
    const double fill = static_cast<double>(cv::countNonZero(b.mask)) / b.box.area();
    // Solid patches, not strokes. A digit in a thick marker, its loops closed, fills up to ~90%
    // of its box: 0.85 dropped some.
    return fill > 0.92 && w > 0.5 * h && h > 0.5 * height;
  });
  return blobs;
}

std::vector<Blob> drop_frame_bands(std::vector<Blob> blobs, const cv::Size& picture, double height) {
  std::erase_if(blobs, [&](const Blob& b) {
    const cv::Rect& r = b.box;
    const FrameSides at = frame_sides(r, picture);
    // In a picture many digits long, three digits' length along the frame is band enough: no
    // digit is that long.
    const auto long_along = [&](int length, int side) { return length >= std::max(std::min(side / 2.0, 3 * height), 1.5 * height); };
    const bool along_side = (at.left != at.right) && long_along(r.height, picture.height);
    const bool along_edge = (at.top != at.bottom) && long_along(r.width, picture.width);
    return along_side || along_edge;
  });
  return blobs;
}

std::vector<Blob> drop_slivers(std::vector<Blob> blobs, const cv::Size& picture, bool lined) {
  const auto suspect = [&](const cv::Rect& r) {
    const bool elongated = std::max(r.width, r.height) >= 4 * std::min(r.width, r.height);
    return elongated && (lined || touches_frame(r, picture));
  };
  if (std::ranges::none_of(blobs, [&](const Blob& b) { return suspect(b.box); })) return blobs;
  std::vector<double> strokes;
  for (const auto& b : blobs)
    if (!suspect(b.box)) strokes.push_back(stroke_width(b.mask));
  if (strokes.empty()) return blobs;  // nothing to compare with: a tight crop of a 1 is a 1
  const auto middle = strokes.begin() + static_cast<std::ptrdiff_t>(strokes.size() / 2);
  std::ranges::nth_element(strokes, middle);
  const double stroke = *middle;
  std::erase_if(blobs, [&](const Blob& b) { return suspect(b.box) && stroke_width(b.mask) < 0.6 * stroke; });
  return blobs;
}

// --- step 5 --------------------------------------------------------------------------------------

namespace {

// The slope most of the page's writing follows: the one at which the most pairs of full-height
// neighbours (within four digit heights of each other) lie level, each pair counting less the
// further it is off level. A line's first digit has no slope of its own, and on a steep line (a
// photo turned by 10 degrees, writing that climbs) its second digit could be out of its reach at
// slope 0 and start a line of its own.
double page_slope(const std::vector<Blob>& blobs, double height) {
  // `blobs` are in order of their middles' abscissae.
  std::vector<cv::Point2d> pairs;  // (dx, dy) of each pair
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    if (!TextLine::full_height(blobs[i], height)) continue;
    for (std::size_t j = i + 1; j < blobs.size(); ++j) {
      const double dx = TextLine::cx(blobs[j]) - TextLine::cx(blobs[i]);
      if (dx > 4 * height) break;
      if (!TextLine::full_height(blobs[j], height) || dx <= 0) continue;
      pairs.emplace_back(dx, TextLine::cy(blobs[j]) - TextLine::cy(blobs[i]));
    }
  }
  const double spread = 0.15 * height;
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
  for (int step = 1; step <= static_cast<int>(std::lround(max_slope * 100)); ++step)
    for (const double slope : {step / 100.0, -step / 100.0})
      if (const double l = level(slope); l > best_level + 1e-9) best = slope, best_level = l;
  return best;
}

}  // namespace

std::vector<std::vector<Blob>> group_lines(std::vector<Blob> blobs, double height) {
  std::ranges::sort(blobs, [](const Blob& a, const Blob& b) { return TextLine::cx(a) < TextLine::cx(b); });
  const double slope_of_page = page_slope(blobs, height);
  std::vector<TextLine> lines;
  for (auto& blob : blobs) {
    const double tolerance = 0.5 * std::max<double>(height, blob.box.height);
    TextLine* best = nullptr;
    double best_distance = tolerance;
    for (auto& line : lines) {
      const double distance = std::abs(TextLine::cy(blob) - line.predict(TextLine::cx(blob)));
      if (distance < best_distance) best_distance = distance, best = &line;
    }
    if (best)
      best->members.push_back(std::move(blob));
    else
      lines.push_back({{std::move(blob)}, height, slope_of_page});
  }
  // Order lines by their height at a common abscissa, so a slanted page still reads top down.
  double x_mid = 0, slope_sum = 0;
  std::size_t count = 0, sloped = 0;
  for (const auto& line : lines) {
    for (const auto& b : line.members) x_mid += TextLine::cx(b), ++count;
    if (line.members.size() >= 3) slope_sum += line.slope(), ++sloped;
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

// --- everything ----------------------------------------------------------------------------------

namespace {

Box original_box(const cv::Rect& r, double scale, const cv::Size& original) {
  const int x0 = std::clamp(static_cast<int>(std::floor(r.x / scale)), 0, original.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(r.y / scale)), 0, original.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil((r.x + r.width) / scale)), x0 + 1, original.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil((r.y + r.height) / scale)), y0 + 1, original.height);
  return {x0, y0, x1 - x0, y1 - y0};
}

// The digits' blobs in a picture (polarity as given), the ink map they were found in and their
// typical height: steps 2 to 4 up to grouping.
struct Found {
  cv::Mat ink;
  std::vector<Blob> blobs;
  double height = 0;
  PaperNoise noise;  // binarise's
};

// `noise`: the paper's noise, when it is known from the same picture at its own size.
Found find_digits(const cv::Mat& picture, bool light_on_dark, const std::optional<PaperNoise>& noise = std::nullopt) {
  Found found;
  cv::Mat paper_level;
  found.ink = ink_map(picture, light_on_dark, &paper_level);
  std::vector<Blob>& blobs = found.blobs;
  cv::Mat faint;
  cv::Mat mask = binarise(found.ink, &blobs, &faint, noise, &found.noise, paper_level);
  // Boxes drawn around digits (a form's fields) would pass for 0s and hide the digits inside.
  int removed = remove_frames(mask, blobs);
  if (removed > 0) blobs = find_blobs(mask);
  // A dense grid can hide some of its lines from the first search (the strongest are found
  // first): look again while ink still spans the page.
  for (int pass = 0; pass < 3; ++pass) {
    if (std::ranges::none_of(blobs, [&](const Blob& b) { return spans_page(b.box, mask.size()); })) break;
    const int lines = remove_straight_lines(mask);
    if (lines == 0) break;
    removed += lines;
    blobs = find_blobs(mask);
  }
  // A faint rule is in the mask only where it touches the digits written on it, in pieces too
  // short to be found: look for it where it is whole, at a lower level.
  if (const int lines = remove_straight_lines(mask, faint); lines > 0) {
    removed += lines;
    blobs = find_blobs(mask);
  }
  found.height = typical_height(blobs, mask.size());
  blobs = merge_pieces(std::move(blobs), found.height);
  blobs = drop_marks(std::move(blobs), found.height);
  blobs = drop_frame_bands(std::move(blobs), mask.size(), found.height);
  blobs = drop_slivers(std::move(blobs), mask.size(), removed > 0);
  return found;
}

}  // namespace

namespace {

// Where the small writing `found` in a picture of `size` lies: the blobs of about the digits'
// height (not a shadow's edge or the desk), with room around them for digits too faint to be found
// at this size, along the line most of all. Empty when that is more than a quarter of the picture.
cv::Rect writing_part(const Found& found, const cv::Size& size) {
  cv::Rect writing;
  for (const auto& blob : found.blobs)
    if (blob.box.height >= 0.5 * found.height && blob.box.height <= 2 * found.height)
      writing = writing.empty() ? blob.box : writing | blob.box;
  if (writing.empty()) return {};
  const int pad_x = static_cast<int>(std::ceil(6 * found.height)), pad_y = static_cast<int>(std::ceil(2 * found.height));
  writing = (writing - cv::Point(pad_x, pad_y) + cv::Size(2 * pad_x, 2 * pad_y)) & cv::Rect({}, size);
  return 4.0 * writing.area() <= static_cast<double>(size.area()) ? writing : cv::Rect();
}

// segment_image; `zoom`: small writing in a small part of a large picture may be read again from
// that part alone, from `decode_full` (the picture decoded at its full size, when `gray` is smaller)
// or else from `gray`.
ImageRecord segment_picture(const cv::Mat& gray, const SegmentOptions& options, Recogniser* judge, cv::Size full, bool zoom,
                            const std::function<cv::Mat()>& decode_full = {}) {
  if (gray.empty() || gray.type() != CV_8UC1) throw Error("segment_image needs a non-empty 8-bit grayscale image");
  if (full.empty()) full = gray.size();
  // The picture at its finest: a JPEG decoded smaller than it is holds finer strokes at full size.
  // Decoded once, when first asked for.
  std::optional<cv::Mat> full_decode;
  const auto finest = [&] {
    if (!decode_full || gray.size() == full) return gray;
    if (!full_decode) full_decode = decode_full();
    return full_decode->size() == full ? *full_decode : gray;
  };
  ImageRecord record;
  record.width = full.width;
  record.height = full.height;
  Working working = to_working_resolution(gray, options.working_side);
  working.scale *= static_cast<double>(gray.cols) / full.width;  // working = full * scale
  // A sheet photographed on a desk: the desk is no part of the writing (and, darker than the
  // sheet, would pass for the picture's background and the sheet for ink).
  const cv::Mat isolated = options.polarity == Polarity::light_on_dark ? working.image : isolate_page(working.image);
  const bool light_on_dark = options.polarity == Polarity::automatic ? is_light_on_dark(isolated)
                                                                     : options.polarity == Polarity::light_on_dark;
  // Large writing is read smaller: the same digits, a fraction of the pixels.
  const int reduction = writing_reduction(isolated, light_on_dark);
  const cv::Mat picture = shrink(isolated, reduction);
  working.scale /= reduction;
  Found found = find_digits(picture, light_on_dark);
  // Small writing is read again at twice its size: strokes that nearly meet (touching digits,
  // a loop almost closed) part in the enlarged ink's grey levels, and seams find room between them.
  const double enlarged_area = 4.0 * static_cast<double>(picture.total());
  const double working_area = static_cast<double>(options.working_side) * options.working_side;
  const bool small = found.height > 0 && found.height < small_height;
  if (small && enlarged_area <= working_area) {
    cv::Mat enlarged;
    cv::resize(picture, enlarged, cv::Size(picture.cols * 2, picture.rows * 2), 0, 0, cv::INTER_CUBIC);
    // With the paper's noise as measured at the picture's own size too: enlarged, the noise's
    // grain is as coarse as the light smoothing before thresholding, and measured there alone it
    // would pass for much stronger (a dim photo's small writing then fell below the floor).
    found = find_digits(enlarged, light_on_dark, found.noise);
    working.scale *= 2;
  } else if (small && zoom) {
    // A photo too large to enlarge whole, its writing small in a small part of it (a line on a
    // sheet photographed whole): that part alone has room to be enlarged, and more pixels to begin
    // with when the picture was larger than the working size.
    if (const cv::Rect writing = writing_part(found, picture.size()); !writing.empty()) {
      const cv::Mat source = finest();
      const double source_scale = static_cast<double>(source.cols) / full.width;  // source = full * source_scale
      const Box b = original_box(writing, working.scale / source_scale, source.size());
      const cv::Rect part(b.x, b.y, b.w, b.h);
      SegmentOptions within = options;
      // The part's polarity is the picture's: the part may hold little paper around the ink.
      within.polarity = light_on_dark ? Polarity::light_on_dark : Polarity::dark_on_light;
      ImageRecord zoomed = segment_picture(source(part), within, judge, part.size(), false);
      if (!zoomed.digits.empty()) {
        for (auto& digit : zoomed.digits) {
          const cv::Rect in_source(digit.box.x + part.x, digit.box.y + part.y, digit.box.w, digit.box.h);
          digit.box = original_box(in_source, source_scale, full);
        }
        record.digits = std::move(zoomed.digits);
        return record;
      }
    }
  }
  auto lines = group_lines(std::move(found.blobs), found.height);
  for (auto& line : lines) line = read_line(std::move(line), found.ink, judge);
  std::erase_if(lines, [](const std::vector<Blob>& line) { return line.empty(); });  // all noise
  for (std::size_t l = 0; l < lines.size(); ++l)
    for (const auto& blob : lines[l]) {
      DigitRecord digit;
      digit.box = original_box(blob.box, working.scale, full);
      digit.line = static_cast<int>(l);
      digit.pixels = digit_crop(found.ink, blob);
      record.digits.push_back(std::move(digit));
    }
  // Nothing at all in a photo much larger than the working size: writing too small or faint to
  // show there (a fine pen in one corner of a 12 MP photo) may show at twice that size.
  if (zoom && record.digits.empty() && std::max(full.width, full.height) >= 2 * options.working_side) {
    const cv::Mat source = finest();
    if (std::max(source.cols, source.rows) >= 2 * options.working_side) {
      SegmentOptions closer = options;
      closer.working_side = 2 * options.working_side;
      return segment_picture(source, closer, judge, full, false);
    }
  }
  return record;
}

}  // namespace

ImageRecord segment_image(const cv::Mat& gray, const SegmentOptions& options, Recogniser* judge, cv::Size full,
                          const std::function<cv::Mat()>& decode_full) {
  return segment_picture(gray, options, judge, full, true, decode_full);
}

ImageRecord segment_bytes(std::string_view bytes, const SegmentOptions& options, Recogniser* judge) {
  const Decoded decoded = decode_reduced(bytes, options.working_side, options.max_pixels);
  return segment_image(decoded.image, options, judge, decoded.full, [&] { return decode_image(bytes, options.max_pixels); });
}

}  // namespace digits
