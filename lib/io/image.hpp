#pragma once
// Turning uploaded bytes into a grayscale picture safely: the size is read from the file's header
// before anything is decoded, so a hostile header cannot make us allocate gigabytes.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "io/limits.hpp"

#include <opencv2/core.hpp>

namespace digits {

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

// Compressed files are far smaller than their pixels: the most bytes a picture within `max_pixels`
// may take (at least 64 MB). Anything bigger is not such a picture, and reading it would only
// waste memory.
std::size_t max_image_bytes(std::int64_t max_pixels);

// The bytes of an image file, refusing files larger than max_image_bytes before reading them, and
// counting while reading what has no size to check (a FIFO, /dev/zero). Errors may name the path.
std::string read_image_file(const std::filesystem::path& path, std::int64_t max_pixels = default_max_pixels);

}  // namespace digits
