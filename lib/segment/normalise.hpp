#pragma once
// MNIST's normalisation of one digit, shared by segmentation and training so that what the
// classifier sees at run time is made exactly like what it learnt from.

#include "io/records.hpp"

#include <opencv2/core.hpp>

namespace digits {

// Inside the 28x28 crop the digit's longer side is scaled to this, as MNIST did.
inline constexpr int digit_box_side = 20;
// Strokes thinner than this (in pixels of the 20x20 box) are thickened before scaling:
// MNIST's pen strokes are about 2-3 px there, and a hairline would vanish in the averaging.
inline constexpr double min_stroke_in_box = 2.0;

// `ink`: an 8-bit grayscale image of one digit, white (high) ink on black, any size (not empty).
// Crops to the ink, thickens thin strokes, scales the longer side to 20 px keeping the aspect
// ratio with area averaging (anti-aliased), stretches the contrast so the strokes reach 255, and
// pastes the result into 28x28 so that its centre of mass is at the centre. An image without
// ink gives an all-black crop. Throws Error when `ink` is empty or not 8-bit single-channel.
Crop normalise_digit(const cv::Mat& ink);

// The mean stroke width of the ink above half intensity, in pixels (2 * area / perimeter).
double stroke_width(const cv::Mat& ink);

// The crop as a 28x28 CV_8U matrix (a copy), handy for drawing and tests.
cv::Mat crop_to_mat(const Crop& crop);

}  // namespace digits
