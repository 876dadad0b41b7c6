#pragma once
// The limits a picture must stay within before any of it is decoded (io/image.hpp checks them on
// the header): what a hostile file could otherwise make us allocate or compute.

#include <cstdint>

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

}  // namespace digits
