#pragma once
// The PNGs the fast path (io/png.cpp) does not take, read by libpng directly: with error and
// warning functions of ours (never its lines on stderr) and the transforms OpenCV 4.6's decoder
// asks for, so each pixel comes out as it did through cv::imdecode, a row at a time into the grey
// plane (io/flatten.hpp).

#include "io/image.hpp"

#include <string_view>

#include <opencv2/core.hpp>

namespace digits {

// The grey picture of a PNG whose header passed the checks; throws Error on a damaged file.
cv::Mat decode_with_libpng(std::string_view bytes, const ImageHeader& header);

}  // namespace digits
