#include "io/jpeg.hpp"

#include "base/error.hpp"

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <turbojpeg.h>

#include <cstdint>
#include <memory>

namespace digits {

namespace {

struct DestroyHandle {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using Handle = std::unique_ptr<void, DestroyHandle>;

// A decompressor per thread: creating one costs an allocation of the decoder's state each time.
tjhandle decompressor() {
  thread_local const Handle handle(tjInitDecompress());
  return handle.get();
}

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

// Orientation (tag 0x0112) from the TIFF structure inside an Exif segment.
int orientation_in_tiff(std::string_view tiff) {
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

}  // namespace

int jpeg_exif_orientation(std::string_view bytes) {
  const auto byte = [&](std::size_t pos) { return static_cast<std::uint8_t>(bytes[pos]); };
  // The segments before the first scan, each a marker and a big-endian length.
  for (std::size_t pos = 2; pos + 4 <= bytes.size();) {
    if (byte(pos) != 0xFF) return 1;
    const std::uint8_t marker = byte(pos + 1);
    if (marker == 0xFF) {
      ++pos;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;
    const std::size_t length = std::size_t{byte(pos + 2)} << 8 | byte(pos + 3);
    if (length < 2 || length > bytes.size() - pos - 2) return 1;
    const std::string_view payload = bytes.substr(pos + 4, length - 2);
    if (marker == 0xE1 && payload.starts_with(std::string_view("Exif\0\0", 6))) return orientation_in_tiff(payload.substr(6));
    pos += 2 + length;
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

std::optional<cv::Mat> decode_jpeg_grey(std::string_view bytes, int reduction) {
  tjhandle const handle = decompressor();
  if (handle == nullptr) throw Error("cannot start the JPEG decoder");
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  int width = 0, height = 0, subsampling = 0, colourspace = 0;
  if (tjDecompressHeader3(handle, data, size, &width, &height, &subsampling, &colourspace) != 0)
    throw Error(fmt::format("cannot decode jpeg image: {}", tjGetErrorStr2(handle)));
  if (colourspace == TJCS_CMYK || colourspace == TJCS_YCCK) return std::nullopt;
  const tjscalingfactor factor{1, reduction};
  const int scaled_width = TJSCALED(width, factor), scaled_height = TJSCALED(height, factor);
  cv::Mat grey(scaled_height, scaled_width, CV_8U);
  // Warnings (damaged data the decoder reads past, with grey where it could not) are not errors:
  // OpenCV accepted such files too, only it let libjpeg print them.
  if (tjDecompress2(handle, data, size, grey.data, scaled_width, static_cast<int>(grey.step), scaled_height, TJPF_GRAY,
                    TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS) != 0 &&
      tjGetErrorCode(handle) == TJERR_FATAL)
    throw Error(fmt::format("cannot decode jpeg image: {}", tjGetErrorStr2(handle)));
  return apply_exif_orientation(grey, jpeg_exif_orientation(bytes));
}

}  // namespace digits
