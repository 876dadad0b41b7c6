// digits-gen-images: composes test pictures from MNIST *test* digits, with the truth known by
// construction: IMAGE files plus truth.jsonl (one line per image: text, boxes and lines in reading
// order). Seeded: the same options give the same images. The tests, the benchmarks and
// examples/make-examples.sh make their pictures with it; it is installed for users to do the same.

#include "base/error.hpp"
#include "base/files.hpp"
#include "io/dataset.hpp"
#include "tool/cli.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/ximgproc.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

namespace {

using digits::Error;
namespace fs = std::filesystem;

const std::vector<std::string> classes{"clean", "touching", "photo", "multiline", "ruled", "grid",
                                       "inverted", "canvas", "desk", "pen", "dim", "pad"};
// New kinds go at the end: a kind's place in this list seeds its images.

// A photo of a sheet on a desk is a photo of the sheet with the desk around it; one in dim light
// has less contrast and more of the sensor's noise.
bool photo_like(const std::string& kind) { return kind == "photo" || kind == "desk" || kind == "pen" || kind == "dim"; }

struct Options {
  std::string mnist = "data/mnist";
  std::string out;
  std::string kind = "clean";
  int count = 10;
  unsigned seed = 1;
  int width = 0, height = 0, digits = 0;  // fixed canvas and digit count (0: random)
  std::vector<int> frame;                  // width, height: the writing at its usual size somewhere in it
};

class Random {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng_); }
  bool chance(double p) { return uniform(0, 1) < p; }
  double normal(double sigma) { return std::normal_distribution<double>(0, sigma)(rng_); }
  std::mt19937_64& engine() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

struct Digit {
  int label = 0;
  cv::Mat patch;     // CV_32F ink 0..1, cropped to the digit
  cv::Point2d at;    // top-left in layout coordinates
  int line = 0;
  cv::Rect truth;    // in the final image
};

// One MNIST test digit, cropped to its ink and scaled to `height` pixels, optionally bolder or thinner.
cv::Mat digit_patch(const digits::Split& test, std::size_t index, double height, int weight) {
  const auto pixels = test.images.image(index);
  const cv::Mat img(static_cast<int>(test.images.rows), static_cast<int>(test.images.cols), CV_8U,
                    const_cast<std::uint8_t*>(pixels.data()));
  std::vector<cv::Point> points;
  cv::findNonZero(img > 30, points);
  const cv::Mat tight = img(cv::boundingRect(points));
  const double scale = height / tight.rows;
  cv::Mat big;
  cv::resize(tight, big, cv::Size(std::max(1, static_cast<int>(std::lround(tight.cols * scale))),
                                  std::max(1, static_cast<int>(std::lround(height)))),
             0, 0, cv::INTER_CUBIC);
  cv::Mat f;
  big.convertTo(f, CV_32F, 1.0 / 255);
  cv::threshold(f, f, 1.0, 1.0, cv::THRESH_TRUNC);
  cv::threshold(f, f, 0.0, 0.0, cv::THRESH_TOZERO);
  const int radius = static_cast<int>(std::lround(height / 40.0));
  if (weight != 0 && radius > 0) {
    const cv::Mat disc = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1));
    cv::Mat padded;
    cv::copyMakeBorder(f, padded, radius, radius, radius, radius, cv::BORDER_CONSTANT, 0);
    if (weight > 0)
      cv::dilate(padded, f, disc);
    else
      cv::erode(padded, f, disc);
  }
  return f;
}

