#pragma once
// A candidate digit as the classifier sees it: its own ink, soft edges included, normalised into
// MNIST's 28x28 (normalise.hpp).

#include "segment/common.hpp"

#include <opencv2/core.hpp>

namespace digits {

// The blob's 28x28 crop: its own ink from the ink map, soft edges included, without the strokes
// of neighbours that reach into its box. The blob's `crop` when it has one.
Crop digit_crop(const cv::Mat& ink, const Blob& blob);

}  // namespace digits
