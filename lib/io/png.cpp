#include "io/png.hpp"

#include <libdeflate.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace digits {

namespace {

std::uint32_t be32(std::string_view b, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[pos + i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

struct FreeDecompressor {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// One per thread: a decompressor holds its tables while it works, and the server decodes on
// several threads at once.
libdeflate_decompressor* decompressor() {
  thread_local const std::unique_ptr<libdeflate_decompressor, FreeDecompressor> d(libdeflate_alloc_decompressor());
  return d.get();
}

#if defined(__SSE2__)
// The Sub filter of a grey row, 16 bytes at a time: a running sum of bytes within each block in
// four shifted adds, plus the block before's last byte in every lane. (Carried a byte at a time,
// a 1000x300 grey PNG took 0.07 ms of its 0.2.) Returns how many bytes it did.
std::size_t sub_grey_16(const std::uint8_t* in, std::uint8_t* out, std::size_t n) {
  __m128i carry = _mm_setzero_si128();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    x = _mm_add_epi8(x, _mm_slli_si128(x, 1));
    x = _mm_add_epi8(x, _mm_slli_si128(x, 2));
    x = _mm_add_epi8(x, _mm_slli_si128(x, 4));
    x = _mm_add_epi8(x, _mm_slli_si128(x, 8));
    x = _mm_add_epi8(x, carry);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), x);
    // Byte 15 into every lane: doubled twice to fill the top 32 bits, then those everywhere.
    const __m128i top = _mm_unpackhi_epi8(x, x);
    carry = _mm_shuffle_epi32(_mm_unpackhi_epi16(top, top), 0xFF);
  }
  return i;
}
#endif

// Undoes one row's filter. N bytes a pixel; the bytes to the left are carried in registers
// (libpng reads them back from the row it is writing, which waits on each store).
template <int N>
bool unfilter_row(std::uint8_t filter, const std::uint8_t* in, const std::uint8_t* up, std::uint8_t* out,
                  std::size_t n) {
  std::array<std::uint8_t, N> left{}, up_left{};
  switch (filter) {
    case 0:
      if (in != out) std::copy(in, in + n, out);  // decoding in place, the row is already there
      return true;
    case 1: {  // Sub
      std::size_t i = 0;
#if defined(__SSE2__)
      if constexpr (N == 1) i = sub_grey_16(in, out, n);
      if (i > 0) left[0] = out[i - 1];
#endif
      for (; i < n; i += N)
        for (int c = 0; c < N; ++c) out[i + c] = left[c] = static_cast<std::uint8_t>(in[i + c] + left[c]);
      return true;
    }
    case 2:  // Up
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(in[i] + up[i]);
      return true;
    case 3:  // Average
      for (std::size_t i = 0; i < n; i += N)
        for (int c = 0; c < N; ++c)
          out[i + c] = left[c] = static_cast<std::uint8_t>(in[i + c] + ((left[c] + up[i + c]) >> 1));
      return true;
    case 4:  // Paeth
      for (std::size_t i = 0; i < n; i += N)
        for (int c = 0; c < N; ++c) {
          const int a = left[c], b = up[i + c], corner = up_left[c];
          const int pa = std::abs(b - corner), pb = std::abs(a - corner), pc = std::abs(a + b - 2 * corner);
          const int predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : corner;
          out[i + c] = left[c] = static_cast<std::uint8_t>(in[i + c] + predicted);
          up_left[c] = static_cast<std::uint8_t>(b);
        }
      return true;
    default:
      return false;
  }
}

// Undoes the filters in the inflated rows themselves (each row's filter byte, then its pixels):
// every byte is read before the same byte is written, and the row above is already undone.
template <int N>
bool unfilter_in_place(std::uint8_t* raw, std::size_t n, int rows) {
  const std::vector<std::uint8_t> zeros(n, 0);
  for (int y = 0; y < rows; ++y) {
    std::uint8_t* row = raw + static_cast<std::size_t>(y) * (n + 1);
    const std::uint8_t* up = y > 0 ? row - n : zeros.data();
    if (!unfilter_row<N>(row[0], row + 1, up, row + 1, n)) return false;
  }
  return true;
}

template <int N>
bool unfilter(const std::uint8_t* raw, cv::Mat& image) {
  const std::size_t n = static_cast<std::size_t>(image.cols) * N;
  const std::vector<std::uint8_t> zeros(n, 0);
  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* row = raw + static_cast<std::size_t>(y) * (n + 1);
    const std::uint8_t* up = y > 0 ? image.ptr<std::uint8_t>(y - 1) : zeros.data();
    if (!unfilter_row<N>(row[0], row + 1, up, image.ptr<std::uint8_t>(y), n)) return false;
  }
  return true;
}

}  // namespace

bool is_simple_png(std::string_view bytes) {
  if (!bytes.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8)) || bytes.size() < 33) return false;
  if (bytes.substr(12, 4) != "IHDR" || be32(bytes, 8) != 13) return false;
  const auto field = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[16 + i]); };
  const std::uint8_t colour = field(9);
  if (field(8) != 8 || (colour != 0 && colour != 2 && colour != 4 && colour != 6) || field(10) != 0 || field(11) != 0 ||
      field(12) != 0)
    return false;
  // The chunks before the image data; a walk that runs off the end is damage, judged simple.
  for (std::size_t pos = 33; bytes.size() - pos >= 12;) {
    const std::string_view type = bytes.substr(pos + 4, 4);
    if (type == "IDAT" || type == "IEND") return true;
    const bool critical = (static_cast<std::uint8_t>(type[0]) & 0x20) == 0;
    if (type == "eXIf" || type == "tRNS" || (critical && type != "PLTE")) return false;
    const std::uint32_t length = be32(bytes, pos);
    if (length > bytes.size() - pos - 12) return true;
    pos += 12 + std::size_t{length};
  }
  return true;
}