// The digit of `patch` (ink 0..1) redrawn as a ballpoint or fineliner would write it: a stroke of
// even width along its skeleton, `width` pixels wide however thick MNIST's pen was.
cv::Mat pen_patch(const cv::Mat& patch, double width) {
  // Drawn at a size where the skeleton is smooth and the pen several pixels wide, then shrunk
  // by area, so a pen under two pixels is anti-aliased as a camera would see it.
  const int up = std::max(1, static_cast<int>(std::ceil(160.0 / patch.rows)));
  // The patch is cropped to the ink: with no margin, thinning runs strokes along its edges.
  const int pad = 2 * up;
  cv::Mat big;
  cv::resize(patch, big, patch.size() * up, 0, 0, cv::INTER_CUBIC);
  cv::copyMakeBorder(big, big, pad, pad, pad, pad, cv::BORDER_CONSTANT, 0);
  cv::Mat skeleton;
  cv::ximgproc::thinning(big > 0.4f, skeleton);
  skeleton = skeleton(cv::Rect(pad, pad, patch.cols * up, patch.rows * up));
  const int d = std::max(1, static_cast<int>(std::lround(width * up)));
  cv::Mat stroke;
  cv::dilate(skeleton, stroke, cv::getStructuringElement(cv::MORPH_ELLIPSE, {d, d}));
  stroke.convertTo(stroke, CV_32F, 1.0 / 255);
  cv::GaussianBlur(stroke, stroke, cv::Size(0, 0), 0.3 * up);
  cv::Mat out;
  cv::resize(stroke, out, patch.size(), 0, 0, cv::INTER_AREA);
  return out;
}

// Per row of the patch, the first and last column with ink (-1 when none).
std::vector<std::pair<int, int>> row_extents(const cv::Mat& patch) {
  std::vector<std::pair<int, int>> rows(static_cast<std::size_t>(patch.rows), {-1, -1});
  for (int y = 0; y < patch.rows; ++y)
    for (int x = 0; x < patch.cols; ++x)
      if (patch.at<float>(y, x) > 0.3f) {
        auto& r = rows[static_cast<std::size_t>(y)];
        if (r.first < 0) r.first = x;
        r.second = x;
      }
  return rows;
}

// The x at which `right` (top at right_y) first touches `left` when slid in from the right:
// the largest x at which some row of the two has ink side by side.
double touching_x(const Digit& left, const cv::Mat& right, double right_y) {
  const auto l = row_extents(left.patch), r = row_extents(right);
  double best = left.at.x + left.patch.cols;
  bool any = false;
  for (int y = 0; y < right.rows; ++y) {
    const int ly = static_cast<int>(std::lround(right_y + y - left.at.y));
    if (ly < 0 || ly >= left.patch.rows) continue;
    const auto& a = l[static_cast<std::size_t>(ly)];
    const auto& b = r[static_cast<std::size_t>(y)];
    if (a.first < 0 || b.first < 0) continue;
    const double x = left.at.x + a.second + 1 - b.first;
    best = any ? std::max(best, x) : x;
    any = true;
  }
  return best;
}

struct Scene {
  std::vector<Digit> digits;
  cv::Size size;
  double height = 0;  // typical digit height
  double pitch = 0;   // line pitch
  double top = 0;     // first line's top
};

