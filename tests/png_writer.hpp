#pragma once
// PNGs of every kind libpng writes (grey 1-16 bits, grey + alpha, RGB, RGBA, palette, with tRNS
// transparency, gamma, EXIF orientation, interlaced), from pictures with varied content, and the
// damage a hostile upload may carry. Header-only, for the unit and end-to-end tests of PNG reading.

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace digits::test {

struct PngKind {
  int depth = 8;
  int colour = PNG_COLOR_TYPE_GRAY;
  bool interlaced = false;
  bool trns = false;            // palette: alpha for some entries; grey or RGB: a colour key
  std::optional<double> gamma;  // a gAMA chunk
  int orientation = 0;          // an eXIf chunk with this orientation (0: none)
  bool light_strokes = false;   // light marks on dark paper, rather than dark on light
};

// A kind of PNG, the rest as PngKind's defaults.
inline PngKind png_kind(int depth, int colour, bool interlaced = false, bool trns = false) {
  PngKind kind;
  kind.depth = depth;
  kind.colour = colour;
  kind.interlaced = interlaced;
  kind.trns = trns;
  return kind;
}

namespace detail {

inline void append_to(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), n);
}

[[noreturn]] inline void writer_error(png_structp png, png_const_charp) { png_longjmp(png, 1); }
inline void writer_warning(png_structp, png_const_charp) {}

inline int channels_of(int colour) {
  switch (colour) {
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;  // grey, palette
  }
}

// libpng's part, apart: nothing with a destructor lives where it may longjmp.
inline bool write_with_libpng(png_structp png, png_infop info, const PngKind& kind, int width, int height,
                              png_colorp palette, int palette_size, png_bytep alphas, int alpha_count,
                              png_color_16p key, png_bytep exif, int exif_size, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), kind.depth, kind.colour,
               kind.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (palette_size > 0) png_set_PLTE(png, info, palette, palette_size);
  if (alpha_count > 0 || key != nullptr) png_set_tRNS(png, info, alphas, alpha_count, key);
  if (kind.gamma) png_set_gAMA(png, info, *kind.gamma);
  if (exif_size > 0) png_set_eXIf_1(png, info, static_cast<png_uint_32>(exif_size), exif);
  png_write_info(png, info);
  if (kind.interlaced) png_set_interlace_handling(png);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

}  // namespace detail

