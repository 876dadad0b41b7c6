#pragma once
// The size writing is read at: large writing smaller (the same digits in a fraction of the
// pixels), small writing larger (strokes that nearly meet part in the enlarged ink's grey levels),
// small writing in a small part of a large photo from that part alone.

#include "segment/common.hpp"
#include "segment/tuning.hpp"

#include <opencv2/core.hpp>

#include <vector>

namespace digits {

// How many times smaller the picture (polarity as given) may be read with its digits still
// comfortably large: 1, 2 or 4, judged from a glance at a quarter of its size. Large writing
// carries no more information at full size, only more pixels to process.
int writing_reduction(const cv::Mat& gray, bool light_on_dark, const Tuning& tuning = default_tuning());

// Whether writing of typical `height` is small: read at twice its size.
bool small_writing(double height, const SizeTuning& tuning = {});

// Where small writing (`blobs` of typical `height`, found in a picture of `size`) lies: the blobs
// of about the digits' height (not a shadow's edge or the desk), with room around them for digits
// too faint to be found at this size, along the line most of all. Empty when that is more than a
// quarter of the picture.
cv::Rect writing_part(const std::vector<Blob>& blobs, double height, const cv::Size& size, const SizeTuning& tuning = {});

}  // namespace digits
