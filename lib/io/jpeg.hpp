#pragma once
// JPEG decoding with libjpeg-turbo's TurboJPEG API: grey straight from the decoder, scaled while
// decoding, EXIF orientation applied as OpenCV applies it. Through OpenCV, libjpeg's default error
// manager printed its warnings ("Corrupt JPEG data: ...") on our stderr; TurboJPEG keeps them as
// a message, so a bad file is one error line of ours. The decoded pixels are the ones OpenCV's
// IMREAD_GRAYSCALE (and its REDUCED modes) gives: the same library, the same accurate IDCT.

#include <optional>
#include <string_view>

#include <opencv2/core.hpp>

namespace digits {

// The picture, `reduction` (1, 2, 4 or 8) times smaller on each side, grey, turned upright by its
// EXIF orientation. nullopt for a CMYK or YCCK JPEG, which TurboJPEG cannot turn grey (OpenCV
// can). Throws Error when the data cannot be decoded; the decoder's warnings (damaged data it
// could read past) are not errors. The caller has checked the header's size and the scans.
std::optional<cv::Mat> decode_jpeg_grey(std::string_view bytes, int reduction);

// The EXIF orientation (1-8) of a JPEG's first APP1 "Exif" segment; 1 when there is none or it
// cannot be read.
int jpeg_exif_orientation(std::string_view bytes);

}  // namespace digits
