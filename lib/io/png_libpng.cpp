#include "io/png_libpng.hpp"

#include "base/error.hpp"
#include "io/exif.hpp"
#include "io/flatten.hpp"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace digits {

namespace {

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

}  // namespace

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

}  // namespace digits
