#include "segment/levels.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace digits {

Working to_working_resolution(const cv::Mat& gray, int max_side) {
  const int longer = std::max(gray.cols, gray.rows);
  if (longer <= max_side) return {gray, 1.0};
  const double scale = static_cast<double>(max_side) / longer;
  Working w;
  w.scale = scale;
  cv::resize(gray, w.image, cv::Size(), scale, scale, cv::INTER_AREA);
  return w;
}

std::array<int, 256> histogram(const cv::Mat& img) {
  // Four histograms filled in turn: most pixels are paper of one value, and incrementing one
  // counter over and over waits on its own previous store (measured: 3x slower). Runs of 0 (the
  // paper of an ink map or a crop) are counted eight at a time.
  std::array<std::array<int, 256>, 4> part{};
  for (int y = 0; y < img.rows; ++y) {
    const auto* row = img.ptr<std::uint8_t>(y);
    int x = 0;
    for (; x + 8 <= img.cols; x += 8) {
      std::uint64_t eight = 0;
      std::memcpy(&eight, row + x, sizeof eight);
      if (eight == 0) {
        part[0][0] += 8;
        continue;
      }
      for (int k = x; k < x + 8; k += 4) {
        ++part[0][row[k]];
        ++part[1][row[k + 1]];
        ++part[2][row[k + 2]];
        ++part[3][row[k + 3]];
      }
    }
    for (; x + 4 <= img.cols; x += 4) {
      ++part[0][row[x]];
      ++part[1][row[x + 1]];
      ++part[2][row[x + 2]];
      ++part[3][row[x + 3]];
    }
    for (; x < img.cols; ++x) ++part[0][row[x]];
  }
  std::array<int, 256> hist{};
  for (std::size_t v = 0; v < hist.size(); ++v) hist[v] = part[0][v] + part[1][v] + part[2][v] + part[3][v];
  return hist;
}

int level_at_rank(const std::array<int, 256>& hist, long rank, int from) {
  long seen = 0;
  for (int v = std::max(0, from); v < 256; ++v) {
    seen += hist[static_cast<std::size_t>(v)];
    if (seen > rank) return v;
  }
  return 255;
}

}  // namespace digits
