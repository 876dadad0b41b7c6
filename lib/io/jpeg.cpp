#include "io/jpeg.hpp"

#include "base/error.hpp"
#include "io/exif.hpp"

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
    if (marker == 0xE1 && payload.starts_with(std::string_view("Exif\0\0", 6))) return exif_orientation(payload.substr(6));
    pos += 2 + length;
  }
  return 1;
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