std::optional<cv::Mat> decode_simple_png(std::string_view bytes) {
  if (!bytes.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8))) return std::nullopt;
  int width = 0, height = 0, channels = 0;
  std::vector<std::string_view> idat;
  bool idat_over = false, ended = false;
  for (std::size_t pos = 8; !ended;) {
    if (bytes.size() - pos < 12) return std::nullopt;
    const std::uint32_t length = be32(bytes, pos);
    if (length > bytes.size() - pos - 12) return std::nullopt;
    const std::string_view type = bytes.substr(pos + 4, 4), data = bytes.substr(pos + 8, length);
    if (libdeflate_crc32(0, bytes.data() + pos + 4, std::size_t{length} + 4) != be32(bytes, pos + 8 + length)) return std::nullopt;
    if ((pos == 8) != (type == "IHDR")) return std::nullopt;
    if (type == "IHDR") {
      if (length != 13) return std::nullopt;
      const std::uint32_t w = be32(data, 0), h = be32(data, 4);
      const auto field = [&](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
      constexpr std::array<int, 7> channels_of{1, 0, 3, 0, 2, 0, 4};  // by colour type
      const std::uint8_t colour = field(9);
      // Only 8-bit samples, no palette, the one compression and filter method, not interlaced.
      if (field(8) != 8 || colour >= channels_of.size() || channels_of[colour] == 0 || field(10) != 0 ||
          field(11) != 0 || field(12) != 0)
        return std::nullopt;
      // Far past any pixel limit the caller applies; it keeps the sizes below in range.
      if (w == 0 || h == 0 || std::uint64_t{w} * h > (std::uint64_t{1} << 30)) return std::nullopt;
      width = static_cast<int>(w);
      height = static_cast<int>(h);
      channels = channels_of[colour];
    } else if (type == "IDAT") {
      if (idat_over) return std::nullopt;  // the image data must be one run of chunks
      idat.push_back(data);
    } else {
      idat_over = !idat.empty();
      ended = type == "IEND";
      // EXIF orientation and tRNS transparency are OpenCV's to apply; any other critical chunk
      // (first letter upper case) but a palette, which RGB may carry as a hint, is not ours to skip.
      const bool critical = (static_cast<std::uint8_t>(type[0]) & 0x20) == 0;
      if (type == "eXIf" || type == "tRNS" || (critical && type != "PLTE" && !ended)) return std::nullopt;
    }
    pos += 12 + std::size_t{length};
  }
  if (idat.empty()) return std::nullopt;

  std::string joined;
  std::string_view stream = idat.front();
  if (idat.size() > 1) {
    for (const auto part : idat) joined += part;
    stream = joined;
  }
  const std::size_t row_bytes = static_cast<std::size_t>(width) * static_cast<std::size_t>(channels) + 1;
  const std::size_t raw_size = row_bytes * static_cast<std::size_t>(height);
  const auto inflate_into = [&](std::uint8_t* raw) {
    libdeflate_decompressor* const inflater = decompressor();
    std::size_t inflated = 0;
    return inflater != nullptr &&
           libdeflate_zlib_decompress(inflater, stream.data(), stream.size(), raw, raw_size, &inflated) ==
               LIBDEFLATE_SUCCESS &&
           inflated == raw_size;
  };
  if (channels > 1) {
    // Colour or alpha is turned grey next, into a picture of its own: the pixels stay in the
    // inflated rows (a view past each row's filter byte), so a 40 MP RGBA file costs one copy
    // of its pixels, not two.
    cv::Mat rows(height, static_cast<int>(row_bytes), CV_8U);
    if (!inflate_into(rows.data)) return std::nullopt;
    const std::size_t n = row_bytes - 1;
    const bool unfiltered = channels == 2   ? unfilter_in_place<2>(rows.data, n, height)
                            : channels == 3 ? unfilter_in_place<3>(rows.data, n, height)
                                            : unfilter_in_place<4>(rows.data, n, height);
    if (!unfiltered) return std::nullopt;
    return rows(cv::Rect(1, 0, static_cast<int>(n), height)).reshape(channels);
  }
  const auto raw = std::make_unique_for_overwrite<std::uint8_t[]>(raw_size);
  if (!inflate_into(raw.get())) return std::nullopt;

  cv::Mat image(height, width, CV_8UC(channels));
  if (!unfilter<1>(raw.get(), image)) return std::nullopt;
  return image;
}

cv::Mat gray_like_libpng(const cv::Mat& rgb) {
  CV_Assert(rgb.type() == CV_8UC3);
  cv::Mat gray(rgb.size(), CV_8U);
  for (int y = 0; y < rgb.rows; ++y) {
    const std::uint8_t* in = rgb.ptr<std::uint8_t>(y);
    std::uint8_t* out = gray.ptr<std::uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, in += 3)
      out[x] = static_cast<std::uint8_t>((9797u * in[0] + 19234u * in[1] + 3737u * in[2]) >> 15);
  }
  return gray;
}

}  // namespace digits
