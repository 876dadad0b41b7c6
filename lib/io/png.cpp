#include "io/png.hpp"

#include "base/error.hpp"
#include "io/exif.hpp"
#include "io/flatten.hpp"

#include <fmt/format.h>
#include <libdeflate.h>
#include <opencv2/imgproc.hpp>
#include <png.h>
#include <zlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <csetjmp>
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

// ---- libpng, for every other PNG --------------------------------------------------------------

// Past any ICC profile, EXIF block or text a real file carries, and libpng's own default (which
// OpenCV used): a file with a larger ancillary chunk is refused by libpng before it allocates.
// Not lower: a valid file's pixels must come out as they did through OpenCV.
constexpr png_alloc_size_t max_png_chunk_bytes = 8'000'000;

// What libpng's callbacks share with us: the bytes, how far it has read, the error that stopped
// it. Plain data: libpng leaves its functions by longjmp, past anything with a destructor.
struct LibpngSource {
  const char* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
  char message[200] = {};
};

[[noreturn]] void libpng_error(png_structp png, png_const_charp message) {
  auto* const source = static_cast<LibpngSource*>(png_get_error_ptr(png));
  std::snprintf(source->message, sizeof source->message, "%s", message);
  png_longjmp(png, 1);
}

// Warnings are damage libpng reads past (a bad CRC in an ancillary chunk, a text chunk it cannot
// inflate, an sRGB chunk that disagrees with gAMA): the pixels are sound, nothing to say.
void libpng_warning(png_structp, png_const_charp) {}

void libpng_read(png_structp png, png_bytep out, std::size_t n) {
  auto* const source = static_cast<LibpngSource*>(png_get_io_ptr(png));
  if (n > source->size - source->pos) png_error(png, "truncated (the file ends inside a chunk)");
  std::memcpy(out, source->data + source->pos, n);
  source->pos += n;
}

struct DestroyReadStruct {
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_infop end = nullptr;
  DestroyReadStruct(const DestroyReadStruct&) = delete;
  DestroyReadStruct& operator=(const DestroyReadStruct&) = delete;
  explicit DestroyReadStruct(png_structp p) : png(p) {}
  ~DestroyReadStruct() { png_destroy_read_struct(&png, &info, &end); }
};

// The rows libpng gives, turned grey as they come, as cv::imdecode and gray_of turned the whole
// picture grey: IMREAD_GRAYSCALE's rows are grey already; IMREAD_UNCHANGED's (16-bit scaled by
// 1/257, then BGR or BGRA through cv::cvtColor) have their alpha recorded. An interlaced pass's
// rows are that pass's pixels, which go to their columns.
class LibpngRows {
 public:
  explicit LibpngRows(bool unchanged) : unchanged_(unchanged) {}
  bool unchanged() const { return unchanged_; }

  void begin(int width, int height, std::size_t row_bytes, int channels, bool sixteen) {
    grey_.emplace(cv::Size(width, height));
    buffer_.resize(row_bytes);
    channels_ = channels;
    sixteen_ = sixteen;
    if (sixteen) eight_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(channels));
    scattered_.resize(static_cast<std::size_t>(width));
  }
  png_bytep buffer() { return buffer_.data(); }

  // The row in the buffer: `count` pixels of row y, at columns x0, x0 + dx, ...
  void take(int y, int x0, int dx, int count) {
    const std::uint8_t* pixels = buffer_.data();
    if (sixteen_) {
      const cv::Mat wide(1, count, CV_16UC(channels_), buffer_.data());
      cv::Mat eight(1, count, CV_8UC(channels_), eight_.data());
      wide.convertTo(eight, CV_8U, 1.0 / 257);
      pixels = eight_.data();
    }
    std::uint8_t* const row = grey_->row(y);
    std::uint8_t* const out = dx == 1 ? row + x0 : scattered_.data();
    if (channels_ == 1) {
      std::copy(pixels, pixels + count, out);
    } else {
      const cv::Mat colour(1, count, CV_8UC(channels_), const_cast<std::uint8_t*>(pixels));
      cv::Mat grey(1, count, CV_8U, out);
      cv::cvtColor(colour, grey, channels_ == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    }
    if (dx != 1)
      for (int i = 0; i < count; ++i) row[x0 + i * dx] = out[i];
    if (channels_ == 4) grey_->record_alpha(y, x0, dx, count, pixels + 3, 4);
  }

  cv::Mat finish(int orientation) && {
    cv::Mat grey = std::move(*grey_).finish();
    // As imdecode: EXIF orientation for IMREAD_GRAYSCALE, not for IMREAD_UNCHANGED.
    return unchanged_ ? grey : apply_exif_orientation(grey, orientation);
  }

 private:
  bool unchanged_;
  std::optional<FlattenedGrey> grey_;
  std::vector<std::uint8_t> buffer_, eight_, scattered_;
  int channels_ = 1;
  bool sixteen_ = false;
};

// Text and suggested palettes are never stored: a file may carry a thousand of them, each
// inflating to megabytes, and they change no pixel.
constexpr std::array<png_byte, 20> skipped_chunks{'t', 'E', 'X', 't', 0, 'z', 'T', 'X', 't', 0,
                                                  'i', 'T', 'X', 't', 0, 's', 'P', 'L', 'T', 0};

