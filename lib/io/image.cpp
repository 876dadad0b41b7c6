#include "io/image.hpp"

#include "base/error.hpp"
#include "base/files.hpp"
#include "io/flatten.hpp"
#include "io/jpeg.hpp"
#include "io/png.hpp"

#include <fmt/format.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace digits {

namespace {

// Unsigned reads that return nullopt past the end, so a truncated header is "unknown", not UB.
class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  std::size_t size() const { return b_.size(); }
  bool has(std::size_t pos, std::size_t n) const { return pos <= b_.size() && n <= b_.size() - pos; }
  std::optional<std::uint32_t> be(std::size_t pos, std::size_t n) const {
    if (!has(pos, n)) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | byte(pos + i);
    return v;
  }
  std::optional<std::uint32_t> le(std::size_t pos, std::size_t n) const {
    if (!has(pos, n)) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | byte(pos + i);
    return v;
  }
  bool starts(std::size_t pos, std::string_view s) const { return has(pos, s.size()) && b_.substr(pos, s.size()) == s; }
  std::uint8_t byte(std::size_t pos) const { return static_cast<std::uint8_t>(b_[pos]); }

 private:
  std::string_view b_;
};

std::optional<ImageHeader> sized(std::string format, std::optional<std::uint32_t> w, std::optional<std::uint32_t> h,
                                 bool alpha = false) {
  if (!w || !h) return std::nullopt;
  // Anything past int range is certainly over any pixel limit; clamp so the caller can say so.
  const auto clamp = [](std::uint32_t v) { return static_cast<int>(std::min<std::uint32_t>(v, 1u << 30)); };
  return ImageHeader{std::move(format), clamp(*w), clamp(*h), alpha};
}

std::optional<ImageHeader> png_header(const Bytes& b) {
  if (!b.starts(12, "IHDR")) return std::nullopt;
  const auto colour = b.be(25, 1);
  bool alpha = colour && (*colour == 4 || *colour == 6);
  // A tRNS chunk before the image data makes a palette or grey picture transparent too.
  for (std::size_t pos = 8; !alpha && b.has(pos, 8);) {
    const auto length = b.be(pos, 4);
    if (!length || b.starts(pos + 4, "IDAT")) break;
    alpha = b.starts(pos + 4, "tRNS");
    pos += 12 + std::size_t{*length};
  }
  return sized("png", b.be(16, 4), b.be(20, 4), alpha);
}

std::optional<ImageHeader> jpeg_header(const Bytes& b) {
  std::size_t pos = 2;
  while (b.has(pos, 4)) {
    if (b.byte(pos) != 0xFF) return std::nullopt;
    const std::uint8_t marker = b.byte(pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // markers without a length
      pos += 2;
      continue;
    }
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) return sized("jpeg", b.be(pos + 7, 2), b.be(pos + 5, 2));
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // image data before any frame header
    const auto length = b.be(pos + 2, 2);
    if (!length || *length < 2) return std::nullopt;
    pos += 2 + std::size_t{*length};
  }
  return std::nullopt;
}

// How many scans a JPEG holds, walking its markers and the entropy-coded data between them;
// nullopt when the bytes end before the end-of-image marker (a truncated file, which libjpeg
// would only warn about and fill with grey).
std::optional<int> jpeg_scan_count(std::string_view bytes) {
  const Bytes b(bytes);
  int scans = 0;
  std::size_t pos = 2;
  while (b.has(pos, 2)) {
    if (b.byte(pos) != 0xFF) return std::nullopt;  // not at a marker: damaged
    const std::uint8_t marker = b.byte(pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD9) return scans;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    const auto length = b.be(pos + 2, 2);
    if (!length || *length < 2) return std::nullopt;
    pos += 2 + std::size_t{*length};
    if (marker != 0xDA) continue;
    ++scans;
    // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte) or a restart marker; anything
    // else is the next marker.
    for (;;) {
      if (pos >= bytes.size()) return std::nullopt;
      const void* found = std::memchr(bytes.data() + pos, 0xFF, bytes.size() - pos);
      if (found == nullptr) return std::nullopt;
      pos = static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data());
      if (!b.has(pos, 2)) return std::nullopt;
      const std::uint8_t next = b.byte(pos + 1);
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        pos += 2;
        continue;
      }
      break;
    }
  }
  return std::nullopt;
}