Scene layout(const Options& o, const digits::Split& test, Random& rnd) {
  Scene s;
  const std::string& k = o.kind;
  const int lines = k == "multiline" ? rnd.integer(2, 4) : (k == "ruled" || k == "grid") ? rnd.integer(1, 3) : 1;
  const double lo = photo_like(k) ? 25 : k == "touching" ? 20 : k == "pad" ? 60 : 15,
               hi = k == "canvas" || k == "pad" ? 120 : 150;
  s.height = o.height > 0 ? rnd.uniform(0.3, 0.55) * o.height : std::exp(rnd.uniform(std::log(lo), std::log(hi)));
  const double h = s.height;
  s.pitch = h * rnd.uniform(1.5, 2.1);
  const double margin_x = h * rnd.uniform(0.3, 1.2), margin_y = h * rnd.uniform(0.3, 1.0);
  s.top = margin_y;
  double widest = 0;
  std::uniform_int_distribution<std::size_t> pick(0, test.count() - 1);
  // The page's drawing pad: its round pen is 22 pixels wide by default on a pad 320 high, where a
  // digit drawn with a mouse is 100-200 tall: a pen 8-15% of the digit's height.
  const double pen_width = k == "pen" ? rnd.uniform(0.025, 0.05) : k == "pad" ? rnd.uniform(0.08, 0.15) : 0;
  for (int line = 0; line < lines; ++line) {
    const int n = o.digits > 0 ? o.digits
                  : k == "canvas" || k == "pad" ? rnd.integer(1, 3)
                  : k == "touching" ? rnd.integer(2, 6)
                  : k == "multiline" ? rnd.integer(1, 7)
                                     : rnd.integer(1, 10);
    const double slope = photo_like(k) ? rnd.uniform(-0.05, 0.05) : 0;
    double x = margin_x + (k == "multiline" ? rnd.uniform(0, 2 * h) : 0);
    const double base = s.top + line * s.pitch + h;  // baseline
    const std::size_t first = s.digits.size();
    // In the touching class at least one pair touches; others may.
    const int forced = rnd.integer(1, std::max(1, n - 1));
    for (int i = 0; i < n; ++i) {
      Digit d;
      const std::size_t index = pick(rnd.engine());
      d.label = test.labels.labels[index];
      const double dh = h * rnd.uniform(0.88, 1.12);
      const int weight = photo_like(k) ? rnd.integer(-1, 1) : 0;
      d.patch = digit_patch(test, index, dh, k == "pen" || k == "pad" ? 0 : weight);
      // One pen for the whole page: 2.5-5% of the digits' height, never under 1.2 pixels.
      if (k == "pen") d.patch = pen_patch(d.patch, std::max(1.2, pen_width * h));
      if (k == "pad") {  // a wide pen reaches past MNIST's ink: room for it around the digit
        const int room = static_cast<int>(std::ceil(pen_width * h / 2));
        cv::copyMakeBorder(d.patch, d.patch, room, room, room, room, cv::BORDER_CONSTANT, 0);
        d.patch = pen_patch(d.patch, pen_width * h);
      }
      d.line = line;
      const double y = base - d.patch.rows + rnd.normal(0.04 * h) + slope * (x - margin_x);
      if (i > 0) {
        const Digit& prev = s.digits.back();
        const bool touch = k == "touching" && (i == forced || rnd.chance(0.3));
        if (touch) {
          x = touching_x(prev, d.patch, y) - rnd.uniform(0, 0.06 * h);
        } else {
          const double gap_lo = photo_like(k) ? 0.18 : 0.1;
          x = prev.at.x + prev.patch.cols + h * rnd.uniform(gap_lo, o.width > 0 ? 0.3 : 0.8);
        }
      }
      d.at = {x, y};
      x += d.patch.cols;
      s.digits.push_back(std::move(d));
    }
    double right = 0;
    for (std::size_t i = first; i < s.digits.size(); ++i)
      right = std::max(right, s.digits[i].at.x + s.digits[i].patch.cols);
    widest = std::max(widest, right);
  }
  s.size = o.width > 0 ? cv::Size(o.width, o.height)
                       : cv::Size(static_cast<int>(widest + margin_x),
                                  static_cast<int>(s.top + (lines - 1) * s.pitch + h + margin_y + 0.2 * h));
  if (!o.frame.empty()) {  // the writing, as it is, somewhere in a larger picture
    const cv::Size frame(o.frame[0], o.frame[1]);
    if (frame.width < s.size.width || frame.height < s.size.height)
      throw Error(fmt::format("the writing ({}x{}) does not fit the frame", s.size.width, s.size.height));
    const cv::Point2d shift(rnd.uniform(0, frame.width - s.size.width), rnd.uniform(0, frame.height - s.size.height));
    for (auto& d : s.digits) d.at += shift;
    s.top += shift.y;
    s.size = frame;
  }
  if (o.width > 0) {  // centre the writing in the fixed canvas
    const double dx = (o.width - widest - margin_x) / 2, dy = (o.height - h) / 2 - s.top;
    for (auto& d : s.digits) d.at += cv::Point2d(dx, dy);
    s.top += dy;
  }
  return s;
}

