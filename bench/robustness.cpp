// bench-robustness: accuracy of models on the MNIST test set and on distorted copies of it
// (off-centre, rotated, thin pen, thick pen), the way real crops differ from MNIST.
// Usage: bench-robustness MNIST_DIR MODEL...

#include "io/dataset.hpp"
#include "recognise/evaluate.hpp"
#include "recognise/model.hpp"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <functional>

namespace {

using Distortion = std::function<cv::Mat(const cv::Mat&)>;

digits::Split distorted(const digits::Split& test, const Distortion& distort) {
  digits::Split out = test;
  for (std::size_t i = 0; i < test.count(); ++i) {
    const cv::Mat src(28, 28, CV_8UC1, const_cast<std::uint8_t*>(test.images.image(i).data()));
    const cv::Mat dst = distort(src);
    std::copy(dst.datastart, dst.dataend, out.images.pixels.begin() + static_cast<std::ptrdiff_t>(i * 784));
  }
  return out;
}

cv::Mat affine(const cv::Mat& src, const cv::Mat& m) {
  cv::Mat out;
  cv::warpAffine(src, out, m, src.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: bench-robustness MNIST_DIR MODEL...\n");
    return 2;
  }
  const digits::Dataset mnist = digits::load_dataset(argv[1]);
  const std::vector<std::pair<std::string, Distortion>> variants{
      {"MNIST test", [](const cv::Mat& m) { return m.clone(); }},
      {"shifted 3 px", [](const cv::Mat& m) { return affine(m, (cv::Mat_<double>(2, 3) << 1, 0, 3, 0, 1, -3)); }},
      {"rotated 15 deg", [](const cv::Mat& m) { return affine(m, cv::getRotationMatrix2D({13.5, 13.5}, 15, 1)); }},
      {"scaled 0.75", [](const cv::Mat& m) { return affine(m, cv::getRotationMatrix2D({13.5, 13.5}, 0, 0.75)); }},
      // Slanted writing: x' = x + s (y - centre), tops leaning right (s < 0) or left.
      {"slanted right 0.4", [](const cv::Mat& m) { return affine(m, (cv::Mat_<double>(2, 3) << 1, -0.4, 0.4 * 13.5, 0, 1, 0)); }},
      {"slanted left 0.4", [](const cv::Mat& m) { return affine(m, (cv::Mat_<double>(2, 3) << 1, 0.4, -0.4 * 13.5, 0, 1, 0)); }},
      {"thin pen (erode 2x2)", [](const cv::Mat& m) { cv::Mat o; cv::erode(m, o, cv::Mat::ones(2, 2, CV_8U)); return o; }},
      {"thick pen (dilate 3x3)", [](const cv::Mat& m) { cv::Mat o; cv::dilate(m, o, cv::Mat::ones(3, 3, CV_8U)); return o; }},
  };
  std::vector<digits::Model> models;
  fmt::print("{:<24}", "test set");
  for (int i = 2; i < argc; ++i) {
    models.push_back(digits::load_model(argv[i]));
    fmt::print(" | {:>24}", std::string(argv[i]).substr(std::string(argv[i]).find_last_of('/') + 1));
  }
  fmt::print("\n");
  for (const auto& [name, distort] : variants) {
    const digits::Split set = distorted(mnist.test, distort);
    fmt::print("{:<24}", name);
    for (const auto& m : models) fmt::print(" | {:>23.2f}%", digits::evaluate(m, set).accuracy() * 100);
    fmt::print("\n");
  }
}