std::optional<ImageHeader> bmp_header(const Bytes& b) {
  const auto dib = b.le(14, 4);
  if (!dib) return std::nullopt;
  if (*dib == 12) return sized("bmp", b.le(18, 2), b.le(20, 2));
  const auto w = b.le(18, 4), h = b.le(22, 4);
  if (!w || !h) return std::nullopt;
  // Signed 32-bit fields; a negative height means top-down rows.
  const auto magnitude = [](std::uint32_t v) {
    const auto s = static_cast<std::int32_t>(v);
    return static_cast<std::uint32_t>(s < 0 ? -static_cast<std::int64_t>(s) : s);
  };
  return sized("bmp", magnitude(*w), magnitude(*h));
}

std::optional<ImageHeader> webp_header(const Bytes& b) {
  if (b.starts(12, "VP8X")) {
    const auto flags = b.be(20, 1);
    const auto w = b.le(24, 3), h = b.le(27, 3);
    if (!flags || !w || !h) return std::nullopt;
    return sized("webp", *w + 1, *h + 1, (*flags & 0x10) != 0);
  }
  if (b.starts(12, "VP8L")) {
    const auto bits = b.le(21, 4);
    if (!bits || b.byte(20) != 0x2F) return std::nullopt;
    return sized("webp", (*bits & 0x3FFF) + 1, ((*bits >> 14) & 0x3FFF) + 1, ((*bits >> 28) & 1) != 0);
  }
  if (b.starts(12, "VP8 ")) {
    if (!b.starts(23, "\x9d\x01\x2a")) return std::nullopt;
    const auto w = b.le(26, 2), h = b.le(28, 2);
    if (!w || !h) return std::nullopt;
    return sized("webp", *w & 0x3FFF, *h & 0x3FFF);
  }
  return std::nullopt;
}

std::optional<ImageHeader> tiff_header(const Bytes& b) {
  const bool little = b.starts(0, "II");
  const auto read = [&](std::size_t pos, std::size_t n) { return little ? b.le(pos, n) : b.be(pos, n); };
  const auto ifd = read(4, 4);
  if (!ifd) return std::nullopt;
  const auto entries = read(*ifd, 2);
  if (!entries) return std::nullopt;
  std::optional<std::uint32_t> w, h, samples, tile_w, tile_h;
  for (std::uint32_t i = 0; i < *entries; ++i) {
    const std::size_t e = *ifd + 2 + std::size_t{i} * 12;
    const auto tag = read(e, 2), type = read(e + 2, 2);
    if (!tag || !type) return std::nullopt;
    const auto value = *type == 3 ? read(e + 8, 2) : read(e + 8, 4);
    if (*tag == 256) w = value;
    if (*tag == 257) h = value;
    if (*tag == 277) samples = value;
    if (*tag == 322) tile_w = value;
    if (*tag == 323) tile_h = value;
  }
  auto header = sized("tiff", w, h, samples && (*samples == 2 || *samples == 4));
  // Two 32-bit sides: their product may pass int64 (found by fuzzing), so it is clamped far
  // above any limit instead.
  if (header && tile_w && tile_h)
    header->tile_pixels = static_cast<std::int64_t>(std::min(std::uint64_t{*tile_w} * *tile_h, std::uint64_t{1} << 62));
  return header;
}

std::optional<ImageHeader> pnm_header(std::string_view s) {
  // "P5 <ws> width <ws> height ..." with '#' comments allowed between the fields.
  std::size_t pos = 2;
  std::uint32_t numbers[2] = {0, 0};
  for (auto& n : numbers) {
    while (pos < s.size() && (std::isspace(static_cast<unsigned char>(s[pos])) || s[pos] == '#')) {
      if (s[pos] == '#')
        while (pos < s.size() && s[pos] != '\n') ++pos;
      else
        ++pos;
    }
    const std::size_t start = pos;
    std::uint64_t v = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && pos - start < 10)
      v = v * 10 + static_cast<std::uint64_t>(s[pos++] - '0');
    if (pos == start) return std::nullopt;
    n = static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 1u << 30));
  }
  return sized("pnm", numbers[0], numbers[1]);
}

