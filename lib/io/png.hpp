#pragma once
// Every PNG is decoded here, never by cv::imdecode: OpenCV creates libpng with its default
// handlers, which print "libpng error: ..." and "libpng warning: ..." on our stderr.
//
// The PNGs most uploads are (8-bit, not interlaced, grey or RGB, with or without alpha) take a
// quicker way: libpng undoes PNG's row filters a byte at a time through memory (a 1000x300 grey
// PNG takes 0.97 ms in cv::imdecode, of which zlib's inflate is 0.33 ms); here libdeflate inflates
// (0.11 ms) and the filters are undone with the running bytes kept in registers. Every other PNG
// (palette, 1/2/4/16-bit, interlaced, tRNS transparency, EXIF) is read by libpng directly, with
// handlers of ours and the transforms OpenCV 4.6's decoder asks for, so each pixel comes out as
// it did through cv::imdecode. Both hand the picture over a row at a time, straight into its grey
// plane (lib/flatten.hpp): a 40 MP RGBA canvas is never held as 160 MB of RGBA.

#include "io/image.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

#include <opencv2/core.hpp>

namespace digits {

// Filtered rows (a filter byte, then the row) are inflated at once by libdeflate up to this size;
// a larger picture is inflated by zlib a block at a time, so that its rows are never held whole (a
// 40 MP RGBA canvas is 160 MB of them). libdeflate is 1.7 times zlib's speed on a photo and 20
// times on the long runs of a blank canvas; 64 MB is a 16 MP RGBA or a 21 MP RGB picture.
inline constexpr std::size_t png_max_whole_inflate = std::size_t{64} << 20;

// The grey picture of a PNG whose header passed the checks (checked_header in lib/image.cpp), as
// decode_image gives it: what cv::imdecode's IMREAD_GRAYSCALE gave (EXIF orientation applied),
// or, when `header.alpha`, IMREAD_UNCHANGED with its transparency flattened onto the background.
// Throws Error, one line saying what is wrong, when the file is damaged or truncated.
// (`max_whole_inflate` is png_max_whole_inflate but in tests of the block-by-block inflation.)
cv::Mat decode_png_grey(std::string_view bytes, const ImageHeader& header,
                        std::size_t max_whole_inflate = png_max_whole_inflate);

// The pixels of a simple PNG in the file's channel order: grey, grey + alpha, RGB or RGBA (1-4
// channels, 8 bits each). nullopt when the file is not that simple kind, carries EXIF orientation
// or a tRNS transparency, or is not entirely sound (every chunk's CRC, the zlib stream's checksum
// and its exact length, every row's filter are checked). For tests and the fuzzer: the fast path
// itself goes straight to grey.
std::optional<cv::Mat> decode_simple_png(std::string_view bytes, std::size_t max_whole_inflate = png_max_whole_inflate);

// Whether a PNG is of the kind decode_simple_png takes (8-bit grey, grey + alpha, RGB or RGBA,
// not interlaced, no tRNS, no EXIF, no critical chunk it does not know), judged from the chunk
// headers alone, before any checksum. When the fast path then refuses such a file, the file is
// damaged.
bool is_simple_png(std::string_view bytes);

// The grey of RGB pixels exactly as libpng gives it to cv::IMREAD_GRAYSCALE (15-bit weights,
// truncated), so a PNG reads the same whichever decoder took it: cv::cvtColor rounds, which moved
// a few of a hundred grid images' results.
cv::Mat gray_like_libpng(const cv::Mat& rgb);

}  // namespace digits
