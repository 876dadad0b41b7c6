#include "segment/page.hpp"

#include "segment/common.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace digits {

namespace {

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
std::optional<Outline> sheet_in(const cv::Mat& bright, const cv::Mat& sharp_bright, const PageTuning& tuning) {
  std::vector<std::vector<cv::Point>> outlines;
  cv::findContours(bright, outlines, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  if (outlines.empty()) return std::nullopt;
  const auto& outline = *std::ranges::max_element(outlines, {}, [](const auto& c) { return cv::contourArea(c); });
  std::vector<cv::Point> hull;
  cv::convexHull(outline, hull);
  const double image_area = static_cast<double>(bright.total());
  const double hull_area = cv::contourArea(hull);
  if (hull_area < tuning.min_sheet * image_area || hull_area > tuning.max_sheet * image_area) return std::nullopt;
  if (cv::contourArea(outline) < tuning.min_solidity * hull_area) return std::nullopt;
  // Mostly bright inside, too, before any blur (which fills small holes): writing covers a small
  // part of a sheet, and the outline of a bright ring (a large 0 drawn light on dark) is convex
  // as well.
  cv::Mat region = cv::Mat::zeros(bright.size(), CV_8U);
  cv::fillConvexPoly(region, hull, cv::Scalar(255));
  if (cv::countNonZero(sharp_bright & region) < tuning.min_bright * hull_area) return std::nullopt;
  std::vector<cv::Point> corners;
  cv::approxPolyDP(hull, corners, tuning.corner_tolerance * cv::arcLength(hull, true), true);
  if (corners.size() < 4 || corners.size() > tuning.max_corners) return std::nullopt;
  // A sheet has four corners, five where a side bends or a corner is folded; more lie only
  // where the frame cuts it. A bold rounded digit drawn light on dark (a 0 or an 8 filling the
  // picture) has seven or eight, all of them inside the frame.
  const auto inside_frame = [&](const cv::Point& p) { return !frame_sides({p, cv::Size(1, 1)}, bright.size()).any(); };
  if (std::ranges::count_if(corners, inside_frame) > tuning.max_inner_corners) return std::nullopt;
  if (frame_sides(cv::boundingRect(hull), bright.size()).count() > tuning.max_framed_sides) return std::nullopt;
  return Outline{std::move(hull), std::move(corners)};
}

// The sheet within `hull` (in `small`, and `smooth` that blurred) as a mask, and its paper's
// level, if around it lies a desk: much darker than the paper, across a sharp edge (`sharp`; a
// sheet grown into its own shadow has one soft side). Not a shadow or the fall of the light
// across the sheet, which stay paper (the ink map takes them out).
std::optional<std::pair<cv::Mat, double>> sheet_on_desk(const cv::Mat& small, const cv::Mat& smooth,
                                                        const std::vector<cv::Point>& hull, const PageTuning& tuning,
                                                        bool sharp = true) {
  cv::Mat page = cv::Mat::zeros(small.size(), CV_8U);
  cv::fillConvexPoly(page, hull, cv::Scalar(255));
  const double paper = cv::mean(smooth, page)[0];
  if (cv::mean(smooth, ~page)[0] > tuning.max_desk * paper) return std::nullopt;
  const cv::Mat near = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(tuning.edge_band, tuning.edge_band));
  cv::Mat shrunk, grown;
  cv::erode(page, shrunk, near);
  cv::dilate(page, grown, near);
  const double edge_inside = cv::mean(small, page & ~shrunk)[0], edge_outside = cv::mean(small, grown & ~page)[0];
  if (sharp && edge_inside - edge_outside < tuning.min_step * paper) return std::nullopt;
  return std::pair{page, paper};
}

// Where the sheet found in `page` (its outline's `corners`, paper at `paper`) may grow when a side
// of its outline is no step down to the desk but the edge of a shadow across the sheet, soft, or
// hard and running from one of the sheet's edges to another: anywhere but beyond its other sides
// (along which the desk's lighter grain lies). None without such a side.
std::optional<cv::Mat> past_soft_sides(const cv::Mat& small, const cv::Mat& page, double paper,
                                       const std::vector<cv::Point>& corners, const PageTuning& tuning) {
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
    const double probe_at = tuning.side_probe;
    const cv::Point probe(static_cast<int>(mid.x + probe_at * side.out.x), static_cast<int>(mid.y + probe_at * side.out.y));
    if (frame.contains(probe) && page.at<std::uint8_t>(probe) != 0) side.out = -side.out;
    side.inner = light_along(side.a - side.out * probe_at, side.b - side.out * probe_at);
    side.outer = light_along(side.a + side.out * probe_at, side.b + side.out * probe_at);
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
  const double reach = tuning.shadow_reach * (small.cols + small.rows);
  // Along a neighbouring edge past the corner: shaded paper as light as beyond the shadow's edge
  // (`shade`) on one side, the desk on the other (a streak of wood grain along the edge is no
  // paper: it is lighter than the desk beyond the darkest side).
  const auto runs_on = [&](const Side& s, cv::Point2d corner, cv::Point2d direction, double shade) {
    const cv::Point2d from = corner + direction * 6.0, to = corner + direction * (6.0 + reach);
    if (!frame.contains(cv::Point(to)) || !frame.contains(cv::Point(from))) return false;
    // The outline's corners are found in a blurred picture and can sit a few pixels inside the
    // sheet: look for the desk a little further out as well.
    const double inner = light_along(from - s.out * tuning.side_probe, to - s.out * tuning.side_probe);
    double outer = 255;
    for (const double d : {tuning.side_probe, tuning.side_probe + 3, tuning.side_probe + 6})
      if (const double l = light_along(from + s.out * d, to + s.out * d); l >= 0) outer = std::min(outer, l);
    return inner >= 0 && inner - outer >= tuning.shadow_step * paper && outer <= desk + tuning.desk_tolerance * paper &&
           std::abs(inner - shade) <= tuning.shade_tolerance * paper;
  };
  cv::Mat allowed(small.size(), CV_8U, cv::Scalar(255));
  bool soft = false;
  const double far = 4.0 * (small.cols + small.rows);
  for (std::size_t i = 0; i < sides.size(); ++i) {
    const Side& side = sides[i];
    if (side.framed) continue;
    const Side& before = sides[(i + sides.size() - 1) % sides.size()];
    const Side& after = sides[(i + 1) % sides.size()];
    const bool shadow = side.outer - desk >= tuning.shade_above_desk * paper && real(before) && real(after) &&
                        runs_on(before, side.a, before.along, side.outer) && runs_on(after, side.b, -after.along, side.outer);
    if (side.inner - side.outer < tuning.min_step * paper || shadow) {
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

cv::Mat isolate_page(const cv::Mat& gray, const PageTuning& tuning) {
  // A thumbnail is no photo of a desk, and a thick digit drawn light on dark in one (a bright 8
  // filling an MNIST image) would pass for a sheet, its background for the desk.
  if (std::min(gray.cols, gray.rows) <= tuning.thumbnail) return gray;
  // A desk shows on two sides of the frame at least, darker than the middle of the picture; most
  // pictures (scans, crops, drawings) are done with at this glance.
  const double middle = cv::mean(gray(cv::Rect(gray.cols / 4, gray.rows / 4, gray.cols / 2, gray.rows / 2)))[0];
  const std::array<cv::Rect, 4> edges{cv::Rect(0, 0, gray.cols, 1), cv::Rect(0, gray.rows - 1, gray.cols, 1),
                                      cv::Rect(0, 0, 1, gray.rows), cv::Rect(gray.cols - 1, 0, 1, gray.rows)};
  const auto darker = [&](const cv::Rect& e) { return cv::mean(gray(e))[0] < tuning.desk_edge * middle; };
  if (std::ranges::count_if(edges, darker) < tuning.desk_edges) return gray;
  // The sheet is looked for at about 256 px: its outline, not its writing, matters.
  const int longer = std::max(gray.cols, gray.rows);
  const int factor = std::max(1, longer / tuning.glance_side);
  const cv::Mat small = glance(gray, factor);
  cv::Mat smooth, scratch;
  cv::GaussianBlur(small, smooth, cv::Size(tuning.blur, tuning.blur), 0);
  const double otsu = cv::threshold(smooth, scratch, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  auto outline = sheet_in(smooth > otsu, small > otsu, tuning);
  auto sheet = outline ? sheet_on_desk(small, smooth, outline->hull, tuning) : std::nullopt;
  // A sheet lit unevenly (a lamp on one side) can be cut by Otsu's level: lower the level until
  // the region is a sheet with the desk all around it, down to the darker side's mean.
  const double below = cv::mean(smooth, smooth <= otsu)[0];
  for (double level = otsu - tuning.level_step; !sheet && level > below; level -= tuning.level_step) {
    outline = sheet_in(smooth > level, small > level, tuning);
    if (outline) sheet = sheet_on_desk(small, smooth, outline->hull, tuning);
  }
  if (!sheet) return gray;
  // A shadow across the sheet leaves its shaded part below Otsu's level: lower the level, beyond
  // the shadow's edge only, down to the darker side's mean, and keep the lowest at which the
  // region is still a sheet on a desk (on the way, the shadow's soft edge can make it concave).
  if (const auto allowed = past_soft_sides(small, sheet->first, sheet->second, outline->corners, tuning)) {
    for (double level = otsu - tuning.level_step; level > below; level -= tuning.level_step) {
      const auto lower = sheet_in((smooth > level) & *allowed, small > level, tuning);
      if (!lower) continue;
      auto grown = sheet_on_desk(small, smooth, lower->hull, tuning, false);
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
  cv::erode(page, inside, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(tuning.inset, tuning.inset)));
  cv::Mat paper;  // the writing taken out: the small picture's strokes are a few pixels wide
  const cv::Mat closing = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(tuning.paper_closing, tuning.paper_closing));
  cv::morphologyEx(small, paper, cv::MORPH_CLOSE, closing);
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

}  // namespace digits