// One grey plane of a picture cv::imdecode gave (BGR order). Real transparency is flattened onto
// the background its strokes stand out from (lib/flatten.hpp).
cv::Mat gray_of(const cv::Mat& decoded) {
  if (decoded.empty()) throw Error("cannot decode image (corrupt or truncated)");
  cv::Mat eight;
  if (decoded.depth() == CV_16U)
    decoded.convertTo(eight, CV_8U, 1.0 / 257);
  else
    eight = decoded;
  const int channels = eight.channels();
  if (channels != 4 && channels != 2) {
    if (channels == 1) return eight;
    cv::Mat gray;
    cv::cvtColor(eight, gray, cv::COLOR_BGR2GRAY);
    return gray;
  }
  // Row by row, with no plane the size of the picture but the grey one (and the alpha, if any
  // pixel is not opaque): a 40 MP RGBA canvas once took a gigabyte here in whole-picture float planes.
  FlattenedGrey grey(eight.size());
  for (int y = 0; y < eight.rows; ++y) {
    cv::Mat gray_row(1, eight.cols, CV_8U, grey.row(y));
    if (channels == 4)
      cv::cvtColor(eight.row(y), gray_row, cv::COLOR_BGRA2GRAY);
    else
      cv::extractChannel(eight.row(y), gray_row, 0);
    grey.record_alpha(y, 0, 1, eight.cols, eight.ptr<std::uint8_t>(y) + channels - 1, static_cast<std::size_t>(channels));
  }
  return std::move(grey).finish();
}

}  // namespace

