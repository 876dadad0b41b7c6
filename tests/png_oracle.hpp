#pragma once
// How PNGs were decoded before we read every kind ourselves, kept as the oracle our decoding must
// equal pixel for pixel: cv::imdecode, IMREAD_GRAYSCALE for a picture without transparency and
// IMREAD_UNCHANGED for one with it (ImageHeader::alpha), whose transparency was then flattened
// onto the background by the whole-picture code below (lib/image.cpp's gray_of as it was).
// Header-only: the unit tests and the PNG fuzzer use it.

#include "io/image.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace digits::test {

// The grey plane of a picture cv::imdecode gave (BGR order), transparency flattened.
inline cv::Mat old_gray_of(const cv::Mat& decoded) {
  cv::Mat eight;
  if (decoded.depth() == CV_16U)
    decoded.convertTo(eight, CV_8U, 1.0 / 257);
  else
    eight = decoded;
  if (eight.channels() != 4 && eight.channels() != 2) {
    if (eight.channels() == 1) return eight;
    cv::Mat gray;
    cv::cvtColor(eight, gray, cv::COLOR_BGR2GRAY);
    return gray;
  }
  const int channels = eight.channels();
  cv::Mat gray;
  if (channels == 4)
    cv::cvtColor(eight, gray, cv::COLOR_BGRA2GRAY);
  else
    cv::extractChannel(eight, gray, 0);
  std::uint8_t lowest = 255;
  double opaque_sum = 0;
  std::int64_t opaque_count = 0;
  for (int y = 0; y < eight.rows; ++y) {
    const std::uint8_t* in = eight.ptr<std::uint8_t>(y);
    const std::uint8_t* g = gray.ptr<std::uint8_t>(y);
    for (int x = 0; x < eight.cols; ++x) {
      const std::uint8_t alpha = in[x * channels + channels - 1];
      lowest = std::min(lowest, alpha);
      if (alpha >= 128) {
        opaque_sum += g[x];
        ++opaque_count;
      }
    }
  }
  if (lowest == 255) return gray;
  const double level = opaque_count > 0 ? opaque_sum / static_cast<double>(opaque_count) : 0;
  const float background = level < 128 ? 255.0f : 0.0f;
  for (int y = 0; y < eight.rows; ++y) {
    const std::uint8_t* in = eight.ptr<std::uint8_t>(y);
    std::uint8_t* g = gray.ptr<std::uint8_t>(y);
    for (int x = 0; x < eight.cols; ++x) {
      const float a = static_cast<float>(in[x * channels + channels - 1]) * (1.0f / 255.0f);
      g[x] = cv::saturate_cast<std::uint8_t>(static_cast<float>(g[x]) * a + (1.0f - a) * background);
    }
  }
  return gray;
}

// What cv::imdecode and the flattening above make of a PNG; empty when imdecode fails.
inline cv::Mat old_png_grey(std::string_view bytes) {
  const auto header = read_image_header(bytes);
  if (!header) return {};
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  if (!header->alpha) return cv::imdecode(buffer, cv::IMREAD_GRAYSCALE);
  const cv::Mat decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  return decoded.empty() ? cv::Mat() : old_gray_of(decoded);
}

}  // namespace digits::test
