// The quick PNG path: every filter, every colour type it takes, checked against libpng (through
// cv::imdecode) on the same bytes, inflated at once and a block at a time; every other kind of
// PNG, read through libpng by us, checked against what cv::imdecode gave; and damage of each.

#include <doctest/doctest.h>

#include "base/error.hpp"
#include "io/image.hpp"
#include "io/png.hpp"
#include "png_oracle.hpp"
#include "png_writer.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <zlib.h>

#include <cstdlib>
#include <random>
#include <tuple>

using namespace digits;

namespace {

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

void chunk(std::string& out, std::string_view type, std::string_view data) {
  put32(out, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body += data;
  out += body;
  put32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

std::string ihdr(int w, int h, int depth, int colour, int interlace = 0) {
  std::string d;
  put32(d, static_cast<std::uint32_t>(w));
  put32(d, static_cast<std::uint32_t>(h));
  d += static_cast<char>(depth), d += static_cast<char>(colour);
  d += std::string(2, '\0'), d += static_cast<char>(interlace);
  return d;
}

int colour_type(int channels) { return channels == 1 ? 0 : channels == 2 ? 4 : channels == 3 ? 2 : 6; }

// The filtered rows of `img` (channels in PNG order), row y with filter `filter_of(y)`.
template <typename FilterOf>
std::string filtered(const cv::Mat& img, FilterOf filter_of) {
  const int bpp = img.channels();
  const std::size_t n = static_cast<std::size_t>(img.cols) * static_cast<std::size_t>(bpp);
  const std::vector<std::uint8_t> zeros(n, 0);
  std::string raw;
  for (int y = 0; y < img.rows; ++y) {
    const std::uint8_t* x = img.ptr<std::uint8_t>(y);
    const std::uint8_t* up = y > 0 ? img.ptr<std::uint8_t>(y - 1) : zeros.data();
    const int f = filter_of(y);
    raw += static_cast<char>(f);
    for (std::size_t i = 0; i < n; ++i) {
      const int a = i >= static_cast<std::size_t>(bpp) ? x[i - static_cast<std::size_t>(bpp)] : 0;
      const int b = up[i];
      const int c = i >= static_cast<std::size_t>(bpp) ? up[i - static_cast<std::size_t>(bpp)] : 0;
      int predicted = 0;
      if (f == 1) predicted = a;
      if (f == 2) predicted = b;
      if (f == 3) predicted = (a + b) / 2;
      if (f == 4) {
        const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      raw += static_cast<char>((x[i] - predicted) & 0xFF);
    }
  }
  return raw;
}

std::string deflated(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  REQUIRE(compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                    static_cast<uLong>(raw.size()), 6) == Z_OK);
  out.resize(size);
  return out;
}

// A PNG of `img` written by hand, so that each filter can be chosen; the zlib stream is cut into
// `parts` IDAT chunks, and `extra` chunks go before the first.
std::string png_of(const cv::Mat& img, int filter, int parts = 1, const std::string& extra = {}) {
  const std::string stream = deflated(filtered(img, [&](int y) { return filter >= 0 ? filter : y % 5; }));
  std::string out = "\x89PNG\r\n\x1a\n";
  chunk(out, "IHDR", ihdr(img.cols, img.rows, 8, colour_type(img.channels())));
  out += extra;
  const std::size_t step = stream.size() / static_cast<std::size_t>(parts) + 1;
  for (std::size_t at = 0; at < stream.size(); at += step) chunk(out, "IDAT", std::string_view(stream).substr(at, step));
  chunk(out, "IEND", "");
  return out;
}

cv::Mat noise(int w, int h, int channels, unsigned seed) {
  cv::Mat img(h, w, CV_8UC(channels));
  std::mt19937 rng(seed);
  // Half noise, half smooth ramps: filters behave differently on each.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w * channels; ++x)
      img.ptr<std::uint8_t>(y)[x] = static_cast<std::uint8_t>(y < h / 2 ? rng() : (x * 3 + y * 7) & 0xFF);
  return img;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// What libpng makes of the bytes, in PNG's channel order and count (OpenCV gives grey with
// alpha as BGRA).
cv::Mat libpng_reads(const std::string& bytes, int channels) {
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat bgr = cv::imdecode(buffer, cv::IMREAD_UNCHANGED), out;
  if (channels == 2 && bgr.channels() == 4) {
    std::vector<cv::Mat> planes;
    cv::split(bgr, planes);
    cv::merge(std::vector<cv::Mat>{planes[0], planes[3]}, out);
  } else if (bgr.channels() == 3)
    cv::cvtColor(bgr, out, cv::COLOR_BGR2RGB);
  else if (bgr.channels() == 4)
    cv::cvtColor(bgr, out, cv::COLOR_BGRA2RGBA);
  else
    out = bgr;
  return out;
}

}  // namespace

TEST_SUITE("png") {
  TEST_CASE("every filter and colour type decodes to the pixels, as libpng decodes them") {
    for (const int channels : {1, 2, 3, 4})
      for (const int filter : {0, 1, 2, 3, 4, -1})  // -1: the five in turn, row by row
        for (const cv::Size size : {cv::Size(37, 23), cv::Size(1, 9), cv::Size(64, 1)}) {
          CAPTURE(channels);
          CAPTURE(filter);
          CAPTURE(size);
          const cv::Mat img = noise(size.width, size.height, channels, static_cast<unsigned>(channels * 10 + filter + 1));
          const std::string bytes = png_of(img, filter, filter == -1 ? 3 : 1);
          const auto decoded = decode_simple_png(bytes);
          REQUIRE(decoded);
          CHECK(same(*decoded, img));
          CHECK(same(*decoded, libpng_reads(bytes, channels)));
          // Inflated by zlib a row or a few rows at a time, as a picture too large for libdeflate.
          for (const std::size_t whole : {std::size_t{0}, std::size_t{200}}) {
            const auto streamed = decode_simple_png(bytes, whole);
            REQUIRE(streamed);
            CHECK(same(*streamed, img));
          }
        }
  }

  TEST_CASE("the PNGs OpenCV writes decode as libpng decodes them") {
    const cv::Mat img = noise(300, 120, 3, 5);
    for (const int level : {0, 1, 9}) {
      std::vector<std::uint8_t> encoded;
      REQUIRE(cv::imencode(".png", img, encoded, {cv::IMWRITE_PNG_COMPRESSION, level}));
      const std::string bytes(encoded.begin(), encoded.end());
      const auto decoded = decode_simple_png(bytes);
      REQUIRE(decoded);
      CHECK(same(*decoded, libpng_reads(bytes, 3)));
    }
  }

  TEST_CASE("ancillary chunks are skipped, a palette hint in an RGB file too") {
    const cv::Mat img = noise(20, 10, 3, 7);
    std::string extra;
    chunk(extra, "gAMA", std::string("\0\0\xb1\x8f", 4));
    chunk(extra, "PLTE", std::string(6, '\x40'));
    chunk(extra, "tEXt", std::string("Comment\0hi", 10));
    const auto decoded = decode_simple_png(png_of(img, 4, 2, extra));
    REQUIRE(decoded);
    CHECK(same(*decoded, img));
  }

  TEST_CASE("what OpenCV must decode is left to it") {
    const cv::Mat img = noise(20, 10, 1, 9);
    const std::string good = png_of(img, 1);
    REQUIRE(decode_simple_png(good));
    std::string exif, trns;
    chunk(exif, "eXIf", std::string("MM\0*\0\0\0\x08\0\0", 10));
    chunk(trns, "tRNS", std::string("\0\0", 2));
    CHECK_FALSE(decode_simple_png(png_of(img, 1, 1, exif)));  // orientation is OpenCV's to apply
    CHECK_FALSE(decode_simple_png(png_of(img, 1, 1, trns)));  // so is transparency by colour key
    for (const auto& [depth, colour, interlace] : {std::tuple{16, 0, 0}, {8, 3, 0}, {4, 0, 0}, {8, 0, 1}}) {
      CAPTURE(depth);
      CAPTURE(colour);
      std::string header = "\x89PNG\r\n\x1a\n";
      chunk(header, "IHDR", ihdr(20, 10, depth, colour, interlace));
      CHECK_FALSE(decode_simple_png(header + good.substr(header.size())));
    }
    CHECK_FALSE(decode_simple_png("GIF89a" + good.substr(6)));
  }

  TEST_CASE("damage anywhere is noticed, never decoded into wrong pixels") {
    const cv::Mat img = noise(40, 30, 3, 11);
    const std::string good = png_of(img, -1, 2);
    REQUIRE(decode_simple_png(good));
    // Every truncation, and one flipped bit in every byte after the signature; inflated at once
    // and a row at a time.
    for (const std::size_t whole : {png_max_whole_inflate, std::size_t{0}}) {
      for (std::size_t n = 0; n < good.size(); ++n) CHECK_FALSE(decode_simple_png(good.substr(0, n), whole));
      for (std::size_t at = 8; at < good.size(); ++at) {
        std::string bad = good;
        bad[at] = static_cast<char>(bad[at] ^ 0x10);
        CAPTURE(at);
        CHECK_FALSE(decode_simple_png(bad, whole));
      }
    }
    // Sound chunks, unsound data: a filter number past 4, rows missing, rows to spare, image data
    // split by another chunk, no IEND.
    const auto with_stream = [&](const std::string& raw) {
      std::string out = "\x89PNG\r\n\x1a\n";
      chunk(out, "IHDR", ihdr(img.cols, img.rows, 8, 2));
      chunk(out, "IDAT", deflated(raw));
      chunk(out, "IEND", "");
      return out;
    };
    std::string raw = filtered(img, [](int) { return 1; });
    REQUIRE(decode_simple_png(with_stream(raw)));
    std::string bad_filter = raw;
    bad_filter[static_cast<std::size_t>(img.cols) * 3 + 1] = 5;
    for (const std::size_t whole : {png_max_whole_inflate, std::size_t{0}, std::size_t{500}}) {
      CAPTURE(whole);
      REQUIRE(decode_simple_png(with_stream(raw), whole));
      CHECK_FALSE(decode_simple_png(with_stream(bad_filter), whole));
      CHECK_FALSE(decode_simple_png(with_stream(raw.substr(0, raw.size() - 1)), whole));
      CHECK_FALSE(decode_simple_png(with_stream(raw + std::string(1, '\0')), whole));
      CHECK_FALSE(decode_simple_png(with_stream(raw + std::string(121, '\0')), whole));
    }
    std::string split = "\x89PNG\r\n\x1a\n";
    chunk(split, "IHDR", ihdr(img.cols, img.rows, 8, 2));
    const std::string stream = deflated(raw);
    chunk(split, "IDAT", stream.substr(0, 10));
    chunk(split, "tEXt", std::string("a\0b", 3));
    chunk(split, "IDAT", stream.substr(10));
    chunk(split, "IEND", "");
    CHECK_FALSE(decode_simple_png(split));
    CHECK_FALSE(decode_simple_png(good.substr(0, good.size() - 12)));
  }

  TEST_CASE("a transparent picture whose data is damaged is an error, never a crash") {
    // A canvas-style RGBA PNG with a flipped byte in its zlib data (CRC made right again), and a
    // tiny WebP claiming alpha: OpenCV fails on both, and its empty result kept 4 channels, which
    // once crashed the grey conversion (found by fuzzing).
    const cv::Mat img = noise(40, 30, 4, 17);
    const std::string stream = deflated(filtered(img, [](int y) { return y % 5; }));
    std::size_t failures = 0;
    for (std::size_t at = 2; at < stream.size(); at += at < 64 ? 1 : 5) {
      std::string damaged = stream;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
      std::string out = "\x89PNG\r\n\x1a\n";
      chunk(out, "IHDR", ihdr(img.cols, img.rows, 8, 6));
      chunk(out, "IDAT", damaged);
      chunk(out, "IEND", "");
      CAPTURE(at);
      try {
        const cv::Mat decoded = decode_image(out);
        CHECK(decoded.size() == img.size());
      } catch (const Error& e) {
        CHECK(std::string(e.what()).find("damaged") != std::string::npos);
        ++failures;
      }
    }
    CHECK(failures > 0);  // the loop did reach the failed-decode path
    // Those are the fast path's kind: refused as damaged by us, never handed on to libpng.
    std::string out = "\x89PNG\r\n\x1a\n";
    chunk(out, "IHDR", ihdr(img.cols, img.rows, 8, 6));
    CHECK(is_simple_png(out));
    CHECK_FALSE(is_simple_png(png_of(noise(8, 8, 1, 1), 0).replace(24, 1, "\x10")));  // 16-bit: libpng's
    std::string interlaced = "\x89PNG\r\n\x1a\n";
    chunk(interlaced, "IHDR", ihdr(8, 8, 8, 2, 1));
    CHECK_FALSE(is_simple_png(interlaced));
    CHECK_FALSE(is_simple_png(png_of(noise(8, 8, 3, 1), 0, 1, [] {
      std::string trns;
      chunk(trns, "tRNS", std::string(6, '\0'));
      return trns;
    }())));
    const std::string webp("RIFF\x89PNGWEBPVP8L\x1e\x02\x01\x3a\x2f\x2f\x00\x50\x1f\x1f\x1f\x1f\x1f\x38\x4c\x1e", 32);
    CHECK_THROWS_AS(decode_image(webp), Error);
  }

  TEST_CASE("decode_image reads an RGB PNG's grey exactly as libpng does") {
    const cv::Mat img = noise(200, 80, 3, 13);
    const std::string bytes = png_of(img, -1);
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    const cv::Mat ours = decode_image(bytes), theirs = cv::imdecode(buffer, cv::IMREAD_GRAYSCALE);
    REQUIRE(ours.size() == theirs.size());
    CHECK(same(ours, theirs));
  }

  TEST_CASE("every kind of PNG reads as the grey cv::imdecode gave pixel for pixel") {
    using test::png_kind;
    std::vector<test::PngKind> kinds;
    for (const bool interlaced : {false, true}) {
      for (const int depth : {1, 2, 4, 8, 16})
        for (const bool trns : {false, true}) kinds.push_back(png_kind(depth, PNG_COLOR_TYPE_GRAY, interlaced, trns));
      for (const int depth : {8, 16}) {
        kinds.push_back(png_kind(depth, PNG_COLOR_TYPE_GRAY_ALPHA, interlaced));
        kinds.push_back(png_kind(depth, PNG_COLOR_TYPE_RGB, interlaced));
        kinds.push_back(png_kind(depth, PNG_COLOR_TYPE_RGB, interlaced, true));
        kinds.push_back(png_kind(depth, PNG_COLOR_TYPE_RGB_ALPHA, interlaced));
      }
      for (const int depth : {1, 2, 4, 8})
        for (const bool trns : {false, true}) kinds.push_back(png_kind(depth, PNG_COLOR_TYPE_PALETTE, interlaced, trns));
    }
    // A gAMA chunk makes libpng turn colour grey in linear light; EXIF turns the picture upright
    // (IMREAD_GRAYSCALE did, IMREAD_UNCHANGED did not).
    const auto with_gamma = [](test::PngKind kind, double gamma) {
      kind.gamma = gamma;
      return kind;
    };
    const auto with_orientation = [](test::PngKind kind, int orientation) {
      kind.orientation = orientation;
      return kind;
    };
    kinds.push_back(with_gamma(png_kind(16, PNG_COLOR_TYPE_RGB), 0.45455));
    kinds.push_back(with_gamma(png_kind(8, PNG_COLOR_TYPE_RGB, true), 0.45455));
    kinds.push_back(with_gamma(png_kind(8, PNG_COLOR_TYPE_PALETTE), 0.45455));
    kinds.push_back(with_gamma(png_kind(8, PNG_COLOR_TYPE_PALETTE, true, true), 0.45455));
    kinds.push_back(with_gamma(png_kind(16, PNG_COLOR_TYPE_GRAY), 1.0));
    kinds.push_back(with_gamma(png_kind(16, PNG_COLOR_TYPE_RGB_ALPHA), 0.45455));
    kinds.push_back(with_orientation(png_kind(8, PNG_COLOR_TYPE_GRAY), 6));
    kinds.push_back(with_orientation(png_kind(8, PNG_COLOR_TYPE_RGB), 5));
    kinds.push_back(with_orientation(png_kind(16, PNG_COLOR_TYPE_RGB, true), 3));
    kinds.push_back(with_orientation(png_kind(4, PNG_COLOR_TYPE_PALETTE), 8));
    kinds.push_back(with_orientation(png_kind(8, PNG_COLOR_TYPE_RGB_ALPHA), 6));
    kinds.push_back(with_orientation(png_kind(8, PNG_COLOR_TYPE_GRAY, false, true), 2));
    std::size_t transparent = 0;
    unsigned seed = 1;
    for (test::PngKind kind : kinds)
      for (const cv::Size size : {cv::Size(37, 23), cv::Size(8, 8), cv::Size(301, 19), cv::Size(9, 70)}) {
        kind.light_strokes = seed % 2 == 0;
        const std::string bytes = test::write_png(kind, size.width, size.height, seed++);
        CAPTURE(kind.depth);
        CAPTURE(kind.colour);
        CAPTURE(kind.interlaced);
        CAPTURE(kind.trns);
        CAPTURE(kind.orientation);
        CAPTURE(kind.light_strokes);
        CAPTURE(size);
        const cv::Mat theirs = test::old_png_grey(bytes);
        REQUIRE_FALSE(theirs.empty());
        const cv::Mat ours = decode_image(bytes);
        CHECK(same(ours, theirs));
        const auto header = read_image_header(bytes);
        REQUIRE(header);
        transparent += header->alpha ? 1 : 0;
        // EXIF's quarter turns did turn the picture (the oracle is no mirror of our reading).
        if (kind.orientation >= 5 && !header->alpha) CHECK(ours.size() == cv::Size(size.height, size.width));
        CHECK(same(decode_png_grey(bytes, *header, 0), theirs));
      }
    CHECK(transparent > 0);
  }

  TEST_CASE("a picture too large to inflate at once reads as it did and is never whole in memory") {
    // Over png_max_whole_inflate of rows: inflated by zlib a block at a time, turned grey as the
    // rows come, transparency flattened after.
    const int width = 4100, height = 4200;
    cv::Mat rgba(height, width, CV_8UC4, cv::Scalar(0, 0, 0, 0));
    cv::putText(rgba, "4 2", {200, 2500}, cv::FONT_HERSHEY_SIMPLEX, 60, cv::Scalar(30, 60, 90, 255), 200);
    cv::circle(rgba, {3000, 1000}, 600, cv::Scalar(250, 120, 10, 128), 80);
    REQUIRE(static_cast<std::size_t>(width * 4 + 1) * height > png_max_whole_inflate);
    std::vector<std::uint8_t> encoded;
    REQUIRE(cv::imencode(".png", rgba, encoded, {cv::IMWRITE_PNG_COMPRESSION, 1}));
    const std::string bytes(encoded.begin(), encoded.end());
    CHECK(same(decode_image(bytes), test::old_png_grey(bytes)));
  }

  TEST_CASE("damage to any kind of PNG is one line of ours and never a crash or a decoder's chatter") {
    using test::png_kind;
    const std::vector<test::PngKind> kinds{
        png_kind(8, PNG_COLOR_TYPE_PALETTE),       png_kind(4, PNG_COLOR_TYPE_PALETTE, false, true),
        png_kind(16, PNG_COLOR_TYPE_RGB),          png_kind(16, PNG_COLOR_TYPE_GRAY_ALPHA),
        png_kind(8, PNG_COLOR_TYPE_RGB, true),     png_kind(8, PNG_COLOR_TYPE_GRAY, false, true),
        png_kind(1, PNG_COLOR_TYPE_GRAY, true),    png_kind(8, PNG_COLOR_TYPE_RGB_ALPHA),
        png_kind(16, PNG_COLOR_TYPE_RGB_ALPHA, true)};
    for (const test::PngKind& kind : kinds) {
      CAPTURE(kind.depth);
      CAPTURE(kind.colour);
      CAPTURE(kind.interlaced);
      const std::string good = test::write_png(kind, 64, 48, 3);
      REQUIRE_NOTHROW(decode_image(good));
      std::vector<std::string> damaged;
      for (const std::size_t n : {good.size() / 3, good.size() / 2, good.size() - 13, good.size() - 1})
        damaged.push_back(good.substr(0, n));  // truncated
      for (std::size_t at = 2; at < 400; at += 37) damaged.push_back(test::flip_in_idat(good, at));
      const auto [data, length] = test::first_idat(good);
      std::string bad_crc = good;
      bad_crc[data + length / 2] = static_cast<char>(bad_crc[data + length / 2] ^ 1);
      damaged.push_back(bad_crc);
      std::size_t refused = 0;
      for (const auto& bytes : damaged) {
        try {
          const cv::Mat grey = decode_image(bytes);
          CHECK(grey.size() == cv::Size(64, 48));  // damage zlib's checksum cannot see
        } catch (const Error& e) {
          const std::string message = e.what();
          CHECK(message.starts_with("cannot decode png image"));
          CHECK(message.find('\n') == std::string::npos);
          ++refused;
        }
      }
      CHECK(refused + 2 > damaged.size());
    }
  }

  TEST_CASE("text chunks however many and however large inflated are not kept") {
    // Through cv::imdecode libpng kept every zTXt chunk, inflated (up to 8 MB each): 150 of them
    // in a 1.2 MB file took digits-classify to 1.24 GB. Here they are skipped unread.
    const std::string good = test::write_png(test::png_kind(4, PNG_COLOR_TYPE_PALETTE, true), 40, 30, 7);
    const std::string text(1'000'000, 'a');
    const std::string inflated = std::string("Comment\0\0", 9) + deflated(text);
    std::string chunks;
    for (int i = 0; i < 100; ++i) chunk(chunks, "zTXt", inflated);
    const std::string with_text = good.substr(0, 33) + chunks + good.substr(33);
    CHECK(same(decode_image(with_text), decode_image(good)));
  }

  TEST_CASE("libpng's warnings about a sound picture are not errors") {
    // A text chunk whose CRC is wrong, after the image data of a palette PNG: libpng warns and
    // decodes; cv::imdecode printed the warning.
    const std::string good = test::write_png(test::png_kind(8, PNG_COLOR_TYPE_PALETTE), 40, 30, 5);
    std::string text;
    chunk(text, "tEXt", std::string("Comment\0hello", 13));
    text[text.size() - 1] = static_cast<char>(text[text.size() - 1] ^ 1);
    const std::string warned = good.substr(0, good.size() - 12) + text + good.substr(good.size() - 12);
    CHECK(same(decode_image(warned), decode_image(good)));
  }
}
