#pragma once
// Turning uploaded bytes into a grayscale picture safely: the size is read from the file's header
// before anything is decoded, so a hostile header cannot make us allocate gigabytes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

namespace digits {

inline constexpr std::int64_t default_max_pixels = 40'000'000;
// Below this a picture cannot hold a legible digit; refusing it is clearer than answering [].
inline constexpr int min_image_side = 8;
// Sides further apart than this are no picture of digits (a row of 1,000 digits is 300:1), and a
// 100000x8 strip shrunk to the working size would have no rows left.
inline constexpr int max_aspect_ratio = 1000;
// Decoding work of a JPEG, as scans x pixels: libjpeg-turbo passes over every block once a scan
// (measured with djpeg: 12.4 s for a 6000x6664 progressive file of 3,001 near-empty scans, about
// 0.1 ns a pixel a scan). This bound costs at most ~0.4 s beyond the entropy data: 100 scans at
// 40 MP, 333 at 12 MP, where an ordinary progressive JPEG has 6 (grey) to 10 (colour) scans.
inline constexpr double max_jpeg_scan_pixels = 4e9;

struct ImageHeader {
  std::string format;  // "png", "jpeg", "bmp", "webp", "tiff", "pnm"
  int width = 0;       // as stored, before any EXIF rotation (which keeps the pixel count)
  int height = 0;
  bool alpha = false;  // may carry transparency (PNG/WebP), e.g. a drawing from a web canvas
  std::int64_t tile_pixels = 0;  // TIFF: one tile, which the decoder allocates whole (0: not tiled)
};

// Reads the format and the stored size from the first bytes; nullopt when the format is not one
// we can size safely (then decode_image refuses it). Never decodes pixels.
std::optional<ImageHeader> read_image_header(std::string_view bytes);

// Decodes `bytes` into 8-bit grayscale with EXIF orientation applied.
// Transparent pixels become the background: drawings on a transparent canvas composite onto
// the colour that contrasts with their strokes. Throws Error on empty, unknown, truncated or
// undecodable data, a picture smaller than min_image_side, or more than `max_pixels` pixels.
// Messages do not repeat the input's name: callers know it and put it in front.
cv::Mat decode_image(std::string_view bytes, std::int64_t max_pixels = default_max_pixels);

// A decoded picture, perhaps smaller than it is, and its full size (EXIF orientation applied).
struct Decoded {
  cv::Mat image;
  cv::Size full;
};

// As decode_image, but a JPEG at least twice `max_side` on its longer side comes decoded at a half,
// a quarter or an eighth of its size, never below `max_side`: the JPEG decoder scales as it
// decodes, several times faster than decoding in full and resizing (a 12 MP photo: 18 ms and 15 ms
// to resize, against 7 ms). Other formats are decoded in full.
Decoded decode_reduced(std::string_view bytes, int max_side, std::int64_t max_pixels = default_max_pixels);

// How many times smaller on each side decode_reduced decodes a picture with this header: 1 but
// for a JPEG at least twice `max_side` on its longer side.
int decode_reduction(const ImageHeader& header, int max_side);

// The scale (<= 1) that brings the longer side down to `max_side`, and the resized image.
struct Working {
  cv::Mat image;
  double scale = 1;  // working = original * scale
};
Working to_working_resolution(const cv::Mat& gray, int max_side);

// How many pixels of an 8-bit single-channel image have each grey level.
std::array<int, 256> histogram(const cv::Mat& img);

// The grey level of the pixel of that rank (from 0, darkest first) among those at `from` or
// lighter in `hist`; 255 when there are no more pixels than that.
int level_at_rank(const std::array<int, 256>& hist, long rank, int from = 0);

}  // namespace digits
