// Grey levels and the working size: what segmentation measures first.

#include <doctest/doctest.h>

#include "segment/levels.hpp"

#include <opencv2/imgproc.hpp>

using namespace digits;

TEST_SUITE("levels") {
  TEST_CASE("large pictures are worked on at a smaller scale") {
    const cv::Mat big(1000, 4000, CV_8U, cv::Scalar(200));
    const Working w = to_working_resolution(big, 1600);
    CHECK(w.image.size() == cv::Size(1600, 400));
    CHECK(w.scale == doctest::Approx(0.4));
    const Working same = to_working_resolution(big, 5000);
    CHECK(same.scale == 1.0);
    CHECK(same.image.size() == big.size());
  }

  TEST_CASE("grey levels are counted, and found by their rank") {
    // Ten pixels: four at 10, five at 200, one at 255.
    cv::Mat img(1, 10, CV_8U, cv::Scalar(200));
    img.colRange(0, 4).setTo(10);
    img.at<std::uint8_t>(0, 9) = 255;
    const auto hist = histogram(img);
    CHECK(hist[10] == 4);
    CHECK(hist[200] == 5);
    CHECK(hist[255] == 1);
    CHECK(level_at_rank(hist, 0) == 10);
    CHECK(level_at_rank(hist, 3) == 10);
    CHECK(level_at_rank(hist, 4) == 200);
    CHECK(level_at_rank(hist, 9) == 255);
    CHECK(level_at_rank(hist, 10) == 255);  // past the last pixel
    CHECK(level_at_rank(hist, 0, 11) == 200);  // the 10s not counted
    CHECK(level_at_rank(hist, 5, 11) == 255);
  }

  TEST_CASE("the histogram counts runs of paper and every width's tail, as OpenCV counts them") {
    cv::Mat img(40, 203, CV_8U, cv::Scalar(0));
    cv::randu(img(cv::Rect(30, 5, 61, 20)), 0, 256);  // ink among zeros, runs of any length
    img(cv::Rect(150, 0, 53, 40)).setTo(7);
    img.at<std::uint8_t>(39, 202) = 255;
    for (const cv::Mat& m : {img, img(cv::Rect(3, 2, 197, 35))}) {  // whole, and a view of odd width
      cv::Mat expected;
      const int channels[] = {0}, sizes[] = {256};
      const float range[] = {0, 256};
      const float* ranges[] = {range};
      cv::calcHist(&m, 1, channels, cv::Mat(), expected, 1, sizes, ranges);
      const auto hist = histogram(m);
      for (int v = 0; v < 256; ++v) {
        CAPTURE(v);
        CHECK(hist[static_cast<std::size_t>(v)] == static_cast<int>(expected.at<float>(v)));
      }
    }
  }
}
