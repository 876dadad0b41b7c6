#pragma once
// The ink: which way it departs from the paper (its polarity), and how strongly at each pixel
// once the paper's light is divided away (the ink map).

#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

namespace digits {

// True when the ink is lighter than its surroundings (chalk on a board, white pen on black).
// Judged against a local background, so a lighting gradient does not decide it.
bool is_light_on_dark(const cv::Mat& gray, const PolarityTuning& tuning = {});

// The ink's strength with the background taken out: 0 where the paper is, up to 255 for the
// darkest ink (dark-on-light input; pass light_on_dark for the other polarity). The background
// is a morphological closing at low resolution, so shadows, gradients and tinted or ruled paper
// are divided away rather than thresholded. With `paper_level`, also that background: the
// paper's level behind each pixel.
cv::Mat ink_map(const cv::Mat& gray, bool light_on_dark, cv::Mat* paper_level = nullptr, const InkTuning& tuning = {});

}  // namespace digits
