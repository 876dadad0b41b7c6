#include "io/exif.hpp"

#include <cstdint>
#include <optional>

namespace digits {

namespace {

// Bounds-checked reads in the byte order a TIFF header names.
struct Tiff {
  std::string_view b;
  bool little = false;
  std::optional<std::uint32_t> read(std::size_t pos, std::size_t n) const {
    if (pos > b.size() || n > b.size() - pos) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto byte = static_cast<std::uint8_t>(b[little ? pos + n - 1 - i : pos + i]);
      v = (v << 8) | byte;
    }
    return v;
  }
};

}  // namespace

int exif_orientation(std::string_view tiff) {
  if (tiff.size() < 8 || (tiff.substr(0, 2) != "II" && tiff.substr(0, 2) != "MM")) return 1;
  const Tiff t{tiff, tiff[0] == 'I'};
  const auto ifd = t.read(4, 4);
  if (!ifd) return 1;
  const auto entries = t.read(*ifd, 2);
  if (!entries) return 1;
  for (std::uint32_t i = 0; i < *entries; ++i) {
    const std::size_t entry = std::size_t{*ifd} + 2 + std::size_t{i} * 12;
    const auto tag = t.read(entry, 2), type = t.read(entry + 2, 2);
    if (!tag || !type) return 1;
    if (*tag != 0x0112) continue;
    const auto value = *type == 3 ? t.read(entry + 8, 2) : std::nullopt;  // SHORT
    return value && *value >= 1 && *value <= 8 ? static_cast<int>(*value) : 1;
  }
  return 1;
}

cv::Mat apply_exif_orientation(const cv::Mat& image, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2: cv::flip(image, out, 1); return out;   // mirrored
    case 3: cv::flip(image, out, -1); return out;  // upside down
    case 4: cv::flip(image, out, 0); return out;   // mirrored upside down
    case 5: cv::transpose(image, out); return out;
    case 6: cv::transpose(image, out); cv::flip(out, out, 1); return out;   // a quarter turn clockwise
    case 7: cv::transpose(image, out); cv::flip(out, out, -1); return out;
    case 8: cv::transpose(image, out); cv::flip(out, out, 0); return out;   // a quarter turn anticlockwise
    default: return image;
  }
}

}  // namespace digits