// Renders the digits' ink through the affine `m` (layout -> image) and records the truth boxes.
cv::Mat render_ink(Scene& s, const cv::Mat& m, cv::Size size) {
  cv::Mat ink = cv::Mat::zeros(size, CV_32F);
  for (auto& d : s.digits) {
    cv::Mat a = m.clone();
    // Place the patch: image = m * (patch point + at).
    a.at<double>(0, 2) += m.at<double>(0, 0) * d.at.x + m.at<double>(0, 1) * d.at.y;
    a.at<double>(1, 2) += m.at<double>(1, 0) * d.at.x + m.at<double>(1, 1) * d.at.y;
    std::vector<cv::Point2f> corners{{0, 0}, {static_cast<float>(d.patch.cols), 0},
                                     {0, static_cast<float>(d.patch.rows)},
                                     {static_cast<float>(d.patch.cols), static_cast<float>(d.patch.rows)}};
    cv::transform(corners, corners, a);
    const cv::Rect roi = (cv::boundingRect(corners) + cv::Size(2, 2) - cv::Point(1, 1)) & cv::Rect({}, size);
    if (roi.empty()) throw Error("a digit fell outside the picture");
    a.at<double>(0, 2) -= roi.x;
    a.at<double>(1, 2) -= roi.y;
    cv::Mat warped;
    cv::warpAffine(d.patch, warped, a, roi.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
    cv::Mat target = ink(roi);
    cv::max(target, warped, target);
    std::vector<cv::Point> points;
    cv::findNonZero(warped > 0.3f, points);
    d.truth = cv::boundingRect(points) + roi.tl();
  }
  return ink;
}

cv::Mat lines_layer(const Scene& s, const std::string& kind, Random& rnd, cv::Size layout_size) {
  cv::Mat layer = cv::Mat::zeros(layout_size, CV_32F);
  const int thickness = std::max(1, static_cast<int>(std::lround(s.height / 60 * rnd.uniform(0.7, 1.5))));
  if (kind == "ruled") {
    // Rules under each line of writing, at the line pitch, across the whole sheet.
    const double below = rnd.uniform(0.0, 0.15) * s.height;
    for (double y = std::fmod(s.top + s.height + below, s.pitch); y < layout_size.height; y += s.pitch)
      cv::line(layer, cv::Point(0, static_cast<int>(y)), cv::Point(layout_size.width, static_cast<int>(y)), 1.0,
               thickness);
  } else if (kind == "grid") {
    const double cell = s.height * rnd.uniform(0.45, 0.8);
    const double ox = rnd.uniform(0, cell), oy = rnd.uniform(0, cell);
    for (double x = ox; x < layout_size.width; x += cell)
      cv::line(layer, cv::Point(static_cast<int>(x), 0), cv::Point(static_cast<int>(x), layout_size.height), 1.0,
               thickness);
    for (double y = oy; y < layout_size.height; y += cell)
      cv::line(layer, cv::Point(0, static_cast<int>(y)), cv::Point(layout_size.width, static_cast<int>(y)), 1.0,
               thickness);
  }
  return layer;
}

// Paper and ink colours, lighting, blur, noise: the picture a phone or scanner would give.
cv::Mat compose(const Options& o, const cv::Mat& ink, const cv::Mat& rules, Random& rnd) {
  const std::string& k = o.kind;
  const bool photo = photo_like(k);
  cv::Vec3f paper(255, 255, 255), pen(0, 0, 0), rule_colour(200, 170, 140);
  if (photo || k == "ruled" || k == "grid") {
    const double base = rnd.uniform(185, 250);
    paper = cv::Vec3f(static_cast<float>(base - rnd.uniform(0, 40)), static_cast<float>(base - rnd.uniform(0, 15)),
                      static_cast<float>(base));
    const double dark = rnd.uniform(10, 90);
    pen = rnd.chance(0.4) ? cv::Vec3f(static_cast<float>(dark + 90), static_cast<float>(dark * 0.5),
                                      static_cast<float>(dark * 0.3))
                          : cv::Vec3f(static_cast<float>(dark), static_cast<float>(dark), static_cast<float>(dark));
  }
  // Dim light: grey paper, ink not much darker, and the sensor's noise (below) strong against it.
  double dim_noise = 0;
  if (k == "dim") {
    const double base = rnd.uniform(110, 200), contrast = base * rnd.uniform(0.3, 0.6);
    paper = cv::Vec3f(static_cast<float>(base * 0.9), static_cast<float>(base * 0.97), static_cast<float>(base));
    pen = paper - cv::Vec3f::all(static_cast<float>(contrast));
    dim_noise = contrast / rnd.uniform(3, 7);
  }
  if (k == "grid" || k == "ruled") rule_colour = rnd.chance(0.5) ? cv::Vec3f(215, 175, 130) : cv::Vec3f(170, 170, 170);
  if (k == "pad") pen = cv::Vec3f::all(0x11);  // the page's ink, #111111, on white
  if (k == "inverted") {
    const float board = static_cast<float>(rnd.uniform(15, 70)), chalk = static_cast<float>(rnd.uniform(190, 255));
    paper = {board, board + 8, board};
    pen = {chalk, chalk, chalk};
  }
  const float strength = photo ? static_cast<float>(rnd.uniform(0.75, 1.0)) : 1.0f;
  cv::Mat out(ink.size(), CV_32FC3);
  for (int y = 0; y < ink.rows; ++y)
    for (int x = 0; x < ink.cols; ++x) {
      const float r = rules.empty() ? 0.0f : rules.at<float>(y, x);
      cv::Vec3f p = paper * (1 - r) + rule_colour * r;
      const float a = ink.at<float>(y, x) * strength;
      out.at<cv::Vec3f>(y, x) = p * (1 - a) + pen * a;
    }
  if (photo || k == "inverted") {
    // Uneven light: a gradient in a random direction, sometimes a soft shadow across the sheet.
    const double angle = rnd.uniform(0, 2 * CV_PI), depth = rnd.uniform(0.15, photo ? 0.45 : 0.25);
    const bool shadow = photo && rnd.chance(0.3);
    const double sx = rnd.uniform(0.2, 0.8) * ink.cols, shadow_depth = rnd.uniform(0.2, 0.4);
    const double soft = rnd.uniform(5, 40);
    const double diag = std::hypot(ink.cols, ink.rows);
    for (int y = 0; y < ink.rows; ++y)
      for (int x = 0; x < ink.cols; ++x) {
        const double t = ((x - ink.cols / 2.0) * std::cos(angle) + (y - ink.rows / 2.0) * std::sin(angle)) / diag + 0.5;
        double light = 1 - depth * t;
        if (shadow) light *= 1 - shadow_depth / (1 + std::exp(-(x - sx - 0.3 * y) / soft));
        out.at<cv::Vec3f>(y, x) *= static_cast<float>(light);
      }
  }
  if (photo) cv::GaussianBlur(out, out, cv::Size(0, 0), rnd.uniform(0.4, 1.4));
  if (photo || k == "inverted" || k == "ruled" || k == "grid") {
    cv::Mat noise(out.size(), CV_32FC3);
    cv::randn(noise, 0, k == "dim" ? dim_noise : photo ? rnd.uniform(2, 8) : 2);
    out += noise;
  }
  cv::Mat bytes;
  out.convertTo(bytes, CV_8UC3);
  if (k == "clean" || k == "touching" || k == "multiline" || k == "pad") cv::cvtColor(bytes, bytes, cv::COLOR_BGR2GRAY);
  return bytes;
}

// The sheet on a desk (dark wood or a grey table, with some grain) that shows on two to four
// sides, the sheet casting a soft shadow on it. `offset` receives where the sheet's corner lies.
cv::Mat on_desk(const cv::Mat& sheet, Random& rnd, cv::Point& offset) {
  const auto margin = [&](int side) { return rnd.chance(0.2) ? 0 : static_cast<int>(rnd.uniform(0.06, 0.3) * side); };
  int left = margin(sheet.cols), right = margin(sheet.cols), top = margin(sheet.rows), bottom = margin(sheet.rows);
  if (left + right == 0) left = sheet.cols / 10;
  if (top + bottom == 0) bottom = sheet.rows / 10;
  const cv::Size size(sheet.cols + left + right, sheet.rows + top + bottom);
  const double tone = rnd.uniform(40, 150);
  const bool wood = rnd.chance(0.6);
  const cv::Scalar colour = wood ? cv::Scalar(tone * 0.45, tone * 0.7, tone) : cv::Scalar(tone, tone, tone * 1.05);
  // Grain: noise stretched along the boards.
  cv::Mat grain(std::max(2, size.height / 4), std::max(2, size.width / 40), CV_32F);
  cv::randn(grain, 0, wood ? 0.12 : 0.04);
  cv::resize(grain, grain, size, 0, 0, cv::INTER_CUBIC);
  cv::Mat desk(size, CV_32FC3, colour);
  std::vector<cv::Mat> planes;
  cv::split(desk, planes);
  for (auto& plane : planes) plane = plane.mul(1 + grain);
  cv::merge(planes, desk);
  cv::Mat shade(size, CV_32F, cv::Scalar(0));
  const cv::Point cast(static_cast<int>(rnd.uniform(2, 10)), static_cast<int>(rnd.uniform(2, 10)));
  shade(cv::Rect(cv::Point(left, top) + cast, sheet.size()) & cv::Rect(cv::Point(0, 0), size)).setTo(0.35);
  cv::GaussianBlur(shade, shade, cv::Size(0, 0), 6);
  cv::cvtColor(1 - shade, shade, cv::COLOR_GRAY2BGR);
  desk = desk.mul(shade);
  cv::Mat out;
  desk.convertTo(out, CV_8UC3);
  sheet.copyTo(out(cv::Rect(left, top, sheet.cols, sheet.rows)));
  offset = {left, top};
  return out;
}

nlohmann::ordered_json make_image(const Options& o, const digits::Split& test, int index, const fs::path& dir) {
  const auto class_id = static_cast<std::uint64_t>(std::ranges::find(classes, o.kind) - classes.begin());
  Random rnd(o.seed * 1'000'003ULL + class_id * 7919ULL + static_cast<std::uint64_t>(index) * 104'729ULL);
  Scene scene = layout(o, test, rnd);
  const bool rotate = photo_like(o.kind) || o.kind == "ruled" || o.kind == "grid";
  const double max_angle = photo_like(o.kind) ? 10 : 3;
  const double angle = rotate ? rnd.uniform(-max_angle, max_angle) : 0;
  // Rotate about the centre, enlarging the picture so nothing is cut off.
  const cv::Point2f centre(scene.size.width / 2.0f, scene.size.height / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(centre, angle, 1.0);
  const cv::Rect2f bounds = cv::RotatedRect(centre, scene.size, static_cast<float>(angle)).boundingRect2f();
  const cv::Size size = o.width > 0 ? scene.size
                                    : cv::Size(static_cast<int>(std::ceil(bounds.width)),
                                               static_cast<int>(std::ceil(bounds.height)));
  m.at<double>(0, 2) += size.width / 2.0 - centre.x;
  m.at<double>(1, 2) += size.height / 2.0 - centre.y;
  const cv::Mat ink = render_ink(scene, m, size);
  cv::Mat rules;
  if (o.kind == "ruled" || o.kind == "grid") {
    // The sheet's lines extend beyond the picture so that rotation leaves no bare corner.
    const cv::Size big(size.width * 2, size.height * 2);
    Scene shifted = scene;
    shifted.top += size.height / 2.0;
    cv::Mat layer = lines_layer(shifted, o.kind, rnd, big);
    cv::Mat mm = m.clone();
    mm.at<double>(0, 2) -= m.at<double>(0, 0) * size.width / 2.0 + m.at<double>(0, 1) * size.height / 2.0;
    mm.at<double>(1, 2) -= m.at<double>(1, 0) * size.width / 2.0 + m.at<double>(1, 1) * size.height / 2.0;
    cv::warpAffine(layer, rules, mm, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  }
  cv::Mat picture = compose(o, ink, rules, rnd);
  cv::Point offset(0, 0);  // of the sheet in the picture
  if (o.kind == "desk") picture = on_desk(picture, rnd, offset);
  std::string name = fmt::format("{}-{:05d}.{}", o.kind, index, photo_like(o.kind) ? "jpg" : "png");
  std::vector<std::uint8_t> bytes;
  if (o.kind == "canvas") {
    // A web canvas: black strokes on a transparent background.
    cv::Mat bgra(picture.size(), CV_8UC4, cv::Scalar(0, 0, 0, 0));
    std::vector<cv::Mat> planes(4, cv::Mat::zeros(picture.size(), CV_8U));
    ink.convertTo(planes[3], CV_8U, 255);
    cv::merge(planes, bgra);
    cv::imencode(".png", bgra, bytes);
  } else if (photo_like(o.kind)) {
    cv::imencode(".jpg", picture, bytes, {cv::IMWRITE_JPEG_QUALITY, rnd.integer(50, 90)});
  } else {
    cv::imencode(".png", picture, bytes);
  }
  digits::write_file_atomic(dir / name, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});

  // Reading order: lines top to bottom, then left to right in the layout.
  std::ranges::stable_sort(scene.digits, [](const Digit& a, const Digit& b) {
    return a.line != b.line ? a.line < b.line : a.at.x < b.at.x;
  });
  nlohmann::ordered_json truth{{"image", name}, {"class", o.kind}, {"width", picture.cols}, {"height", picture.rows}};
  std::string text;
  auto boxes = nlohmann::ordered_json::array(), line_numbers = nlohmann::ordered_json::array();
  for (const auto& d : scene.digits) {
    // The text as digits-classify writes it (docs/FORMATS.md): lines joined by "\n".
    if (!line_numbers.empty() && line_numbers.back() != d.line) text += '\n';
    text += static_cast<char>('0' + d.label);
    boxes.push_back({d.truth.x + offset.x, d.truth.y + offset.y, d.truth.width, d.truth.height});
    line_numbers.push_back(d.line);
  }
  truth["text"] = text;
  truth["boxes"] = boxes;
  truth["lines"] = line_numbers;
  return truth;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compose pictures of handwritten digits (MNIST test digits) of one kind, with their truth in "
               "DIR/truth.jsonl (text, boxes, lines per picture). The same options give the same pictures.",
               "digits-gen-images"};
  digits::cli::setup(app);
  Options o;
  app.add_option("--mnist", o.mnist, "MNIST directory (the IDX files; default data/mnist)")->option_text("DIR");
  app.add_option("--out", o.out, "Directory for the images and truth.jsonl")->required()->option_text("DIR");
  app.add_option("--class", o.kind, "Kind of picture (default clean; --list-classes lists them)")
      ->check(CLI::IsMember(classes))->option_text("KIND");
  app.add_option("--count", o.count, "Number of pictures (default 10)")->check(CLI::PositiveNumber)->option_text("N");
  app.add_option("--seed", o.seed, "Random seed (default 1)")->option_text("S");
  app.add_option("--width", o.width, "Fixed picture width (with --height)")->check(CLI::PositiveNumber)->option_text("W");
  app.add_option("--height", o.height, "Fixed picture height (with --width)")->check(CLI::PositiveNumber)->option_text("H");
  app.add_option("--frame", o.frame, "Put the writing, at its usual size, somewhere in a W x H picture")
      ->expected(2)->check(CLI::PositiveNumber)->option_text("W H");
  app.add_option("--digits", o.digits, "Digits per line (default random)")->check(CLI::PositiveNumber)->option_text("N");
  // bench-segment measures every kind there is; it asks here rather than keep its own list.
  app.add_flag_callback(
      "--list-classes",
      [] {
        for (const auto& kind : classes) fmt::print("{}\n", kind);
        throw CLI::Success();
      },
      "Print the kinds of image, one per line, and exit");
  return digits::cli::run(app, argc, argv, [&] {
    if ((o.width > 0) != (o.height > 0)) throw digits::UsageError("--width and --height go together");
    if (o.width > 0 && !o.frame.empty()) throw digits::UsageError("--frame and --width exclude each other");
    const auto data = digits::load_dataset(o.mnist);
    fs::create_directories(o.out);
    std::string lines;
    for (int i = 0; i < o.count; ++i) lines += make_image(o, data.test, i, o.out).dump() + "\n";
    digits::write_file_atomic(fs::path(o.out) / "truth.jsonl", lines);
    return 0;
  });
}
