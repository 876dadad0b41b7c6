// MNIST's normalisation of one digit.

#include <doctest/doctest.h>

#include "base/error.hpp"
#include "segment/normalise.hpp"

#include <opencv2/imgproc.hpp>

using namespace digits;

namespace {

cv::Rect ink_box(const cv::Mat& m) {
  std::vector<cv::Point> points;
  cv::findNonZero(m > 30, points);
  return cv::boundingRect(points);
}

}  // namespace

TEST_SUITE("normalise") {
  TEST_CASE("the longer side becomes 20 px and the centre of mass the centre") {
    cv::Mat ink = cv::Mat::zeros(300, 200, CV_8U);
    cv::ellipse(ink, {120, 160}, {40, 100}, 0, 0, 360, cv::Scalar(255), 14);  // a tall 0, off-centre
    const cv::Mat crop = crop_to_mat(normalise_digit(ink));
    const cv::Rect box = ink_box(crop);
    CHECK(box.height == doctest::Approx(20).epsilon(0.06));
    CHECK(box.width == doctest::Approx(20 * 94.0 / 214).epsilon(0.2));  // aspect ratio kept
    const cv::Moments m = cv::moments(crop);
    CHECK(m.m10 / m.m00 == doctest::Approx(14).epsilon(0.05));
    CHECK(m.m01 / m.m00 == doctest::Approx(14).epsilon(0.05));
    double top = 0;
    cv::minMaxLoc(crop, nullptr, &top);
    CHECK(top == 255);
  }

  TEST_CASE("hairline strokes are thickened so they survive scaling down") {
    cv::Mat ink = cv::Mat::zeros(400, 300, CV_8U);
    cv::ellipse(ink, {150, 200}, {100, 180}, 0, 0, 360, cv::Scalar(255), 1);
    const cv::Mat crop = crop_to_mat(normalise_digit(ink));
    CHECK(cv::countNonZero(crop > 128) > 40);
    CHECK(stroke_width(crop) >= 1.5);
  }

  TEST_CASE("faint hairlines are thickened too") {
    // A fine pen in a blurred photo: the ink map never reaches half of 255.
    cv::Mat ink = cv::Mat::zeros(400, 300, CV_8U);
    cv::ellipse(ink, {150, 200}, {100, 180}, 0, 0, 360, cv::Scalar(90), 2);
    const cv::Mat crop = crop_to_mat(normalise_digit(ink));
    CHECK(cv::countNonZero(crop > 128) > 40);
    CHECK(stroke_width(crop) >= 1.5);
  }

  TEST_CASE("stroke width is measured in pixels") {
    cv::Mat bar = cv::Mat::zeros(200, 200, CV_8U);
    cv::rectangle(bar, cv::Rect(20, 90, 160, 6), cv::Scalar(255), cv::FILLED);
    CHECK(stroke_width(bar) == doctest::Approx(6).epsilon(0.15));
    CHECK(stroke_width(cv::Mat::zeros(10, 10, CV_8U)) == 0);
  }

  TEST_CASE("faint ink is stretched and an empty image gives an empty crop") {
    cv::Mat faint = cv::Mat::zeros(100, 100, CV_8U);
    cv::line(faint, {50, 10}, {50, 90}, cv::Scalar(90), 8);
    const Crop crop = normalise_digit(faint);
    CHECK(*std::max_element(crop.begin(), crop.end()) == 255);
    const Crop empty = normalise_digit(cv::Mat::zeros(50, 50, CV_8U));
    CHECK(std::all_of(empty.begin(), empty.end(), [](std::uint8_t v) { return v == 0; }));
    CHECK_THROWS_AS(normalise_digit(cv::Mat()), Error);
    CHECK_THROWS_AS(normalise_digit(cv::Mat::zeros(10, 10, CV_32F)), Error);
  }
}