// libpng's part, with the calls and transforms of OpenCV 4.6's PngDecoder (readHeader, then
// readData for the picture imdecode asks for), but for interlacing: OpenCV had libpng widen each
// pass to whole rows of the whole picture; here each pass's rows come as they are and go to their
// columns, so an interlaced picture is never held whole either. No object with a destructor lives
// in this function: libpng leaves it by longjmp on any error.
bool read_through_libpng(png_structp png, png_infop info, png_infop end, cv::Size declared, LibpngRows& rows,
                         std::string_view& exif) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  png_set_user_limits(png, static_cast<png_uint_32>(declared.width), static_cast<png_uint_32>(declared.height));
  png_set_chunk_malloc_max(png, max_png_chunk_bytes);
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped_chunks.data(), static_cast<int>(skipped_chunks.size() / 5));
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int depth = 0, colour = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &depth, &colour, &interlace, nullptr, nullptr);

  // The picture imdecode made: grey for IMREAD_GRAYSCALE; for IMREAD_UNCHANGED readHeader's type,
  // BGR(A) or grey, 16-bit if the file is.
  int channels = 1;
  if (rows.unchanged()) {
    if (colour == PNG_COLOR_TYPE_RGB || colour == PNG_COLOR_TYPE_PALETTE) {
      png_bytep trans = nullptr;
      int num_trans = 0;
      png_color_16p trans_values = nullptr;
      png_get_tRNS(png, info, &trans, &num_trans, &trans_values);
      channels = num_trans > 0 ? 4 : 3;
    } else if (colour == PNG_COLOR_TYPE_GRAY_ALPHA || colour == PNG_COLOR_TYPE_RGB_ALPHA) {
      channels = 4;
    }
  }
  const bool sixteen = rows.unchanged() && depth == 16;
  if (depth == 16 && !sixteen)
    png_set_strip_16(png);
  else if constexpr (std::endian::native == std::endian::little)
    png_set_swap(png);
  if (channels < 4)
    png_set_strip_alpha(png);
  else
    png_set_tRNS_to_alpha(png);
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((colour & PNG_COLOR_MASK_COLOR) == 0 && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if ((colour & PNG_COLOR_MASK_COLOR) != 0 && channels > 1)
    png_set_bgr(png);
  else if (channels > 1)
    png_set_gray_to_rgb(png);
  else
    png_set_rgb_to_gray(png, 1, 0.299, 0.587);
  png_read_update_info(png, info);

  rows.begin(static_cast<int>(width), static_cast<int>(height), png_get_rowbytes(png, info), channels, sixteen);
  const bool interlaced = interlace == PNG_INTERLACE_ADAM7;
  for (int pass = 0; pass < (interlaced ? PNG_INTERLACE_ADAM7_PASSES : 1); ++pass) {
    const png_uint_32 cols = interlaced ? PNG_PASS_COLS(width, pass) : width;
    const png_uint_32 count = interlaced ? PNG_PASS_ROWS(height, pass) : height;
    if (cols == 0 || count == 0) continue;  // libpng skips an empty pass
    const int x0 = interlaced ? PNG_PASS_START_COL(pass) : 0, dx = interlaced ? 1 << PNG_PASS_COL_SHIFT(pass) : 1;
    const int y0 = interlaced ? PNG_PASS_START_ROW(pass) : 0, dy = interlaced ? 1 << PNG_PASS_ROW_SHIFT(pass) : 1;
    for (png_uint_32 r = 0; r < count; ++r) {
      png_read_row(png, rows.buffer(), nullptr);
      rows.take(y0 + static_cast<int>(r) * dy, x0, dx, static_cast<int>(cols));
    }
  }
  png_read_end(png, end);

  // EXIF before the image data or after it, as OpenCV looks for it.
  png_uint_32 exif_size = 0;
  png_bytep exif_data = nullptr;
  if (png_get_valid(png, info, PNG_INFO_eXIf) != 0)
    png_get_eXIf_1(png, info, &exif_size, &exif_data);
  else if (png_get_valid(png, end, PNG_INFO_eXIf) != 0)
    png_get_eXIf_1(png, end, &exif_size, &exif_data);
  if (exif_data != nullptr) exif = std::string_view(reinterpret_cast<const char*>(exif_data), exif_size);
  return true;
}

cv::Mat decode_with_libpng(std::string_view bytes, const ImageHeader& header) {
  LibpngSource source{bytes.data(), bytes.size()};
  DestroyReadStruct read(png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, libpng_error, libpng_warning));
  if (read.png == nullptr) throw Error("cannot start the PNG decoder");
  read.info = png_create_info_struct(read.png);
  read.end = png_create_info_struct(read.png);
  if (read.info == nullptr || read.end == nullptr) throw Error("cannot start the PNG decoder");
  png_set_read_fn(read.png, &source, libpng_read);
  LibpngRows rows(header.alpha);
  std::string_view exif;
  if (!read_through_libpng(read.png, read.info, read.end, cv::Size(header.width, header.height), rows, exif))
    throw Error(fmt::format("cannot decode png image: {}", source.message));
  return std::move(rows).finish(exif_orientation(exif));
}

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
