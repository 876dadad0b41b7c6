#pragma once
// A grey picture's levels and size as segmentation first sees them: how many pixels have each grey
// level, the level at a given rank, and the picture shrunk to the size segmentation works at.

#include <array>

#include <opencv2/core.hpp>

namespace digits {

// The scale (<= 1) that brings the longer side down to `max_side`, and the resized image.
struct Working {
  cv::Mat image;
  double scale = 1;  // working = original * scale
};
Working to_working_resolution(const cv::Mat& gray, int max_side);

// How many pixels of an 8-bit single-channel image have each grey level.
std::array<int, 256> histogram(const cv::Mat& img);

// The grey level of the pixel of that rank (from 0, darkest first) among those at `from` or
// lighter in `hist`; 255 when there are no more pixels than that.
int level_at_rank(const std::array<int, 256>& hist, long rank, int from = 0);

}  // namespace digits