std::optional<ImageHeader> read_image_header(std::string_view bytes) {
  const Bytes b(bytes);
  if (b.starts(0, "\x89PNG\r\n\x1a\n")) return png_header(b);
  if (b.starts(0, "\xFF\xD8")) return jpeg_header(b);
  if (b.starts(0, "BM")) return bmp_header(b);
  if (b.starts(0, "RIFF") && b.starts(8, "WEBP")) return webp_header(b);
  if (b.starts(0, std::string_view("II*\0", 4)) || b.starts(0, std::string_view("MM\0*", 4))) return tiff_header(b);
  if (b.size() > 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6') return pnm_header(bytes);
  return std::nullopt;
}

namespace {

// The header, checked against the limits before anything is decoded.
ImageHeader checked_header(std::string_view bytes, std::int64_t max_pixels) {
  if (bytes.empty()) throw Error("empty file, not an image");
  const auto header = read_image_header(bytes);
  if (!header) throw Error("not a supported image (PNG, JPEG, BMP, WebP, TIFF, PGM/PPM/PBM)");
  // OpenCV picks its decoder by its own signature checks: bytes its decoder of this format turns
  // down (a WebP header libwebp cannot read) go on to the next, and its DICOM decoder (GDCM)
  // claims any file with "DICM" at byte 128, its GDAL decoder any with "DTED" at byte 140; they
  // then allocate what the file says, past every limit here (GDCM: 3 GB for 156 bytes; found by
  // fuzzing). None of the formats we take is either.
  struct Claim {
    std::size_t at;
    std::string_view signature, decoder;
  };
  for (const Claim& c : {Claim{128, "DICM", "DICOM"}, Claim{140, "DTED", "DTED (GDAL)"}})
    if (bytes.size() >= c.at + 4 && bytes.substr(c.at, 4) == c.signature)
      throw Error(fmt::format("not a supported image: a {} header, but a {} signature at byte {}", header->format, c.decoder, c.at));
  const std::int64_t pixels = std::int64_t{header->width} * header->height;
  if (header->width <= 0 || header->height <= 0) throw Error(fmt::format("{} header gives an empty image", header->format));
  if (pixels > max_pixels)
    throw TooLarge(fmt::format("image is {}x{} ({:.1f} MP), over the limit of {:.1f} MP (--max-pixels)", header->width,
                            header->height, pixels / 1e6, max_pixels / 1e6));
  if (std::min(header->width, header->height) < min_image_side)
    throw Error(fmt::format("image is {}x{}, too small to hold a digit (at least {}x{} pixels)", header->width,
                            header->height, min_image_side, min_image_side));
  // A 16x16 TIFF may declare 16384x16384 tiles, which libtiff allocates before reading a byte of
  // them (1.1 GB for a 261 KB file). No tile needs to be larger than the picture (or 1 MP).
  if (header->tile_pixels > std::max<std::int64_t>(pixels, std::int64_t{1} << 20))
    throw TooLarge(fmt::format("TIFF declares tiles of {} pixels for a picture of {}x{} (a tile may not be larger "
                               "than the picture or 1 MP)", header->tile_pixels, header->width, header->height));
  if (std::max(header->width, header->height) / std::min(header->width, header->height) > max_aspect_ratio)
    throw Error(fmt::format("image is {}x{}, too thin to hold digits (sides more than {}:1 apart)", header->width,
                            header->height, max_aspect_ratio));
  if (header->format == "jpeg") {
    // Each scan of a progressive JPEG passes over every block of the picture, however few bytes
    // it holds: the pixel limit alone does not bound the work.
    const auto scans = jpeg_scan_count(bytes);
    if (!scans) throw Error("truncated or damaged JPEG (its markers do not lead to the end-of-image marker)");
    if (static_cast<double>(*scans) * static_cast<double>(pixels) > max_jpeg_scan_pixels)
      throw TooLarge(fmt::format("JPEG has {} scans of {:.1f} MP, more decoding work than accepted ({:.0f} scans of {:.1f} MP)",
                                 *scans, pixels / 1e6, max_jpeg_scan_pixels / static_cast<double>(pixels), pixels / 1e6));
  }
  return *header;
}

// OpenCV's decoders, for every format but PNG and most JPEGs; `reduction` as below.
cv::Mat decode_with_opencv(std::string_view bytes, const ImageHeader& header, int reduction) {
  // cv::imdecode wants a Mat over the bytes; it only reads them.
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  try {
    // IMREAD_GRAYSCALE applies EXIF orientation; IMREAD_UNCHANGED (needed to see alpha) does not,
    // which is fine since transparent formats rarely carry EXIF.
    // The reduced modes apply EXIF orientation too.
    const int gray = reduction == 8   ? cv::IMREAD_REDUCED_GRAYSCALE_8
                     : reduction == 4 ? cv::IMREAD_REDUCED_GRAYSCALE_4
                     : reduction == 2 ? cv::IMREAD_REDUCED_GRAYSCALE_2
                                      : cv::IMREAD_GRAYSCALE;
    if (!header.alpha) return cv::imdecode(buffer, gray);
    // A failed decode is an empty Mat that may keep its 4-channel type: it is an error here, never
    // an image to split into (no) planes.
    const cv::Mat decoded = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    if (decoded.empty()) throw Error(fmt::format("cannot decode {} image (corrupt or truncated)", header.format));
    return gray_of(decoded);
  } catch (const cv::Exception& e) {
    throw Error(fmt::format("cannot decode {} image: {}", header.format, e.err));
  }
}

// Decodes a picture whose header passed, `reduction` times smaller on each side (1, 2, 4 or 8; a
// JPEG only).
cv::Mat decode_checked(std::string_view bytes, const ImageHeader& header, std::int64_t max_pixels, int reduction) {
  cv::Mat image;
  if (header.format == "png")
    image = decode_png_grey(bytes, header);  // never cv::imdecode: libpng's own handlers print
  else if (header.format == "jpeg")
    if (auto grey = decode_jpeg_grey(bytes, reduction)) image = std::move(*grey);
  if (image.empty() && header.format != "png") image = decode_with_opencv(bytes, header, reduction);
  if (image.empty()) throw Error(fmt::format("cannot decode {} image (corrupt or truncated)", header.format));
  if (std::int64_t{image.cols} * image.rows > max_pixels || std::min(image.cols, image.rows) < min_image_side / reduction)
    throw Error(fmt::format("decoded image is {}x{}, outside the accepted size", image.cols, image.rows));
  return image;
}

}  // namespace

int decode_reduction(const ImageHeader& header, int max_side) {
  int reduction = 1;
  if (header.format == "jpeg" && max_side > 0)
    while (reduction < 8 && std::max(header.width, header.height) >= 2 * reduction * max_side) reduction *= 2;
  return reduction;
}

cv::Mat decode_image(std::string_view bytes, std::int64_t max_pixels) {
  return decode_checked(bytes, checked_header(bytes, max_pixels), max_pixels, 1);
}

Decoded decode_reduced(std::string_view bytes, int max_side, std::int64_t max_pixels) {
  const ImageHeader header = checked_header(bytes, max_pixels);
  const int reduction = decode_reduction(header, max_side);
  cv::Mat image = decode_checked(bytes, header, max_pixels, reduction);
  if (reduction == 1) return {image, image.size()};
  // EXIF orientation may have turned the picture a quarter: so is its full size.
  const bool turned = (image.cols > image.rows) != (header.width > header.height) && header.width != header.height;
  const cv::Size full = turned ? cv::Size(header.height, header.width) : cv::Size(header.width, header.height);
  return {image, full};
}

std::size_t max_image_bytes(std::int64_t max_pixels) {
  return static_cast<std::size_t>(std::max<std::int64_t>(64 << 20, max_pixels * 4 + (1 << 20)));
}

std::string read_image_file(const std::filesystem::path& path, std::int64_t max_pixels) {
  const std::size_t limit = max_image_bytes(max_pixels);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error("is a directory, not an image");
  if (!std::filesystem::exists(path, ec)) throw Error("no such file");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > limit) throw TooLarge("file is larger than any image within the pixel limit");
  try {
    return read_file(path, limit);
  } catch (const TooLarge&) {
    throw TooLarge("file is larger than any image within the pixel limit");
  }
}

}  // namespace digits
