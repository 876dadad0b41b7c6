#pragma once
// EXIF orientation, as OpenCV reads and applies it: JPEG carries it in an APP1 segment, PNG in
// an eXIf chunk, both as a TIFF structure.

#include <string_view>

#include <opencv2/core.hpp>

namespace digits {

// The orientation (tag 0x0112, 1-8) in the first directory of a TIFF structure ("II" or "MM",
// then its offsets); 1 when there is none or it cannot be read.
int exif_orientation(std::string_view tiff);

// Turns `image` upright for an EXIF orientation, as OpenCV does for the files it decodes.
cv::Mat apply_exif_orientation(const cv::Mat& image, int orientation);

}  // namespace digits
