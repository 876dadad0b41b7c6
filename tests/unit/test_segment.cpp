// The segmentation pipeline step by step, on pictures drawn here, and on MNIST test digits.

#include <doctest/doctest.h>

#include "io/idx.hpp"
#include "io/image.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"
#include "segment/binarise.hpp"
#include "segment/blobs.hpp"
#include "segment/crop.hpp"
#include "segment/ink.hpp"
#include "segment/lines.hpp"
#include "segment/normalise.hpp"
#include "segment/page.hpp"
#include "segment/reading.hpp"
#include "segment/rules.hpp"
#include "segment/seams.hpp"
#include "segment/segment.hpp"
#include "segment/size.hpp"
#include "support.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <numeric>

using namespace digits;

namespace {

// Printed-looking digits: dark ink on a page lit from one side, optionally light on dark.
cv::Mat page(const std::string& text, bool light_on_dark = false, cv::Size size = {600, 200}) {
  cv::Mat img(size, CV_8U);
  for (int x = 0; x < img.cols; ++x) img.col(x).setTo(light_on_dark ? 40 : 250 - 110 * x / img.cols);
  cv::putText(img, text, {40, 140}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(light_on_dark ? 230 : 30), 10);
  return img;
}

// Where the sheet lies in on_desk's pictures.
const cv::Rect sheet(110, 70, 420, 210);

// A 640x360 photo of a sheet (`paper`, as lit: a level, or a picture of the sheet's size) on a
// desk of the given level and grain.
cv::Mat on_desk(const cv::Mat& paper, double level, double grain) {
  cv::Mat desk(360, 640, CV_8U);
  cv::randn(desk, level, grain);
  paper.convertTo(desk(sheet), CV_8U);
  return desk;
}
cv::Mat on_desk(double paper, double level, double grain) {
  return on_desk(cv::Mat(sheet.size(), CV_8U, cv::Scalar(paper)), level, grain);
}

// "30" written on the lit part of `paper` (as lit) on a dark desk, "5" at x in its shade: the desk
// is painted over, the shaded part (`shaded`) is left as it was, and all three digits are found.
void check_shade_kept(const cv::Mat& paper, int five_x, const cv::Rect& shaded) {
  cv::Mat desk = on_desk(paper, 70, 10);
  cv::putText(desk, "30", {140, 230}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(30), 10);
  cv::putText(desk, "5", {five_x, 230}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(20), 10);
  const cv::Mat isolated = isolate_page(desk);
  CHECK(isolated.at<std::uint8_t>(10, 10) > 120);
  CHECK(cv::countNonZero(isolated(shaded) != desk(shaded)) == 0);
  CHECK(segment_image(desk).digits.size() == 3);
}

// A 0 drawn as a box 40x80 in an 8 px pen, its left edge at x, into a mask.
void zero_at(cv::Mat& mask, int x) { cv::rectangle(mask, cv::Rect(x, 100, 40, 80), cv::Scalar(255), 8); }

std::vector<Blob> blobs_drawn(const std::function<void(cv::Mat&)>& draw, cv::Size size = {400, 300}) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  draw(mask);
  return find_blobs(mask);
}

// The ink map that `blobs` (as blobs_drawn finds them in a picture of `size`) were found in.
cv::Mat ink_of(const std::vector<Blob>& blobs, cv::Size size = {400, 300}) {
  cv::Mat ink = cv::Mat::zeros(size, CV_8U);
  for (const auto& b : blobs) ink(b.box) |= b.mask;
  return ink;
}

// The ink (0 to 1) of MNIST test digits from `first` on, one per strength (how dark its ink is),
// each 70 px tall, `pitch` apart from `at` on, in a canvas of `size`.
cv::Mat mnist_ink(const IdxImages& images, std::size_t first, const std::vector<double>& strengths, cv::Size size,
                  cv::Point at, int pitch) {
  cv::Mat ink(size, CV_32F, cv::Scalar(0));
  for (std::size_t k = 0; k < strengths.size(); ++k) {
    Crop crop{};
    std::ranges::copy(images.image(first + k), crop.begin());
    cv::Mat digit;
    cv::resize(crop_to_mat(crop), digit, {}, 2.5, 2.5, cv::INTER_CUBIC);
    digit.convertTo(digit, CV_32F, strengths[k] / 255.0);
    cv::Mat place = ink(cv::Rect(at.x + pitch * static_cast<int>(k), at.y, digit.cols, digit.rows));
    cv::max(place, digit, place);
  }
  return ink;
}

// `picture` (grey levels) as a phone would give it: a little out of focus, with a sensor's grain
// of `grain` levels (seeded), saved as a JPEG of `quality`; segmented.
ImageRecord photographed(cv::Mat picture, double grain, unsigned seed, int quality) {
  cv::GaussianBlur(picture, picture, cv::Size(0, 0), 0.8);
  cv::theRNG().state = seed;
  cv::Mat noise(picture.size(), CV_32F);
  cv::randn(noise, 0, grain);
  cv::Mat grey;
  cv::Mat(picture + noise).convertTo(grey, CV_8U);
  std::vector<std::uint8_t> jpeg;
  cv::imencode(".jpg", grey, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality});
  return segment_bytes(std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
}

double correlation(const Crop& a, const Crop& b) {
  cv::Mat fa, fb;
  crop_to_mat(a).convertTo(fa, CV_64F);
  crop_to_mat(b).convertTo(fb, CV_64F);
  fa -= cv::mean(fa)[0];
  fb -= cv::mean(fb)[0];
  return fa.dot(fb) / std::sqrt(fa.dot(fa) * fb.dot(fb));
}

// The boxes of a drawn picture's dark ink, one per component, left to right.
std::vector<cv::Rect> ink_boxes(const cv::Mat& img) {
  std::vector<cv::Rect> boxes;
  cv::Mat labels;
  const int n = cv::connectedComponents(img < 128, labels, 8);
  for (int label = 1; label < n; ++label) boxes.push_back(cv::boundingRect(labels == label));
  std::ranges::sort(boxes, {}, &cv::Rect::x);
  return boxes;
}

// Each digit's box is within `tolerance` pixels of its ink's, side by side.
void check_boxes(const ImageRecord& record, const std::vector<cv::Rect>& truth, int tolerance) {
  REQUIRE(record.digits.size() == truth.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const Box& b = record.digits[i].box;
    CAPTURE(i);
    CHECK(std::abs(b.x - truth[i].x) <= tolerance);
    CHECK(std::abs(b.y - truth[i].y) <= tolerance);
    CHECK(std::abs(b.x + b.w - truth[i].br().x) <= tolerance);
    CHECK(std::abs(b.y + b.h - truth[i].br().y) <= tolerance);
  }
}