// A width x height PNG of `kind`: a third noise, a third smooth ramps, a third strokes on paper;
// alpha (a channel or tRNS) opaque on the strokes, transparent and half-transparent elsewhere.
inline std::string write_png(const PngKind& kind, int width, int height, unsigned seed) {
  const int channels = detail::channels_of(kind.colour);
  const bool palette = kind.colour == PNG_COLOR_TYPE_PALETTE;
  const int max = (1 << kind.depth) - 1;  // the largest sample, or palette index
  std::mt19937 rng(seed);
  // A sample in [0, max] of pixel (x, y), channel c.
  const auto sample = [&](int x, int y, int c) -> int {
    const bool alpha = (channels == 2 && c == 1) || (channels == 4 && c == 3);
    const bool stroke = (x / 3 + y / 4) % 5 == 0;
    if (alpha) {
      if (stroke) return max;
      if (y < height / 3) return static_cast<int>(rng() % static_cast<unsigned>(max + 1));
      return (x % 4 == 0) ? 0 : (x % 4 == 1 ? max / 2 : (x % 4 == 2 ? max : max / 5));
    }
    int v = 0;
    if (y < height / 3)
      v = static_cast<int>(rng() % static_cast<unsigned>(max + 1));
    else if (y < 2 * height / 3)
      v = ((x * 7 + y * 3 + c * 50) * (max + 1) / 97) % (max + 1);
    else
      v = stroke ? max / 10 : max - max / 12;
    if (palette) return v;
    return kind.light_strokes ? max - v : v;
  };
  // Samples packed into PNG rows: big-endian, several to a byte below 8 bits.
  const std::size_t row_bytes = (static_cast<std::size_t>(width) * channels * kind.depth + 7) / 8;
  std::vector<std::vector<png_byte>> rows(static_cast<std::size_t>(height), std::vector<png_byte>(row_bytes, 0));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        const int v = sample(x, y, c);
        const std::size_t bit = (static_cast<std::size_t>(x) * channels + c) * kind.depth;
        auto& row = rows[static_cast<std::size_t>(y)];
        if (kind.depth == 16) {
          row[bit / 8] = static_cast<png_byte>(v >> 8);
          row[bit / 8 + 1] = static_cast<png_byte>(v & 0xFF);
        } else if (kind.depth == 8) {
          row[bit / 8] = static_cast<png_byte>(v);
        } else {
          row[bit / 8] |= static_cast<png_byte>(v << (8 - kind.depth - static_cast<int>(bit % 8)));
        }
      }
  std::vector<png_bytep> pointers;
  for (auto& row : rows) pointers.push_back(row.data());

  // A palette of greys and colours, dark to light (light to dark for light strokes); with tRNS,
  // the lightest entries see-through and some half so.
  std::vector<png_color> colours;
  std::vector<png_byte> alphas;
  if (palette) {
    for (int i = 0; i <= max; ++i) {
      const int level = kind.light_strokes ? 255 - i * 255 / std::max(max, 1) : i * 255 / std::max(max, 1);
      colours.push_back(png_color{static_cast<png_byte>(level), static_cast<png_byte>((level * 3 + i * 40) % 256),
                                  static_cast<png_byte>(255 - level / 2)});
    }
    if (kind.trns)
      for (int i = 0; i <= max && i < 200; ++i)
        alphas.push_back(static_cast<png_byte>(i == max ? 0 : (i % 3 == 0 ? 255 : (i * 37) % 256)));
  }
  png_color_16 key{};
  png_color_16p key_pointer = nullptr;
  if (kind.trns && !palette) {
    // The paper's value: its pixels become transparent.
    const int paper = kind.light_strokes ? max / 12 : max - max / 12;
    key.gray = key.red = key.green = key.blue = static_cast<png_uint_16>(paper);
    key_pointer = &key;
  }
  std::vector<png_byte> exif;
  if (kind.orientation != 0)
    exif = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
            0, static_cast<png_byte>(kind.orientation), 0, 0, 0, 0, 0, 0};

  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, detail::writer_error, detail::writer_warning);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) throw std::runtime_error("cannot start libpng's writer");
  png_set_write_fn(png, &out, detail::append_to, nullptr);
  const bool written = detail::write_with_libpng(
      png, info, kind, width, height, colours.data(), static_cast<int>(colours.size()), alphas.data(),
      static_cast<int>(alphas.size()), key_pointer, exif.data(), static_cast<int>(exif.size()), pointers.data());
  png_destroy_write_struct(&png, &info);
  if (!written) throw std::runtime_error("libpng could not write the test PNG");
  return out;
}

// The offset of the first IDAT chunk's data and its length.
inline std::pair<std::size_t, std::size_t> first_idat(const std::string& png) {
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(png[pos + i])); };
    const std::size_t length = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
    if (png.compare(pos + 4, 4, "IDAT") == 0) return {pos + 8, length};
    pos += 12 + length;
  }
  return {0, 0};
}

// The CRC of the chunk whose data starts at `data` and is `length` long, made right again.
inline void fix_crc(std::string& png, std::size_t data, std::size_t length) {
  const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(png.data() + data - 4), static_cast<uInt>(length + 4)));
  for (int i = 0; i < 4; ++i) png[data + length + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
}

// `png` with the byte at `at` of its image data flipped, its CRC right: damage only zlib sees.
inline std::string flip_in_idat(std::string png, std::size_t at, std::uint8_t mask = 0x5A) {
  const auto [data, length] = first_idat(png);
  if (length == 0) return png;
  png[data + at % length] = static_cast<char>(png[data + at % length] ^ mask);
  fix_crc(png, data, length);
  return png;
}

}  // namespace digits::test
