#include "io/png.hpp"

#include "base/error.hpp"
#include "io/exif.hpp"
#include "io/flatten.hpp"
#include "io/png_libpng.hpp"

#include <fmt/format.h>
#include <libdeflate.h>
#include <opencv2/imgproc.hpp>
#include <zlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
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

// zlib's output a block at a time, for a picture too large to inflate at once.
constexpr std::size_t inflate_block = std::size_t{1} << 20;

// A simple PNG's size, channels and image data, from a walk over its chunks that checks each CRC.
struct SimplePng {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::string_view> idat;
};

std::optional<SimplePng> parse_simple_png(std::string_view bytes) {
  if (!bytes.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8))) return std::nullopt;
  SimplePng png;
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
      png.width = static_cast<int>(w);
      png.height = static_cast<int>(h);
      png.channels = channels_of[colour];
    } else if (type == "IDAT") {
      if (idat_over) return std::nullopt;  // the image data must be one run of chunks
      png.idat.push_back(data);
    } else {
      idat_over = !png.idat.empty();
      ended = type == "IEND";
      // EXIF orientation and tRNS transparency are libpng's to apply; any other critical chunk
      // (first letter upper case) but a palette, which RGB may carry as a hint, is not ours to skip.
      const bool critical = (static_cast<std::uint8_t>(type[0]) & 0x20) == 0;
      if (type == "eXIf" || type == "tRNS" || (critical && type != "PLTE" && !ended)) return std::nullopt;
    }
    pos += 12 + std::size_t{length};
  }
  if (png.idat.empty()) return std::nullopt;
  return png;
}

struct EndInflate {
  void operator()(z_stream* z) const { inflateEnd(z); }
};

// zlib's inflate over the IDAT chunks in turn, into blocks of the caller's.
class Inflater {
 public:
  explicit Inflater(const std::vector<std::string_view>& parts) : parts_(parts) {
    if (inflateInit(&z_) == Z_OK) end_.reset(&z_);
  }
  Inflater(const Inflater&) = delete;  // end_ points into the object itself
  Inflater& operator=(const Inflater&) = delete;

  // Fills `out` with the next `size` bytes of the stream; false when the stream is damaged or
  // ends first.
  bool fill(std::uint8_t* out, std::size_t size) {
    if (!end_) return false;
    z_.next_out = out;
    while (size > 0) {
      const auto piece = static_cast<uInt>(std::min<std::size_t>(size, std::numeric_limits<uInt>::max()));
      z_.avail_out = piece;
      while (z_.avail_out > 0) {
        if (ended_) return false;
        const int status = step();
        if (status != Z_OK && status != Z_STREAM_END) return false;
      }
      size -= piece;
    }
    return true;
  }

  // Whether the stream ends here, its checksum right, with no data beyond what was read (as
  // libdeflate, any bytes after the stream's end are not looked at).
  bool at_end() {
    if (!end_) return false;
    std::uint8_t extra = 0;
    while (!ended_) {
      z_.next_out = &extra;
      z_.avail_out = 1;
      const int status = step();
      if (z_.avail_out == 0 || (status != Z_OK && status != Z_STREAM_END)) return false;
    }
    return true;
  }

 private:
  int step() {
    // Input a chunk at a time; inflate may still write with none left (the rest of a match).
    while (z_.avail_in == 0 && next_ < parts_.size()) {
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(parts_[next_].data()));
      z_.avail_in = static_cast<uInt>(parts_[next_].size());
      ++next_;
    }
    const int status = inflate(&z_, Z_NO_FLUSH);
    ended_ = status == Z_STREAM_END;
    return status;  // Z_BUF_ERROR: no input left and more wanted
  }

  const std::vector<std::string_view>& parts_;
  std::size_t next_ = 0;
  z_stream z_{};
  bool ended_ = false;
  std::unique_ptr<z_stream, EndInflate> end_;
};

// Inflates a simple PNG's image data and undoes each row's filter, handing the rows in order to
// take(y, pixels); false when the data is damaged (a checksum, its length, a filter number). The
// filters are undone in the inflated rows themselves: every byte is read before the same byte is
// written, and the row above is already undone.
template <int N, typename Take>
bool read_rows(const SimplePng& png, std::size_t max_whole_inflate, Take take) {
  const std::size_t n = static_cast<std::size_t>(png.width) * N, row_bytes = n + 1;
  const std::size_t raw_size = row_bytes * static_cast<std::size_t>(png.height);
  std::vector<std::uint8_t> above(n, 0);  // the row above the first of a block
  const auto undo = [&](std::uint8_t* rows, int first, int count) {
    const std::uint8_t* up = above.data();
    for (int i = 0; i < count; ++i) {
      std::uint8_t* row = rows + static_cast<std::size_t>(i) * row_bytes;
      if (!unfilter_row<N>(row[0], row + 1, up, row + 1, n)) return false;
      take(first + i, row + 1);
      up = row + 1;
    }
    std::copy(up, up + n, above.begin());
    return true;
  };
  if (raw_size <= max_whole_inflate) {
    std::string joined;
    std::string_view stream = png.idat.front();
    if (png.idat.size() > 1) {
      // One allocation of the stream's size, not a doubling string's ten (each a fresh mapping
      // the kernel zeroes: a 12 MP photo's 15 MB in 8 KB chunks spent more in page faults than
      // in undoing its filters).
      std::size_t size = 0;
      for (const auto part : png.idat) size += part.size();
      joined.reserve(size);
      for (const auto part : png.idat) joined += part;
      stream = joined;
    }
    const auto raw = std::make_unique_for_overwrite<std::uint8_t[]>(raw_size);
    libdeflate_decompressor* const inflater = decompressor();
    std::size_t inflated = 0;
    return inflater != nullptr &&
           libdeflate_zlib_decompress(inflater, stream.data(), stream.size(), raw.get(), raw_size, &inflated) ==
               LIBDEFLATE_SUCCESS &&
           inflated == raw_size && undo(raw.get(), 0, png.height);
  }
  Inflater inflater(png.idat);
  // (Tests give a small max_whole_inflate: blocks of a row or a few, so that rows cross blocks.)
  const std::size_t block_bytes = std::min(inflate_block, max_whole_inflate);
  const int block_rows = static_cast<int>(std::clamp<std::size_t>(block_bytes / row_bytes, 1, static_cast<std::size_t>(png.height)));
  const auto block = std::make_unique_for_overwrite<std::uint8_t[]>(static_cast<std::size_t>(block_rows) * row_bytes);
  for (int first = 0; first < png.height; first += block_rows) {
    const int count = std::min(block_rows, png.height - first);
    if (!inflater.fill(block.get(), static_cast<std::size_t>(count) * row_bytes) || !undo(block.get(), first, count))
      return false;
  }
  return inflater.at_end();
}

