#pragma once
// Ink or paper, pixel by pixel: an ink map thresholded with hysteresis above the paper's noise.

#include "segment/common.hpp"
#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

#include <optional>
#include <vector>

namespace digits {

// The paper's noise in an ink map: the median and spread of its histogram, lightly smoothed.
struct PaperNoise {
  int median = 0;
  double sigma = 0;
};

// 255 for ink, 0 elsewhere: hysteresis between a contrast threshold chosen from the ink map's
// histogram (Otsu, never below a floor so paper noise stays paper) and half of it, so faint
// parts of a stroke survive when they touch a confident part. Where the noise sets the floor, it
// follows `paper_level` (ink_map's), when given: the same sensor noise is stronger in the map where
// the paper is darker; and a stroke is also confident where it stands out of the noise of the map
// smoothed a little more. The noise is the map's own, or `noise` where that is lower (the same
// picture's, measured at its own size, when this map is it enlarged); with `measured`, the noise
// it went by. With `blobs`, also the mask's blobs, as find_blobs would find them: the hysteresis
// has labelled them already. With `faint`, also the ink above a lower level, just out of the
// paper's noise.
cv::Mat binarise(const cv::Mat& ink, std::vector<Blob>* blobs = nullptr, cv::Mat* faint = nullptr,
                 const std::optional<PaperNoise>& noise = std::nullopt, PaperNoise* measured = nullptr,
                 const cv::Mat& paper_level = {}, const BinariseTuning& tuning = {});

}  // namespace digits