// merge_pieces' rule as first written, restarted after every join (the cube of the blobs): what
// the faster search must give, join for join and in the same order.
std::vector<Blob> merge_pieces_plainly(std::vector<Blob> blobs, double height) {
  if (height <= 0) return blobs;
  const auto vertical_gap = [](const cv::Rect& a, const cv::Rect& b) {
    return std::max(a.y, b.y) - std::min(a.y + a.height, b.y + b.height);
  };
  for (bool changed = true; changed;) {
    changed = false;
    std::ranges::stable_sort(blobs, [](const Blob& a, const Blob& b) { return a.box.area() < b.box.area(); });
    for (std::size_t i = 0; i < blobs.size() && !changed; ++i) {
      const cv::Rect piece = blobs[i].box;
      if (piece.height >= 0.75 * height || std::max(piece.width, piece.height) < 0.15 * height) continue;
      std::size_t best = blobs.size();
      long best_growth = 0;
      for (std::size_t j = 0; j < blobs.size(); ++j) {
        if (j == i) continue;
        const cv::Rect host = blobs[j].box;
        const cv::Rect both = piece | host;
        const cv::Rect widened(host.x - static_cast<int>(0.1 * height), host.y, host.width + static_cast<int>(0.2 * height),
                               host.height);
        const bool above_or_below = horizontal_overlap(piece, widened) >= piece.width / 2;
        const bool flag = piece.width >= 1.5 * piece.height && piece.y + piece.height <= host.y + 0.4 * host.height &&
                          piece.x >= host.x + host.width / 3 && -horizontal_overlap(piece, host) <= 0.3 * height;
        const bool digit_sized = both.height <= 1.5 * height && both.width <= 1.4 * std::max<double>(height, host.height);
        if (!((above_or_below || flag) && digit_sized && vertical_gap(piece, host) <= 0.35 * height)) continue;
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

void check_same_blobs(const std::vector<Blob>& got, const std::vector<Blob>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    REQUIRE(got[i].box == expected[i].box);
    CHECK(cv::countNonZero(got[i].mask != expected[i].mask) == 0);
  }
}

}  // namespace

TEST_SUITE("segment") {
  TEST_CASE("ink polarity is detected under a lighting gradient") {
    CHECK_FALSE(is_light_on_dark(page("305")));
    CHECK(is_light_on_dark(page("305", true)));
  }

  TEST_CASE("a lit patch beside a shadow across a photographed sheet is no light ink") {
    // A 12 MP-like photo (2400x1800) of a sheet mostly in shade, a wedge of it in the sun, and a
    // short line of dark writing in the shade: the wedge's edge runs the sheet's whole height.
    for (const bool light_ink : {false, true}) {
      CAPTURE(light_ink);
      cv::Mat photo(1800, 2400, CV_8U);
      cv::theRNG().state = 3;
      cv::randn(photo, 80, 8);
      const cv::Rect paper(250, 200, 1900, 1400);
      photo(paper).setTo(120);
      for (int y = paper.y; y < paper.br().y; ++y) photo.row(y).colRange(paper.x, 700 + y / 3).setTo(215);
      const cv::Scalar ink = light_ink ? 250 : 45;
      cv::putText(photo, "30571", {1400, 1300}, cv::FONT_HERSHEY_SIMPLEX, 3, ink, 9);
      CHECK(is_light_on_dark(photo) == light_ink);
    }
  }

  TEST_CASE("a sheet on a desk is told from the desk but a shadow across paper is not a desk") {
    cv::Mat desk = on_desk(232, 75, 12);
    cv::putText(desk, "305", {150, 230}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(30), 10);
    const cv::Mat isolated = isolate_page(desk);
    // The desk is paper now; the sheet and its writing are as they were.
    CHECK(isolated.at<std::uint8_t>(10, 10) > 200);
    CHECK(isolated.at<std::uint8_t>(350, 630) > 200);
    CHECK(cv::countNonZero(isolated(sheet - cv::Point(-8, -8) - cv::Size(16, 16)) !=
                           desk(sheet - cv::Point(-8, -8) - cv::Size(16, 16))) == 0);
    const auto record = segment_image(desk);
    CHECK(record.digits.size() == 3);
    // Without a desk the picture is left alone: a scan, and a sheet half in shadow.
    const cv::Mat scan = page("305");
    CHECK(cv::countNonZero(isolate_page(scan) != scan) == 0);
    cv::Mat shadowed = page("305");
    shadowed.colRange(350, 600) *= 0.5;
    CHECK(cv::countNonZero(isolate_page(shadowed) != shadowed) == 0);
  }

  TEST_CASE("a sheet on a desk half in shadow keeps its shadowed half") {
    cv::Mat paper(sheet.size(), CV_32F);
    for (int x = 0; x < paper.cols; ++x)  // lit, then a shadow from x = 280 with a soft edge
      paper.col(x).setTo(232.0 * (1 - 0.4 / (1 + std::exp(-(x - 280) / 6.0))));
    check_shade_kept(paper, 420, cv::Rect(400, 90, 110, 170));
  }

  TEST_CASE("a sheet on a desk under a hard shadow keeps its shaded part") {
    // A hand or a phone between the lamp and the sheet: the shadow's edge is as sharp a step as
    // the sheet's own, slanted from its top edge to its bottom one, the shade still far lighter
    // than the desk. (The sheet alone is shaded: the desk beside it stays as lit.)
    cv::Mat paper(sheet.size(), CV_32F, cv::Scalar(232));
    for (int y = 0; y < paper.rows; ++y) paper.row(y).colRange(300 + y / 4, paper.cols).setTo(140);
    check_shade_kept(paper, 450, cv::Rect(450, 100, 70, 170));
  }

  TEST_CASE("a sheet lit unevenly on a desk leaves no edge that reads as ink") {
    cv::Mat paper(sheet.size(), CV_32F);
    for (int x = 0; x < paper.cols; ++x) paper.col(x).setTo(250.0 - 150.0 * x / paper.cols);  // a lamp on the left
    // A fine pen, so the threshold is low enough to see any step left where the sheet ends.
    cv::Mat writing = cv::Mat::zeros(sheet.size(), CV_8U);
    cv::putText(writing, "305", {40, 160}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(255), 4);
    const cv::Mat inked = paper * 0.6;
    inked.copyTo(paper, writing);
    const cv::Mat desk = on_desk(paper, 60, 8);
    const cv::Mat mask = binarise(ink_map(isolate_page(desk), false));
    // Only the writing is ink: nothing along the sheet's edges.
    cv::Mat edges = cv::Mat::zeros(desk.size(), CV_8U);
    cv::rectangle(edges, sheet, cv::Scalar(255), 12);
    CHECK(cv::countNonZero(mask & edges) == 0);
    CHECK(segment_image(desk).digits.size() == 3);
  }

  TEST_CASE("a sheet whose lit part is no sheet (a round shadow bites into it) is found whole") {
    cv::Mat desk = on_desk(235, 60, 8);
    cv::putText(desk, "305", {125, 200}, cv::FONT_HERSHEY_SIMPLEX, 2.5, cv::Scalar(20), 7);
    // A lamp shade's shadow, on the sheet and the desk alike.
    cv::Mat shade(desk.size(), CV_32F, cv::Scalar(1));
    cv::circle(shade, {520, 290}, 220, cv::Scalar(0.5), cv::FILLED);
    cv::Mat lit;
    desk.convertTo(lit, CV_32F);
    lit = lit.mul(shade);
    lit.convertTo(desk, CV_8U);
    const cv::Mat isolated = isolate_page(desk);
    CHECK(isolated.at<std::uint8_t>(10, 10) > 200);  // the desk is paper now
    const cv::Rect shaded(440, 180, 80, 90);         // the sheet in the shadow is kept
    CHECK(cv::countNonZero(isolated(shaded) != desk(shaded)) == 0);
    CHECK(segment_image(desk).digits.size() == 3);
  }

  TEST_CASE("a large bright ring on a dark ground is no sheet") {
    cv::Mat drawing(300, 300, CV_8U, cv::Scalar(0));
    cv::circle(drawing, {150, 150}, 110, cv::Scalar(255), 28);
    CHECK(cv::countNonZero(isolate_page(drawing) != drawing) == 0);
  }

  TEST_CASE("a bold bright 0 with a small hole filling a dark picture is no sheet") {
    // Its outline is convex and mostly bright inside, like a sheet's, but rounded.
    cv::Mat drawing(112, 112, CV_8U, cv::Scalar(0));
    cv::ellipse(drawing, {56, 56}, {22, 32}, 0, 0, 360, cv::Scalar(255), 18);
    cv::GaussianBlur(drawing, drawing, {5, 5}, 0);
    CHECK(cv::countNonZero(isolate_page(drawing) != drawing) == 0);
  }

  TEST_CASE("the ink map takes the lighting out") {
    const cv::Mat img = page("7");
    const cv::Mat ink = ink_map(img, false);
    // Bare paper, bright on the left and dim on the right, is all near zero.
    CHECK(ink.at<std::uint8_t>(10, 10) < 30);
    CHECK(ink.at<std::uint8_t>(190, 590) < 30);
    cv::Mat stroke_pixels = img < 60;
    CHECK(cv::mean(ink, stroke_pixels)[0] > 150);
  }

  TEST_CASE("binarisation finds strokes and leaves noisy paper empty") {
    const cv::Mat mask = binarise(ink_map(page("42"), false));
    CHECK(cv::countNonZero(mask) > 2000);
    cv::Mat noisy(300, 400, CV_8U);
    cv::randn(noisy, 200, 6);
    const cv::Mat empty = binarise(ink_map(noisy, false));
    CHECK(cv::countNonZero(empty) < 40);
  }

  TEST_CASE("binarisation's blobs are the blobs of its mask") {
    cv::Mat img = page("3105");
    cv::circle(img, {50, 40}, 3, cv::Scalar(90), cv::FILLED);  // a faint speck
    std::vector<Blob> blobs;
    const cv::Mat mask = binarise(ink_map(img, false), &blobs);
    const auto found = find_blobs(mask);
    REQUIRE(blobs.size() == found.size());
    CHECK(blobs.size() >= 4);
    for (std::size_t i = 0; i < blobs.size(); ++i) {
      CHECK(blobs[i].box == found[i].box);
      CHECK(cv::countNonZero(blobs[i].mask != found[i].mask) == 0);
    }
  }

  TEST_CASE("ruled and grid lines are removed and crossing strokes kept") {
    cv::Mat mask = cv::Mat::zeros(300, 800, CV_8U);
    for (int y = 40; y < 300; y += 60) cv::line(mask, {0, y}, {799, y + 30}, cv::Scalar(255), 2);  // sloping rules
    for (int x = 30; x < 800; x += 200) cv::line(mask, {x, 0}, {x, 299}, cv::Scalar(255), 2);
    cv::line(mask, {300, 60}, {300, 200}, cv::Scalar(255), 8);  // a "1" crossing two rules
    CHECK(remove_straight_lines(mask) >= 6);
    const auto blobs = find_blobs(mask);
    REQUIRE_FALSE(blobs.empty());
    const auto tallest = std::ranges::max_element(blobs, {}, [](const Blob& b) { return b.box.height; });
    CHECK(tallest->box.height >= 135);  // still one stroke from top to bottom
    CHECK(tallest->box.width <= 14);
    CHECK(cv::countNonZero(mask) < 1500);  // the rules themselves are gone
    cv::Mat no_lines = cv::Mat::zeros(200, 200, CV_8U);
    cv::line(no_lines, {100, 20}, {100, 180}, cv::Scalar(255), 10);  // a big 1 alone is not a rule
    CHECK(remove_straight_lines(no_lines) == 0);
  }

  TEST_CASE("a 5 whose flag is written apart gets it back and the next digit does not") {
    auto blobs = blobs_drawn([](cv::Mat& m) {
      cv::line(m, {100, 50}, {98, 95}, cv::Scalar(255), 6);                     // the 5's stem
      cv::ellipse(m, {116, 125}, {20, 32}, 0, -150, 150, cv::Scalar(255), 6);  // and belly, one stroke
      cv::line(m, {142, 46}, {176, 42}, cv::Scalar(255), 6);                    // the flag, lifted off, right of it
      cv::ellipse(m, {215, 110}, {24, 55}, 0, 0, 360, cv::Scalar(255), 6);      // a 0 close after it
      cv::line(m, {255, 112}, {280, 112}, cv::Scalar(255), 6);                  // a dash, mid-height
    });
    REQUIRE(blobs.size() == 4);
    const auto merged = merge_pieces(blobs, typical_height(blobs));
    REQUIRE(merged.size() == 3);
    const auto five = std::ranges::min_element(merged, {}, [](const Blob& b) { return b.box.x; });
    CHECK(five->box.x + five->box.width >= 176);  // it has the flag
    CHECK(five->box.y <= 42);
    CHECK(std::ranges::count_if(merged, [](const Blob& b) { return b.box.width < 40 && b.box.height < 15; }) == 1);
  }

  TEST_CASE("long thin rules at a slight slant are removed whole") {
    // Hough returns such a line in pieces shorter than half the page; the pieces are one rule.
    for (const double slope : {0.019, 0.027, 0.041, -0.033}) {
      CAPTURE(slope);
      cv::Mat mask = cv::Mat::zeros(330, 1214, CV_8U);
      for (int y = 40; y < 300; y += 62) {
        const cv::Point2d from(0, y), to(1213, y + slope * 1213);
        cv::line(mask, from, to, cv::Scalar(255), 1);
      }
      for (int x = 100; x < 1200; x += 140) cv::line(mask, {x, 90}, {x + 20, 190}, cv::Scalar(255), 12);  // digits
      const int digits = cv::countNonZero(mask);
      CHECK(remove_straight_lines(mask) >= 4);
      CHECK(cv::countNonZero(mask) < digits - 4000);  // the rules' ~5 x 1214 pixels are gone
      const auto blobs = find_blobs(mask);
      CHECK(std::ranges::all_of(blobs, [](const Blob& b) { return b.box.width < 60; }));
    }
  }

  TEST_CASE("digits cropped tightly with bottoms on one base line are not a rule") {
    // An "82": the 8's lower loop runs into the 2's foot, and together they span the picture.
    cv::Mat mask = cv::Mat::zeros(141, 130, CV_8U);
    cv::circle(mask, {45, 45}, 17, cv::Scalar(255), 8);
    cv::circle(mask, {42, 92}, 22, cv::Scalar(255), 8);
    cv::ellipse(mask, {92, 62}, {18, 16}, 0, -180, 30, cv::Scalar(255), 8);
    cv::line(mask, {106, 72}, {66, 112}, cv::Scalar(255), 8);
    cv::line(mask, {40, 114}, {114, 112}, cv::Scalar(255), 8);
    const cv::Mat before = mask.clone();
    CHECK(remove_straight_lines(mask) == 0);
    CHECK(cv::countNonZero(mask != before) == 0);
    // The same strokes on ruled paper: the rule goes, the digits stay.
    cv::line(mask, {0, 130}, {129, 131}, cv::Scalar(255), 2);
    CHECK(remove_straight_lines(mask) >= 1);
    CHECK(cv::countNonZero(mask != before) < 40);
  }

  TEST_CASE("pieces of one digit are merged and separate digits are not") {
    auto five = blobs_drawn([](cv::Mat& m) {
      cv::line(m, {100, 50}, {150, 50}, cv::Scalar(255), 6);                          // the 5's detached bar
      cv::ellipse(m, {120, 115}, {30, 35}, 0, -120, 160, cv::Scalar(255), 6);         // its belly
      cv::line(m, {300, 50}, {300, 150}, cv::Scalar(255), 6);                         // a 1 beside it
      cv::line(m, {300, 200}, {300, 290}, cv::Scalar(255), 6);                        // and one below
    });
    REQUIRE(five.size() == 4);
    const double h = typical_height(five);
    CHECK(h > 60);
    const auto merged = merge_pieces(five, h);
    CHECK(merged.size() == 3);
  }

  TEST_CASE("pieces are joined as the plain rule joins them, in noise and among pieces of equal sizes") {
    // Uniform noise: thousands of specks and pieces, many hosts for each, chains of joins.
    cv::Mat noise(200, 300, CV_8U);
    cv::RNG(1).fill(noise, cv::RNG::UNIFORM, 0, 256);
    std::vector<Blob> specks;
    binarise(ink_map(noise, false), &specks);
    REQUIRE(specks.size() > 500);
    const double h = typical_height(specks, noise.size());
    REQUIRE(h > 0);
    const auto merged = merge_pieces(specks, h);
    CHECK(merged.size() < specks.size() * 9 / 10);
    check_same_blobs(merged, merge_pieces_plainly(specks, h));
    // Boxes of a few sizes only, so that many pieces have the same area and many hosts grow alike:
    // which goes first must not depend on how they are found.
    cv::RNG rng(7);
    std::size_t joins = 0;
    for (int round = 0; round < 20; ++round) {
      std::vector<Blob> blobs;
      for (int k = 0; k < 120; ++k) {
        const cv::Size size(2 + 4 * rng.uniform(0, 6), 2 + 4 * rng.uniform(0, 6));
        const cv::Rect box(rng.uniform(0, 200), rng.uniform(0, 120), size.width, size.height);
        blobs.push_back({box, cv::Mat(size, CV_8U, cv::Scalar(255)), std::nullopt, {}});
      }
      CAPTURE(round);
      const auto joined_up = merge_pieces(blobs, 20);
      joins += blobs.size() - joined_up.size();
      check_same_blobs(joined_up, merge_pieces_plainly(blobs, 20));
    }
    CHECK(joins > 200);
  }

  TEST_CASE("touching digits are split and a wide zero is not") {
    // The second ring, a little higher, slides in from the right until it first touches.
    cv::Mat first = cv::Mat::zeros(300, 400, CV_8U);
    cv::ellipse(first, {60, 150}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
    int touch = 200;
    for (cv::Mat second; touch > 60; --touch) {
      second = cv::Mat::zeros(first.size(), CV_8U);
      cv::ellipse(second, {touch, 140}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
      if (cv::countNonZero(first & second) > 0) break;
    }
    auto pair = blobs_drawn([&](cv::Mat& m) {
      first.copyTo(m);
      cv::ellipse(m, {touch, 140}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
      cv::ellipse(m, {300, 150}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);  // a third, alone
    });
    REQUIRE(pair.size() == 2);
    const cv::Mat ink = ink_of(pair);
    Recogniser judge(load_model(test::source_dir / "models/digits-cnn.model"));
    const auto split = read_line(pair, ink, &judge);
    REQUIRE(split.size() == 3);
    REQUIRE(split[0].box.x < split[1].box.x);
    CHECK(std::abs(split[0].box.width - 88) <= 8);
    CHECK(std::abs(split[1].box.x - (touch - 44)) <= 8);
    // As wide as the pair, but one digit: any cut crosses two strokes.
    auto wide = blobs_drawn([](cv::Mat& m) { cv::ellipse(m, {200, 150}, {85, 60}, 0, 0, 360, cv::Scalar(255), 8); });
    REQUIRE(wide.size() == 1);
    const cv::Mat wide_ink = ink_of(wide);
    CHECK(read_line(wide, wide_ink, &judge).size() == 1);
    CHECK(read_line(wide, wide_ink, nullptr).size() == 1);
  }

  TEST_CASE("softened, two readings the judge is sure of still differ by their margins") {
    // A 5 read with its runner-up a thousandth as likely, and one with it a millionth as likely.
    const auto reading = [](float runner_up) {
      Probabilities p{};
      p[5] = 1.0f - runner_up;
      p[3] = runner_up;
      return p;
    };
    const Probabilities near = reading(1e-3f), sure = reading(1e-6f);
    // As they are, both round to certainty: no prior is too small to outweigh the difference.
    CHECK(reading_score(near, 0, 1) == doctest::Approx(std::log(1.0 - 1e-3)).epsilon(1e-4));
    CHECK(reading_score(sure, 0, 1) - reading_score(near, 0, 1) < 0.002);
    // Softened, the closer call pays for its runner-up.
    CHECK(reading_score(sure, 0, 2.5) - reading_score(near, 0, 2.5) > 0.1);
    CHECK(reading_score(sure, 0, 2.5) <= 0);
    // "Not one digit" is a runner-up like any other, and a reading of nothing is at the floor.
    CHECK(reading_score(sure, 1e-3f, 2.5) < reading_score(sure, 0, 2.5) - 0.1);
    CHECK(reading_score(Probabilities{}, 1, 2.5) == doctest::Approx(2.5 * std::log(1e-4)));
    // Softening never flatters a reading: a 5 at 40%, against a 3 and an 8, scores below its plain
    // log-probability.
    Probabilities unsure{};
    unsure[5] = 0.4f;
    unsure[3] = 0.35f;
    unsure[8] = 0.25f;
    CHECK(reading_score(unsure, 0, 2.5) < std::log(0.4));
  }

  TEST_CASE("a 2's base running into the 1 beside it is cut where it meets the 1") {
    // A 2 drawn in an 8 px pen, its base running on into the foot of a 1 (x 196-204) and a little
    // past it, as a 2's tail curls into a 1.
    auto pair = blobs_drawn([](cv::Mat& m) {
      cv::ellipse(m, {110, 75}, {40, 35}, 0, 180, 380, cv::Scalar(255), 8);
      cv::line(m, {148, 88}, {80, 160}, cv::Scalar(255), 8);
      cv::line(m, {80, 160}, {222, 160}, cv::Scalar(255), 8);
      cv::line(m, {200, 40}, {200, 164}, cv::Scalar(255), 8);
    });
    REQUIRE(pair.size() == 1);
    const Blob& blob = pair[0];
    const std::size_t base = static_cast<std::size_t>(160 - blob.box.y);
    const int stem = 196 - blob.box.x;  // the 1's left edge
    // Of the cuts through the base left of the 1, the one beside the 1 is the cheapest: cut
    // anywhere else along it, the 1 would take part of the 2's base.
    std::optional<float> beside;
    float elsewhere = std::numeric_limits<float>::max();
    for (const auto& seam : candidate_seams(blob, blob.box.height, {}, Doubt::doubted)) {
      const int x = seam.x[base];
      if (seam.crossings != 1 || x >= stem) continue;
      if (x >= stem - 5) beside = std::min(beside.value_or(seam.cost), seam.cost);
      else if (x < stem - 10) elsewhere = std::min(elsewhere, seam.cost);
    }
    REQUIRE(beside);
    CHECK(*beside < elsewhere);
  }

  TEST_CASE("a chain of touching digits gets a seam where each pair meets") {
    // Five rings in a row, each touching the next.
    auto chain = blobs_drawn([](cv::Mat& m) {
      for (int k = 0; k < 5; ++k) cv::ellipse(m, {60 + 84 * k, 150}, {38, 60}, 0, 0, 360, cv::Scalar(255), 8);
    }, {480, 300});
    REQUIRE(chain.size() == 1);
    const auto seams = candidate_seams(chain[0], chain[0].box.height);
    // Left to right by their mean column (a seam may hug a ring's side, and start right of one
    // that runs on further right below).
    const auto mean_column = [](const Seam& s) { return std::accumulate(s.x.begin(), s.x.end(), 0.0) / static_cast<double>(s.x.size()); };
    for (std::size_t k = 1; k < seams.size(); ++k) CHECK(mean_column(seams[k - 1]) <= mean_column(seams[k]));
    for (int k = 0; k < 4; ++k) {
      const int meet = 60 + 84 * k + 42 - chain[0].box.x;
      CAPTURE(meet);
      CHECK(std::ranges::any_of(seams, [&](const Seam& s) {
        return s.crossings == 1 && std::abs(s.x[s.x.size() / 2] - meet) <= 6;
      }));
    }
    // Cut at the junctions alone, the chain falls into its five rings.
    std::vector<Seam> junctions;
    for (const auto& s : seams)
      if (s.crossings == 1) junctions.push_back(s);
    const auto parts = cut_at(chain[0], junctions);
    REQUIRE(parts.size() == 5);
    for (int k = 0; k < 5; ++k) CHECK(std::abs(parts[static_cast<std::size_t>(k)].box.width - 84) <= 6);
    // And the judge reads it as five zeros, each where its ring is.
    const cv::Mat ink = ink_of(chain, {480, 300});
    Recogniser judge(load_model(test::source_dir / "models/digits-cnn.model"));
    const auto digits = read_line(chain, ink, &judge);
    REQUIRE(digits.size() == 5);
    for (int k = 0; k < 5; ++k) CHECK(std::abs(digits[static_cast<std::size_t>(k)].box.x - (60 + 84 * k - 42)) <= 8);
  }

  TEST_CASE("ink surely no digit is parted where the digits meet twice") {
    // Two bold 3s pressed together: the first one's bulges touch the second one's tips, so a cut
    // between them crosses two strokes, in ink narrower than it is tall (where one is the rule).
    // The judge reads the pair as no digit at all, and the two 3s when parted.
    const auto three = [](cv::Mat& m, int x) {
      cv::ellipse(m, {x, 110}, {30, 32}, 0, -150, 90, cv::Scalar(255), 12);
      cv::ellipse(m, {x, 175}, {30, 33}, 0, -90, 150, cv::Scalar(255), 12);
    };
    const auto pair = blobs_drawn([&](cv::Mat& m) { three(m, 150), three(m, 212); });
    const auto second = blobs_drawn([&](cv::Mat& m) { three(m, 212); });
    REQUIRE(pair.size() == 1);
    REQUIRE(second.size() == 1);
    REQUIRE(pair[0].box.width < pair[0].box.height);
    const cv::Mat ink = ink_of(pair);
    const auto parting = [&](const std::vector<Seam>& seams) {
      return std::ranges::count_if(seams, [&](const Seam& s) {
        const auto parts = cut_at(pair[0], {s});
        return parts.size() == 2 && std::abs(parts[1].box.x - second[0].box.x) <= 4 &&
               std::abs(parts[1].box.width - second[0].box.width) <= 4;
      });
    };
    CHECK(parting(candidate_seams(pair[0], pair[0].box.height, ink, Doubt::doubted)) == 0);
    CHECK(parting(candidate_seams(pair[0], pair[0].box.height, ink, Doubt::certain)) > 0);
    Recogniser judge(load_model(test::source_dir / "models/digits-cnn.model"));
    const auto read = read_line(pair, ink, &judge);
    REQUIRE(read.size() == 2);
    CHECK(std::abs(read[1].box.x - second[0].box.x) <= 4);
  }

  TEST_CASE("a part cut off a touching pair is cropped without its neighbour's ink") {
    // A 1 leaning into a ring's side. Cut apart, the 1's crop holds none of the ring: the soft
    // edge a crop takes around its strokes stops at the cut (else a sliver of the ring beside the
    // 1 makes the judge read it as a piece of a cut, no digit).
    const auto one = [](cv::Mat& m) { cv::line(m, {118, 60}, {90, 200}, cv::Scalar(255), 9); };
    auto pair = blobs_drawn([&](cv::Mat& m) {
      one(m);
      cv::ellipse(m, {160, 130}, {44, 70}, 0, 0, 360, cv::Scalar(255), 9);
      cv::line(m, {106, 130}, {114, 130}, cv::Scalar(255), 4);  // where they touch
    });
    REQUIRE(pair.size() == 1);
    const auto alone = blobs_drawn(one);
    REQUIRE(alone.size() == 1);
    const cv::Mat ink = ink_of(pair);
    // The cut whose left part is most nearly the 1.
    std::vector<Blob> parts;
    for (const auto& seam : candidate_seams(pair[0], pair[0].box.height, ink)) {
      auto cut = cut_at(pair[0], {seam});
      const auto off = [&](const std::vector<Blob>& p) { return std::abs(cv::countNonZero(p[0].mask) - cv::countNonZero(alone[0].mask)); };
      if (cut.size() == 2 && (parts.empty() || off(cut) < off(parts))) parts = std::move(cut);
    }
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].box.br().x > parts[1].box.x);  // the ring's ink lies inside the 1's box
    cv::Mat without_ring = ink.clone();
    without_ring(parts[1].box).setTo(0, parts[1].mask);
    CHECK(std::ranges::equal(digit_crop(ink, parts[0]), digit_crop(without_ring, parts[0])));
    // Joined again, the two parts are the pair: nothing of it is kept out.
    CHECK(joined(parts[0], parts[1]).others.empty());
  }

  TEST_CASE("two 1s leaning together are parted though narrower than two digits side by side") {
    // Their ink is half as wide as a digit is tall: too narrow to hold two digits side by side,
    // but the judge reads it as no one digit.
    auto line = blobs_drawn([](cv::Mat& m) {
      cv::line(m, {100, 60}, {74, 200}, cv::Scalar(255), 9);
      cv::line(m, {126, 64}, {90, 196}, cv::Scalar(255), 9);
      cv::line(m, {84, 150}, {98, 150}, cv::Scalar(255), 5);  // where they touch
      cv::line(m, {260, 60}, {240, 200}, cv::Scalar(255), 9);  // a 1 alone
    });
    REQUIRE(line.size() == 2);
    CHECK(line[0].box.width < 0.7 * line[0].box.height);
    const cv::Mat ink = ink_of(line);
    Recogniser judge(load_model(test::source_dir / "models/digits-cnn.model"));
    const auto digits = read_line(line, ink, &judge);
    REQUIRE(digits.size() == 3);
    CHECK(digits[0].box.br().x <= 108);
    CHECK(digits[1].box.x >= 84);
    CHECK(read_line(line, ink, nullptr).size() == 2);  // shape alone never cuts ink that narrow
  }

  TEST_CASE("overlapping digits are parted where their strokes cross") {
    // Two rings whose boxes overlap by a sixth of their width: every cut between them crosses
    // both where the rings intersect, none is the cheapest path overall.
    auto pair = blobs_drawn([](cv::Mat& m) {
      cv::ellipse(m, {100, 150}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
      cv::ellipse(m, {176, 140}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
    });
    REQUIRE(pair.size() == 1);
    const cv::Mat ink = ink_of(pair);
    Recogniser judge(load_model(test::source_dir / "models/digits-cnn.model"));
    const auto digits = read_line(pair, ink, &judge);
    REQUIRE(digits.size() == 2);
    CHECK(std::abs(digits[0].box.x - 56) <= 8);
    CHECK(std::abs(digits[1].box.br().x - 220) <= 8);
  }

  TEST_CASE("grain the judge reads as no digit is dropped from a line and its digits kept") {
    // Specks of a dim photo's noise joined into a patch half as tall as a digit, between two 0s:
    // it was read as one more digit. (The judge reads 5 of such patches, seeds 1-12, above
    // 0.3%: those are kept, as a digit written badly would be; these four it reads below.)
    Recogniser judge(load_model(test::source_dir / "models/digits-cnn.model"));
    for (const unsigned seed : {3u, 8u, 10u, 12u}) {
      CAPTURE(seed);
      cv::theRNG().state = seed;
      cv::Mat grain(60, 30, CV_8U);
      cv::randu(grain, 0, 255);
      cv::dilate(grain > 235, grain, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
      const auto line = blobs_drawn([&](cv::Mat& m) {
        cv::ellipse(m, {60, 150}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
        cv::ellipse(m, {330, 150}, {40, 60}, 0, 0, 360, cv::Scalar(255), 8);
        grain.copyTo(m(cv::Rect(165, 120, 30, 60)));
      });
      REQUIRE(line.size() >= 3);
      const auto read = read_line(line, ink_of(line), &judge);
      REQUIRE(read.size() == 2);
      CHECK(read[0].box.x < 20);
      CHECK(read[1].box.x > 280);
    }
  }

  TEST_CASE("specks and underlines are dropped") {
    auto blobs = blobs_drawn([](cv::Mat& m) {
      cv::line(m, {100, 50}, {100, 150}, cv::Scalar(255), 8);
      cv::circle(m, {200, 140}, 3, cv::Scalar(255), cv::FILLED);
      cv::line(m, {50, 180}, {350, 180}, cv::Scalar(255), 4);
    });
    REQUIRE(blobs.size() == 3);
    const auto kept = drop_marks(blobs, 100);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].box.x < 110);
  }

  TEST_CASE("slivers of lines cut off by the frame are dropped but not a 1 at the edge") {
    // The end of a grid line, 2 px thick, leaving the picture on the left, and a 0 and a 0.
    const auto with_line = blobs_drawn([&](cv::Mat& m) {
      cv::line(m, {0, 60}, {1, 160}, cv::Scalar(255), 2);
      zero_at(m, 100);
      zero_at(m, 200);
    });
    REQUIRE(with_line.size() == 3);
    const auto kept = drop_slivers(with_line, {400, 300});
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].box.x > 50);
    // A 1 in the same pen as its neighbours, at the edge of a tight crop, stays; so does a 1 alone.
    const auto with_one = blobs_drawn([&](cv::Mat& m) {
      cv::line(m, {3, 100}, {3, 180}, cv::Scalar(255), 8);
      zero_at(m, 100);
    });
    CHECK(drop_slivers(with_one, {400, 300}).size() == 2);
    const auto one_alone = blobs_drawn([](cv::Mat& m) { cv::line(m, {1, 0}, {1, 299}, cv::Scalar(255), 3); });
    CHECK(drop_slivers(one_alone, {400, 300}).size() == 1);
    // And in the whole pipeline: a grid line leaving a photographed page.
    cv::Mat photo = page("305");
    cv::line(photo, {1, 30}, {3, 170}, cv::Scalar(120), 2);
    CHECK(segment_image(photo).digits.size() == 3);
  }

  TEST_CASE("what runs along the frame (a desk beside the sheet) is dropped but not a 1 in a tight crop") {
    const auto with_desk = blobs_drawn([&](cv::Mat& m) {
      cv::rectangle(m, cv::Rect(0, 20, 30, 260), cv::Scalar(255), cv::FILLED);  // the desk on the left
      cv::rectangle(m, cv::Rect(60, 285, 300, 15), cv::Scalar(255), cv::FILLED);  // a shadow along the bottom
      zero_at(m, 100);
      zero_at(m, 200);
    });
    REQUIRE(with_desk.size() == 4);
    const auto kept = drop_frame_bands(with_desk, {400, 300}, 88);
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].box.x == 96);
    // In a wide picture, a strip of desk along the top a third of the width long (three and a half
    // digits) is no writing either: it was read as a row of 1s.
    const auto with_strip = blobs_drawn([&](cv::Mat& m) {
      cv::rectangle(m, cv::Rect(0, 0, 300, 40), cv::Scalar(255), cv::FILLED);
      zero_at(m, 100);
      zero_at(m, 600);
    }, {900, 300});
    REQUIRE(with_strip.size() == 3);
    CHECK(drop_frame_bands(with_strip, {900, 300}, 85).size() == 2);
    // A 1 filling a tight crop from top to bottom, or standing at its edge, is writing.
    const auto tight = blobs_drawn([](cv::Mat& m) { cv::line(m, {2, 0}, {8, 59}, cv::Scalar(255), 4); }, {30, 60});
    CHECK(drop_frame_bands(tight, {30, 60}, 60).size() == 1);
    const auto at_edge = blobs_drawn([&](cv::Mat& m) {
      cv::line(m, {1, 40}, {1, 200}, cv::Scalar(255), 6);
      zero_at(m, 100);
    }, {400, 240});
    CHECK(drop_frame_bands(at_edge, {400, 240}, 160).size() == 2);
    // And in the whole pipeline: a photo whose left side is desk.
    cv::Mat photo = page("3 8 1");
    photo(cv::Rect(0, 0, 25, 200)).setTo(60);
    CHECK(segment_image(photo).digits.size() == 3);
  }

  TEST_CASE("on lined paper a hairline piece of a line is dropped anywhere but not a 1 in the writer's pen") {
    // A piece of a wavy grid line the line search left, between two 0s, away from the frame.
    const auto with_piece = blobs_drawn([&](cv::Mat& m) {
      zero_at(m, 100);
      cv::line(m, {170, 90}, {171, 170}, cv::Scalar(255), 2);
      zero_at(m, 200);
    });
    REQUIRE(with_piece.size() == 3);
    CHECK(drop_slivers(with_piece, {400, 300}, true).size() == 2);
    CHECK(drop_slivers(with_piece, {400, 300}, false).size() == 3);  // unlined: a 1 in a fine pen
    const auto with_one = blobs_drawn([&](cv::Mat& m) {
      zero_at(m, 100);
      cv::line(m, {170, 100}, {170, 180}, cv::Scalar(255), 8);
      zero_at(m, 200);
    });
    CHECK(drop_slivers(with_one, {400, 300}, true).size() == 3);
  }

  TEST_CASE("a faint rule the digits are written on is removed though the mask holds it only in pieces") {
    for (const int rule : {150, 160, 170, 180, 190, 200, 210, 220}) {
      CAPTURE(rule);
      cv::Mat paper(220, 640, CV_8U, cv::Scalar(235));
      cv::line(paper, {0, 150}, {639, 150}, cv::Scalar(rule), 2);
      cv::putText(paper, "305", {60, 150}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(30), 10);
      cv::GaussianBlur(paper, paper, cv::Size(0, 0), 1.5);
      cv::Mat noise(paper.size(), CV_8S);
      cv::theRNG().state = 7;
      cv::randn(noise, 0, 5);
      cv::add(paper, noise, paper, cv::noArray(), CV_8U);
      const auto record = segment_image(paper);
      REQUIRE(record.digits.size() == 3);
      // Each box is the digit's own: no piece of the rule sticks out of it.
      for (const auto& d : record.digits) CHECK(d.box.w < d.box.h);
    }
  }

  TEST_CASE("a large JPEG decoded smaller gives boxes in its full size's pixels") {
    cv::Mat photo = page("305", false, {3400, 1200});
    std::vector<std::uint8_t> bytes;
    REQUIRE(cv::imencode(".jpg", photo, bytes));
    const std::string jpeg(bytes.begin(), bytes.end());
    const auto reduced = segment_bytes(jpeg);
    const auto whole = segment_image(decode_image(jpeg));
    CHECK(reduced.width == 3400);
    CHECK(reduced.height == 1200);
    REQUIRE(reduced.digits.size() == whole.digits.size());
    for (std::size_t i = 0; i < whole.digits.size(); ++i) {
      const auto& a = reduced.digits[i].box;
      const auto& b = whole.digits[i].box;
      CHECK(std::abs(a.x - b.x) <= 4);
      CHECK(std::abs(a.y - b.y) <= 4);
      CHECK(std::abs(a.w - b.w) <= 6);
      CHECK(std::abs(a.h - b.h) <= 6);
    }
  }

  TEST_CASE("boxes drawn around digits are removed: one box each and a form's comb field") {
    const std::vector<std::string> digits{"3", "0", "5", "7", "1"};
    cv::Mat boxes(200, 700, CV_8U, cv::Scalar(240));
    cv::Mat comb = boxes.clone();
    cv::rectangle(comb, cv::Rect(40, 30, 600, 130), cv::Scalar(60), 2);
    for (int i = 0; i < 5; ++i) {
      cv::rectangle(boxes, cv::Rect(40 + i * 120, 30, 100, 130), cv::Scalar(60), 2);
      if (i > 0) cv::line(comb, {40 + i * 120, 30}, {40 + i * 120, 160}, cv::Scalar(60), 2);
      for (cv::Mat* img : {&boxes, &comb})
        cv::putText(*img, digits[static_cast<std::size_t>(i)], {60 + i * 120, 135}, cv::FONT_HERSHEY_SIMPLEX, 3, cv::Scalar(20), 8);
    }
    for (const cv::Mat& img : {boxes, comb}) {
      const auto record = segment_image(img);
      REQUIRE(record.digits.size() == 5);
      for (int i = 0; i < 5; ++i) {
        const auto& box = record.digits[static_cast<std::size_t>(i)].box;
        CHECK(box.x > 40 + i * 120 + 4);  // the digit, inside its box
        CHECK(box.x + box.w < 40 + i * 120 + 100 - 4);
        CHECK(box.h < 110);
      }
    }
    // Photographed a little askew: the boxes by 5 degrees, the comb by 2.
    for (const auto& [img, degrees] : {std::pair{boxes, 5.0}, std::pair{comb, 2.0}}) {
      CAPTURE(degrees);
      cv::Mat turned;
      const cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(350, 100), degrees, 1.0);
      cv::warpAffine(img, turned, m, img.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(240));
      const auto record = segment_image(turned);
      REQUIRE(record.digits.size() == 5);
      for (const auto& d : record.digits) CHECK(d.box.h < 110);
    }
  }

  TEST_CASE("a grid running out of the picture is no box") {
    cv::Mat grid = cv::Mat::zeros(300, 400, CV_8U);
    for (int x = 0; x < 400; x += 40) cv::line(grid, {x, 0}, {x, 299}, cv::Scalar(255), 2);
    for (int y = 0; y < 300; y += 40) cv::line(grid, {0, y}, {399, y}, cv::Scalar(255), 2);
    cv::Mat mask = grid.clone();
    CHECK(remove_frames(mask, find_blobs(mask)) == 0);
    CHECK(cv::countNonZero(mask != grid) == 0);
  }

  TEST_CASE("a fragment sitting low in a line does not start a new line") {
    // A digit, the lower loop of a 6 whose faint stem was lost, then three more digits.
    cv::Mat mask = cv::Mat::zeros(45, 130, CV_8U);
    for (const int x : {7, 50, 70, 99}) cv::rectangle(mask, cv::Rect(x, 10, 12, 20), cv::Scalar(255), 2);
    cv::circle(mask, {38, 28}, 4, cv::Scalar(255), 2);
    const auto lines = group_lines(find_blobs(mask), 20);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() == 5);
  }

  TEST_CASE("digits are grouped into sloping lines and read in order") {
    cv::Mat mask = cv::Mat::zeros(600, 900, CV_8U);
    const double slope = std::tan(8 * CV_PI / 180);
    std::vector<cv::Point> centres;
    for (int line = 0; line < 3; ++line)
      for (int i = 0; i < 8; ++i) centres.emplace_back(60 + 100 * i, 100 + 150 * line + static_cast<int>(slope * 100 * i));
    for (const auto& c : centres) cv::rectangle(mask, cv::Rect(c.x - 15, c.y - 35, 30, 70), cv::Scalar(255), 6);
    const auto lines = group_lines(find_blobs(mask), 70);
    REQUIRE(lines.size() == 3);
    for (std::size_t l = 0; l < 3; ++l) {
      REQUIRE(lines[l].size() == 8);
      for (std::size_t i = 0; i < 8; ++i) {
        const auto& box = lines[l][i].box;
        CHECK(std::abs(box.x + box.width / 2 - centres[l * 8 + i].x) <= 2);
        CHECK(std::abs(box.y + box.height / 2 - centres[l * 8 + i].y) <= 2);
      }
    }
  }

  TEST_CASE("a steeply climbing line with wide gaps stays one line") {
    // Writing climbing at 14 degrees, digits two heights apart: each is more than half a digit
    // height above the one before, so no line may be followed at slope 0 from its first digit.
    cv::Mat mask = cv::Mat::zeros(400, 1000, CV_8U);
    const double slope = -std::tan(14 * CV_PI / 180);
    std::vector<int> xs;
    for (int i = 0; i < 6; ++i) {
      const cv::Point c(60 + 170 * i, 330 + static_cast<int>(slope * 170 * i));
      cv::rectangle(mask, cv::Rect(c.x - 15, c.y - 35, 30, 70), cv::Scalar(255), 6);
      xs.push_back(c.x);
    }
    const auto lines = group_lines(find_blobs(mask), 70);
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0].size() == 6);
    for (std::size_t i = 0; i < 6; ++i) CHECK(std::abs(lines[0][i].box.x + lines[0][i].box.width / 2 - xs[i]) <= 2);
  }

  TEST_CASE("a whole picture gives boxes in reading order and a blank one none") {
    const auto record = segment_image(page("3 8 1"));
    CHECK(record.width == 600);
    CHECK(record.height == 200);
    REQUIRE(record.digits.size() == 3);
    for (std::size_t i = 1; i < 3; ++i) CHECK(record.digits[i].box.x > record.digits[i - 1].box.x);
    CHECK(segment_image(cv::Mat(200, 300, CV_8U, cv::Scalar(230))).digits.empty());
    const auto inverted = segment_image(page("3 8 1", true));
    CHECK(inverted.digits.size() == 3);
    SegmentOptions forced;
    forced.polarity = Polarity::light_on_dark;
    CHECK(segment_image(page("3 8 1", true), forced).digits.size() == 3);
  }

  TEST_CASE("boxes are in the original's pixels when the picture is scaled down to work") {
    cv::Mat big;
    cv::resize(page("5 2"), big, {}, 4, 4, cv::INTER_LINEAR);  // 2400x800
    SegmentOptions small;
    small.working_side = 600;
    const auto scaled = segment_image(big, small);
    const auto full = segment_image(big);
    REQUIRE(scaled.digits.size() == 2);
    REQUIRE(full.digits.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(std::abs(scaled.digits[i].box.x - full.digits[i].box.x) <= 8);
      CHECK(std::abs(scaled.digits[i].box.h - full.digits[i].box.h) <= 12);
    }
  }

  TEST_CASE("small writing read at twice its size gets boxes in the picture's own pixels") {
    // Digits about 22 px tall: read enlarged, each box must still be its own ink's.
    cv::Mat small(60, 150, CV_8U, cv::Scalar(235));
    cv::putText(small, "5 3 9", {12, 42}, cv::FONT_HERSHEY_SIMPLEX, 0.8, cv::Scalar(40), 2);
    const auto truth = ink_boxes(small);
    REQUIRE(truth.size() == 3);
    for (const auto& t : truth) CHECK(t.height < 32);
    check_boxes(segment_image(small), truth, 1);
  }

  TEST_CASE("small writing in a noisy photo is thresholded at its own noise when read enlarged") {
    // Digits about 20 px tall in grey ink on grey paper with a dim photo's grain: enlarged, the
    // grain is as coarse as the smoothing before thresholding, and the noise, measured there,
    // rose above the strokes (17 of the 40 digits were lost).
    cv::Mat clean(50, 170, CV_32F, cv::Scalar(0.9));
    cv::putText(clean, "4 8 0 7 5", {10, 35}, cv::FONT_HERSHEY_SIMPLEX, 0.75, cv::Scalar(0.65), 2);
    int found = 0;
    for (int seed = 1; seed <= 8; ++seed) {
      cv::theRNG().state = static_cast<std::uint64_t>(seed);
      cv::Mat noise(clean.size(), CV_32F);
      cv::randn(noise, 0, 0.09);
      cv::Mat picture;
      cv::Mat(clean + noise).convertTo(picture, CV_8U, 255);
      found += static_cast<int>(segment_image(picture).digits.size());
    }
    CHECK(found == 40);
  }

  TEST_CASE("a faint digit beside bolder ones in a grainy photo is kept") {
    // Four MNIST test digits 70 px tall on grey paper, the first in ink half as dark, under a dim
    // photo's grain, saved as a JPEG. The grain sets the threshold's floor, near the faint
    // digit's strokes, which stand out more once the grain is smoothed a little.
    const auto images = read_idx_images(test::source_dir / "data/mnist/t10k-images-idx3-ubyte");
    int found = 0, faint = 0;
    for (unsigned seed = 1; seed <= 16; ++seed) {
      CAPTURE(seed);
      const cv::Mat ink = mnist_ink(images, 4 * seed, {0.45, 1, 1, 1}, {360, 120}, {10, 25}, 85);
      const auto digits = photographed(150.0 - 60.0 * ink, 12, seed, 70).digits;
      found += static_cast<int>(digits.size());
      faint += !digits.empty() && digits.front().box.x < 60 ? 1 : 0;
    }
    // Measured: 64 digits found and 15 faint ones (59 and 11 when the floor alone set the level).
    CHECK(found >= 62);
    CHECK(found <= 64);
    CHECK(faint >= 14);
  }

  TEST_CASE("the noise's floor follows the paper's light across a photo") {
    // Five MNIST test digits 70 px tall, in ink 30% darker than the paper, on paper lit from the
    // left (210 to 80 levels across), under the same sensor noise all over, saved as a JPEG. The
    // ink map divides by the paper, so its noise is strongest where the paper is darkest: one
    // floor for the whole picture lost digits on the lit side or let the grain through on the
    // dark side (3 of the 16 pictures read five digits).
    const auto images = read_idx_images(test::source_dir / "data/mnist/t10k-images-idx3-ubyte");
    int found = 0, exact = 0;
    for (unsigned seed = 1; seed <= 16; ++seed) {
      CAPTURE(seed);
      const cv::Mat ink = mnist_ink(images, 5 * seed, {1, 1, 1, 1, 1}, {480, 140}, {20, 35}, 90);
      cv::Mat paper(ink.size(), CV_32F);
      for (int x = 0; x < paper.cols; ++x) paper.col(x).setTo(210.0 - 130.0 * x / paper.cols);
      const auto digits = photographed(paper.mul(1.0 - 0.3 * ink), 12, seed, 75).digits;
      found += static_cast<int>(digits.size());
      exact += digits.size() == 5 ? 1 : 0;
    }
    CHECK(exact >= 15);
    CHECK(found <= 80);
  }

  TEST_CASE("small writing in a small part of a large photo is read from that part at full size") {
    // 4000x3000 with one line of digits 26 px tall in a 2 px pen: 10 px at the working size, too
    // small to read, and the picture too large to enlarge whole.
    cv::Mat photo(3000, 4000, CV_8U, cv::Scalar(225));
    cv::putText(photo, "3 0 5 7 1 8", {2400, 1900}, cv::FONT_HERSHEY_SIMPLEX, 0.95, cv::Scalar(50), 2);
    const auto truth = ink_boxes(photo);
    REQUIRE(truth.size() == 6);
    for (const auto& t : truth) CHECK(t.height < 30);
    const auto read = segment_image(photo);
    check_boxes(read, truth, 2);
    // Told as a smaller decoded picture of that photo (a JPEG decoded at half size), the boxes are
    // still in the photo's pixels.
    cv::Mat half;
    cv::resize(photo, half, {2000, 1500}, 0, 0, cv::INTER_AREA);
    check_boxes(segment_image(half, {}, nullptr, photo.size()), truth, 4);
    // With the photo's full-size decoder the part is read from the full size, once.
    int decoded = 0;
    const auto full = [&] {
      ++decoded;
      return photo;
    };
    check_boxes(segment_image(half, {}, nullptr, photo.size(), full), truth, 2);
    CHECK(decoded == 1);
  }

  TEST_CASE("writing too faint to show at the working size of a large photo is looked for closer") {
    // Digits about 20 px tall in a 1 px pen, faint, on grainy paper in a 4000x3000 photo: at the
    // working size (1600 px) they are 8 px tall and fainter than the grain.
    const auto written = [](cv::Mat& img, double ink) {
      cv::putText(img, "4 6 9", {600, 2500}, cv::FONT_HERSHEY_SIMPLEX, 0.8, cv::Scalar(ink), 1, cv::LINE_AA);
    };
    cv::Mat photo(3000, 4000, CV_8U), plain(3000, 4000, CV_8U, cv::Scalar(255));
    cv::randn(photo, 200, 6);
    written(photo, 140);
    written(plain, 0);
    const auto truth = ink_boxes(plain);
    REQUIRE(truth.size() == 3);
    check_boxes(segment_image(photo), truth, 3);
  }

  TEST_CASE("a dark band along the frame (a desk's edge) does not set the digits' size") {
    // The band is ink to the binarisation, and larger than any digit: were it a guide to their
    // size, the digits would be dropped as specks.
    const auto blobs = blobs_drawn([](cv::Mat& m) {
      for (int i = 0; i < 4; ++i) cv::rectangle(m, cv::Rect(40 + 60 * i, 100, 25, 40), cv::Scalar(255), 4);
      cv::rectangle(m, cv::Rect(330, 0, 70, 300), cv::Scalar(255), cv::FILLED);
      cv::rectangle(m, cv::Rect(0, 250, 400, 50), cv::Scalar(255), cv::FILLED);
    });
    REQUIRE(blobs.size() == 5);
    CHECK(typical_height(blobs, {400, 300}) == 44);  // 40, and the 4 px pen round it
    CHECK(typical_height(blobs) == 300);  // without the picture's size, the band counts
    // A tight crop: every blob touches the frame, and they are all there is to go by.
    const auto tight = blobs_drawn([](cv::Mat& m) { cv::rectangle(m, cv::Rect(0, 0, 30, 60), cv::Scalar(255), 5); }, {30, 60});
    CHECK(typical_height(tight, {30, 60}) == 60);
  }

  TEST_CASE("large writing in thick strokes is read smaller but not a fine pen or small writing") {
    // Digits of about 65, 125 and 245 px in strokes of a tenth of that, and 125 px in a 3 px pen.
    const auto written = [](double scale, int thickness) {
      cv::Mat img(static_cast<int>(60 * scale) + 40, static_cast<int>(130 * scale) + 80, CV_8U, cv::Scalar(235));
      cv::putText(img, "4 7 2", {40, static_cast<int>(45 * scale) + 20}, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(40), thickness);
      return img;
    };
    CHECK(writing_reduction(written(2.5, 7), false) == 1);
    CHECK(writing_reduction(written(5, 14), false) == 2);
    CHECK(writing_reduction(written(10, 28), false) == 4);
    CHECK(writing_reduction(written(5, 3), false) == 1);
    CHECK(writing_reduction(255 - written(5, 14), true) == 2);
    // Small writing in a fine pen, gone at a glance, in a photo whose top edge cuts a shadow's
    // dark edge: the band the frame cuts is no large digit.
    cv::Mat photo(1200, 1600, CV_8U, cv::Scalar(200));
    cv::putText(photo, "4 7 2", {700, 700}, cv::FONT_HERSHEY_SIMPLEX, 0.8, cv::Scalar(140), 1);
    const std::vector<cv::Point> band{{1100, 0}, {1250, 0}, {1190, 400}, {1160, 400}};
    cv::fillConvexPoly(photo, band, cv::Scalar(60));
    CHECK(writing_reduction(photo, false) == 1);
    // Read at a quarter of its size, each digit's box is still its own ink's, in the picture's pixels.
    const cv::Mat large = written(10, 28);
    const auto truth = ink_boxes(large);
    REQUIRE(truth.size() == 3);
    check_boxes(segment_image(large), truth, 5);
    // A size that no reduction divides (the picture is padded to a multiple of it): the boxes
    // still land on the ink, the last digit's at the far edge too.
    cv::Mat odd(large.rows + 3, large.cols + 3, CV_8U, cv::Scalar(235));
    large.copyTo(odd(cv::Rect(3, 3, large.cols, large.rows)));
    cv::putText(odd, "5", {odd.cols - 200, odd.rows - 60}, cv::FONT_HERSHEY_SIMPLEX, 10, cv::Scalar(40), 28);
    REQUIRE(writing_reduction(odd, false) == 4);
    const auto odd_truth = ink_boxes(odd);
    REQUIRE(odd_truth.size() == 4);
    check_boxes(segment_image(odd), odd_truth, 5);
  }

  TEST_CASE("digits in a thick marker are kept though their loops have closed") {
    const auto images = read_idx_images(test::source_dir / "data/mnist/t10k-images-idx3-ubyte");
    const cv::Mat marker = cv::getStructuringElement(cv::MORPH_ELLIPSE, {35, 35});
    int dense = 0;  // digits whose ink fills most of their box: the case this guards
    for (int i = 0; i < 300; ++i) {
      CAPTURE(i);
      Crop original{};
      std::ranges::copy(images.image(static_cast<std::size_t>(i)), original.begin());
      cv::Mat digit;
      cv::resize(crop_to_mat(original), digit, {}, 5, 5, cv::INTER_CUBIC);
      cv::dilate(digit, digit, marker);
      const cv::Rect box = cv::boundingRect(digit > 128);
      dense += cv::countNonZero(digit(box) > 128) > 0.85 * box.area() ? 1 : 0;
      cv::Mat img(300, 400, CV_8U, cv::Scalar(235));
      cv::Mat ink_layer = img(cv::Rect(130, 80, 140, 140));
      cv::subtract(ink_layer, digit, ink_layer);
      CHECK(segment_image(img).digits.size() == 1);
    }
    MESSAGE(dense << " of 300 bold digits fill more than 85% of their box");
    CHECK(dense > 0);
    // A solid patch of a digit's size still is no digit.
    cv::Mat img(300, 400, CV_8U, cv::Scalar(235));
    cv::rectangle(img, cv::Rect(150, 110, 40, 60), cv::Scalar(20), cv::FILLED);
    CHECK(segment_image(img).digits.empty());
  }

  TEST_CASE("an MNIST test digit rendered large and re-segmented keeps its crop") {
    const auto images = read_idx_images(test::source_dir / "data/mnist/t10k-images-idx3-ubyte");
    double total = 0;
    constexpr int count = 50;
    for (int i = 0; i < count; ++i) {
      CAPTURE(i);
      Crop original{};
      std::ranges::copy(images.image(static_cast<std::size_t>(i)), original.begin());
      cv::Mat digit;
      cv::resize(crop_to_mat(original), digit, {}, 5, 5, cv::INTER_CUBIC);
      cv::Mat img(300, 400, CV_8U, cv::Scalar(235));
      cv::Mat ink_layer = img(cv::Rect(130, 80, 140, 140));
      cv::subtract(ink_layer, digit, ink_layer);
      const auto record = segment_image(img);
      REQUIRE(record.digits.size() == 1);
      const double r = correlation(record.digits[0].pixels, original);
      CHECK(r > 0.7);
      total += r;
    }
    MESSAGE("mean correlation " << total / count);
    CHECK(total / count > 0.88);
  }
}
