#pragma once
// A quicker way through the PNGs most uploads are (8-bit, not interlaced, grey or RGB, with or
// without alpha). libpng undoes PNG's row filters a byte at a time through memory: a 1000x300
// grey PNG takes 0.97 ms in cv::imdecode, of which zlib's inflate is 0.33 ms. Here libdeflate
// inflates (0.11 ms) and the filters are undone with the running bytes kept in registers.
// Anything else, and anything malformed, is left to OpenCV, which decodes it or says what is wrong.

#include <optional>
#include <string_view>

#include <opencv2/core.hpp>

namespace digits {

// The pixels of a PNG in the file's channel order: grey, grey + alpha, RGB or RGBA (1-4 channels,
// 8 bits each). nullopt when the file is not that simple kind, carries EXIF orientation or a tRNS
// transparency, or is not entirely sound (every chunk's CRC, the zlib stream's checksum and its
// exact length, every row's filter are checked). The caller has checked the header's size.
std::optional<cv::Mat> decode_simple_png(std::string_view bytes);

// Whether a PNG is of the kind decode_simple_png takes (8-bit grey, grey + alpha, RGB or RGBA,
// not interlaced, no tRNS, no EXIF, no critical chunk it does not know), judged from the chunk
// headers alone, before any checksum. When decode_simple_png then refuses such a file, the file is
// damaged: handing it to libpng would only have libpng print its complaint on our stderr.
bool is_simple_png(std::string_view bytes);

// The grey of RGB pixels exactly as libpng gives it to cv::IMREAD_GRAYSCALE (15-bit weights,
// truncated), so a PNG reads the same whichever decoder took it: cv::cvtColor rounds, which moved
// a few of a hundred grid images' results.
cv::Mat gray_like_libpng(const cv::Mat& rgb);

}  // namespace digits