template <typename Sink>
bool read_simple_png(const SimplePng& png, std::size_t max_whole_inflate, Sink& sink) {
  switch (png.channels) {
    case 1: return read_rows<1>(png, max_whole_inflate, sink.template rows<1>());
    case 2: return read_rows<2>(png, max_whole_inflate, sink.template rows<2>());
    case 3: return read_rows<3>(png, max_whole_inflate, sink.template rows<3>());
    default: return read_rows<4>(png, max_whole_inflate, sink.template rows<4>());
  }
}

void grey_like_libpng_row(const std::uint8_t* rgb, std::uint8_t* grey, int width) {
  for (int x = 0; x < width; ++x, rgb += 3)
    grey[x] = static_cast<std::uint8_t>((9797u * rgb[0] + 19234u * rgb[1] + 3737u * rgb[2]) >> 15);
}

// A simple PNG's rows as they are (for tests and the fuzzer).
struct PixelSink {
  cv::Mat image;
  template <int N>
  auto rows() {
    image.create(image.rows, image.cols, CV_8UC(N));
    return [this](int y, const std::uint8_t* pixels) {
      std::copy(pixels, pixels + static_cast<std::size_t>(image.cols) * N, image.ptr<std::uint8_t>(y));
    };
  }
};

// A simple PNG's rows turned grey as they come, as the whole picture was before: grey + alpha's
// grey channel, RGB as libpng would turn it grey, RGBA through cv::cvtColor; alpha recorded. The
// grey plane is made at the first row, once the rows' buffer is: in that order, as before, a
// server decoding picture after picture finds both in memory it has already touched (made the
// other way round, a 1000x300 grey PNG cost 70 fresh pages a decode, a third more time).
struct GreySink {
  cv::Size size;
  std::optional<FlattenedGrey> grey;
  template <int N>
  auto rows() {
    return [this](int y, const std::uint8_t* pixels) {
      if (!grey) grey.emplace(size);
      const int width = size.width;
      std::uint8_t* out = grey->row(y);
      if constexpr (N == 1) {
        std::copy(pixels, pixels + width, out);
      } else if constexpr (N == 2) {
        for (int x = 0; x < width; ++x) out[x] = pixels[2 * x];
        grey->record_alpha(y, 0, 1, width, pixels + 1, 2);
      } else if constexpr (N == 3) {
        grey_like_libpng_row(pixels, out, width);
      } else {
        const cv::Mat rgba(1, width, CV_8UC4, const_cast<std::uint8_t*>(pixels));
        cv::Mat out_row(1, width, CV_8U, out);
        cv::cvtColor(rgba, out_row, cv::COLOR_RGBA2GRAY);
        grey->record_alpha(y, 0, 1, width, pixels + 3, 4);
      }
    };
  }
};


}  // namespace

cv::Mat decode_png_grey(std::string_view bytes, const ImageHeader& header, std::size_t max_whole_inflate) {
  if (const auto png = parse_simple_png(bytes)) {
    GreySink sink{cv::Size(png->width, png->height), std::nullopt};
    if (read_simple_png(*png, max_whole_inflate, sink)) return std::move(*sink.grey).finish();
  }
  // A simple PNG refused is a damaged one: libpng would only say so in other words.
  if (is_simple_png(bytes)) throw Error("cannot decode png image (damaged: a checksum, the image data or its length is wrong)");
  return decode_with_libpng(bytes, header);
}

std::optional<cv::Mat> decode_simple_png(std::string_view bytes, std::size_t max_whole_inflate) {
  const auto png = parse_simple_png(bytes);
  if (!png) return std::nullopt;
  PixelSink sink{cv::Mat(png->height, png->width, CV_8U)};
  if (!read_simple_png(*png, max_whole_inflate, sink)) return std::nullopt;
  return sink.image;
}

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

cv::Mat gray_like_libpng(const cv::Mat& rgb) {
  CV_Assert(rgb.type() == CV_8UC3);
  cv::Mat gray(rgb.size(), CV_8U);
  for (int y = 0; y < rgb.rows; ++y) grey_like_libpng_row(rgb.ptr<std::uint8_t>(y), gray.ptr<std::uint8_t>(y), rgb.cols);
  return gray;
}

}  // namespace digits
