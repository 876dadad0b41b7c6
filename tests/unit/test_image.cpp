// Decoding with limits: sizes come from headers, never from decoding.

#include <doctest/doctest.h>

#include "base/error.hpp"
#include "io/image.hpp"
#include "io/jpeg.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>

using namespace digits;

namespace {

std::string encode(const cv::Mat& img, const std::string& ext, const std::vector<int>& params = {}) {
  std::vector<std::uint8_t> bytes;
  REQUIRE(cv::imencode(ext, img, bytes, params));
  return {bytes.begin(), bytes.end()};
}

cv::Mat sample(int w, int h) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(240, 240, 240));
  cv::circle(img, {w / 2, h / 2}, std::min(w, h) / 3, cv::Scalar(20, 20, 20), 3);
  return img;
}

// A PNG whose IHDR claims `w` x `h`, followed by nothing a decoder could use.
std::string png_claiming(std::uint32_t w, std::uint32_t h) {
  std::string b = "\x89PNG\r\n\x1a\n";
  b += std::string("\0\0\0\x0dIHDR", 8);
  for (const std::uint32_t v : {w, h})
    for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>((v >> shift) & 0xFF);
  b += std::string("\x08\x00\x00\x00\x00", 5);
  b += std::string("\0\0\0\0", 4);  // CRC, not checked by us
  b += std::string(64, 'x');
  return b;
}

// Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker.
std::string with_exif_orientation(const std::string& jpeg, int orientation) {
  std::string tiff = std::string("MM\0*\0\0\0\x08", 8);
  tiff += std::string("\0\x01", 2);                                 // one entry
  tiff += std::string("\x01\x12\0\x03\0\0\0\x01", 8);               // Orientation, SHORT, count 1
  tiff += static_cast<char>(0), tiff += static_cast<char>(orientation), tiff += std::string(2, '\0');
  tiff += std::string(4, '\0');                                     // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const std::size_t length = payload.size() + 2;
  std::string app1 = "\xFF\xE1";
  app1 += static_cast<char>(length >> 8), app1 += static_cast<char>(length & 0xFF);
  return jpeg.substr(0, 2) + app1 + payload + jpeg.substr(2);
}

}  // namespace

TEST_SUITE("image") {
  TEST_CASE("headers give format and size without decoding") {
    const cv::Mat img = sample(37, 23);
    std::vector<std::pair<std::string, std::string>> formats{{".png", "png"}, {".jpg", "jpeg"}, {".bmp", "bmp"},
                                                             {".pgm", "pnm"}};
    if (cv::haveImageWriter(".webp")) formats.emplace_back(".webp", "webp");
    if (cv::haveImageWriter(".tiff")) formats.emplace_back(".tiff", "tiff");
    for (const auto& [ext, name] : formats) {
      CAPTURE(ext);
      cv::Mat input = img;
      if (ext == ".pgm") cv::cvtColor(img, input, cv::COLOR_BGR2GRAY);
      const auto header = read_image_header(encode(input, ext));
      REQUIRE(header.has_value());
      CHECK(header->format == name);
      CHECK(header->width == 37);
      CHECK(header->height == 23);
      const cv::Mat decoded = decode_image(encode(input, ext));
      CHECK(decoded.type() == CV_8UC1);
      CHECK(decoded.size() == cv::Size(37, 23));
    }
  }

  TEST_CASE("a 30000x30000 PNG header is refused before any pixel is decoded") {
    const std::string bytes = png_claiming(30000, 30000);
    const auto header = read_image_header(bytes);
    REQUIRE(header.has_value());
    CHECK(header->width == 30000);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(decode_image(bytes), doctest::Contains("over the limit"), Error);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100));
    // The limit is the caller's: a small one refuses an ordinary picture too.
    CHECK_THROWS_AS(decode_image(encode(sample(100, 100), ".png"), 5000), Error);
    CHECK(decode_image(encode(sample(100, 100), ".png"), 10000).cols == 100);
  }

  TEST_CASE("bad bytes are clear errors") {
    CHECK_THROWS_WITH_AS(decode_image(""), doctest::Contains("empty"), Error);
    CHECK_THROWS_WITH_AS(decode_image("hello, I am a text file\n"), doctest::Contains("not a supported image"), Error);
    const std::string png = encode(sample(200, 100), ".png");
    CHECK_THROWS_WITH_AS(decode_image(png.substr(0, png.size() / 2)), doctest::Contains("cannot decode"), Error);
    CHECK_THROWS_WITH_AS(decode_image(encode(cv::Mat(1, 1, CV_8U, cv::Scalar(0)), ".png")),
                         doctest::Contains("too small"), Error);
    CHECK_THROWS_AS(decode_image(png_claiming(0, 10)), Error);
    CHECK_THROWS_WITH_AS(decode_image(png_claiming(100000, 8)), doctest::Contains("too thin"), Error);
    CHECK_THROWS_WITH_AS(decode_image(png_claiming(8, 8008)), doctest::Contains("too thin"), Error);
  }

  TEST_CASE("a JPEG's scans are counted before decoding: too many is refused, truncated is an error") {
    const cv::Mat img = sample(640, 480);
    for (const auto& params : std::vector<std::vector<int>>{{}, {cv::IMWRITE_JPEG_PROGRESSIVE, 1},
                                                             {cv::IMWRITE_JPEG_RST_INTERVAL, 3}}) {
      const std::string jpeg = encode(img, ".jpg", params);
      CHECK(decode_image(jpeg).size() == img.size());
      // Cut anywhere after the header: an error, never a picture half grey.
      for (const std::size_t keep : {jpeg.size() / 2, jpeg.size() - 2})
        CHECK_THROWS_WITH_AS(decode_image(jpeg.substr(0, keep)), doctest::Contains("truncated"), Error);
    }
    // The last scan repeated until scans x pixels passes the bound: refused without decoding.
    const std::string progressive = encode(img, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
    const std::size_t last_scan = progressive.rfind("\xFF\xDA");
    REQUIRE(last_scan != std::string::npos);
    const std::string scan = progressive.substr(last_scan, progressive.size() - 2 - last_scan);
    const auto repeats = static_cast<std::size_t>(max_jpeg_scan_pixels / (640.0 * 480.0)) + 1;
    std::string bomb = progressive.substr(0, progressive.size() - 2);
    for (std::size_t i = 0; i < repeats; ++i) bomb += scan;
    bomb += "\xFF\xD9";
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(decode_image(bomb), doctest::Contains("scans"), TooLarge);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));  // counted, not decoded
  }

  TEST_CASE("a file another OpenCV decoder would claim is refused") {
    // A WebP header libwebp turns down, and "DICM" at byte 128: OpenCV would hand it to GDCM,
    // which allocated 3 GB for 156 such bytes (found by fuzzing).
    std::string b("RIFF\x94\0\0\0WEBPVP8L\x0a\0\0\0\x2f", 21);
    const std::uint32_t bits = 15u | (15u << 14);  // 16x16
    for (int i = 0; i < 4; ++i) b += static_cast<char>((bits >> (8 * i)) & 0xFF);
    b.resize(128, '\0');
    b += "DICM" + std::string(24, '\0');
    REQUIRE(read_image_header(b).has_value());
    CHECK_THROWS_WITH_AS(decode_image(b), doctest::Contains("DICOM"), Error);
    // And "DTED" at byte 140, which OpenCV's GDAL decoder claims.
    b.replace(128, 4, std::string(4, '\0'));
    b.replace(140, 4, "DTED");
    CHECK_THROWS_WITH_AS(decode_image(b), doctest::Contains("DTED"), Error);
  }

  TEST_CASE("a TIFF's tiles may not be larger than its picture") {
    const auto tiff = [](std::uint32_t side, std::uint32_t tile) {
      std::string b("II*\0\x08\0\0\0", 8);
      const auto le = [&](std::uint32_t v, int n) {
        for (int i = 0; i < n; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
      };
      le(4, 2);  // entries: width, height, tile width, tile length, each a LONG
      for (const auto& [tag, value] : {std::pair{256u, side}, {257u, side}, {322u, tile}, {323u, tile}}) {
        le(tag, 2), le(4, 2), le(1, 4), le(value, 4);
      }
      le(0, 4);
      return b + std::string(64, '\0');
    };
    const auto header = read_image_header(tiff(16, 16384));
    REQUIRE(header.has_value());
    CHECK(header->tile_pixels == std::int64_t{16384} * 16384);
    CHECK_THROWS_WITH_AS(decode_image(tiff(16, 16384)), doctest::Contains("TIFF declares tiles"), TooLarge);
    // Sides whose product passes int64 (once undefined behaviour, wrapping below every bound).
    const auto huge = read_image_header(tiff(16, 0xFFFFFFFFu));
    REQUIRE(huge.has_value());
    CHECK(huge->tile_pixels > std::int64_t{1} << 40);
    CHECK_THROWS_WITH_AS(decode_image(tiff(16, 0xFFFFFFFFu)), doctest::Contains("TIFF declares tiles"), TooLarge);
    // An ordinary tile larger than a small picture is within the bound: refused later as bad data.
    try {
      decode_image(tiff(16, 256));
      FAIL("decoded a TIFF without pixel data");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("tiles") == std::string::npos);
    }
  }

  TEST_CASE("our JPEG decoder gives OpenCV's pixels: colour and grey, progressive, scaled, every EXIF orientation") {
    cv::Mat colour(301, 207, CV_8UC3);
    cv::randu(colour, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::GaussianBlur(colour, colour, {7, 7}, 2);
    cv::putText(colour, "42", {20, 200}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(10, 200, 30), 9);
    cv::Mat grey;
    cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
    const std::vector<std::pair<std::string, std::string>> files{
        {"colour", encode(colour, ".jpg")},
        {"grey", encode(grey, ".jpg")},
        {"progressive", encode(colour, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
        {"restarts", encode(colour, ".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 2, cv::IMWRITE_JPEG_QUALITY, 60})}};
    const std::array<std::pair<int, int>, 4> modes{{{1, cv::IMREAD_GRAYSCALE}, {2, cv::IMREAD_REDUCED_GRAYSCALE_2},
                                                    {4, cv::IMREAD_REDUCED_GRAYSCALE_4}, {8, cv::IMREAD_REDUCED_GRAYSCALE_8}}};
    for (const auto& [name, jpeg] : files) {
      for (int orientation = 1; orientation <= 8; ++orientation) {
        const std::string bytes = orientation == 1 ? jpeg : with_exif_orientation(jpeg, orientation);
        CHECK(jpeg_exif_orientation(bytes) == orientation);
        for (const auto& [reduction, mode] : modes) {
          CAPTURE(name);
          CAPTURE(orientation);
          CAPTURE(reduction);
          const auto ours = decode_jpeg_grey(bytes, reduction);
          REQUIRE(ours.has_value());
          const cv::Mat theirs = cv::imdecode(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), mode);
          REQUIRE(ours->size() == theirs.size());
          CHECK(cv::norm(*ours, theirs, cv::NORM_INF) == 0);
        }
      }
    }
    CHECK_THROWS_WITH_AS(decode_jpeg_grey(std::string("\xFF\xD8\xFF\xD9", 4), 1), doctest::Contains("cannot decode"), Error);
  }

  TEST_CASE("EXIF orientation is applied") {
    const std::string jpeg = encode(sample(60, 20), ".jpg");
    CHECK(decode_image(jpeg).size() == cv::Size(60, 20));
    const cv::Mat turned = decode_image(with_exif_orientation(jpeg, 6));
    CHECK(turned.size() == cv::Size(20, 60));
  }

  TEST_CASE("a large JPEG is decoded no larger than the working size needs") {
    const std::string jpeg = encode(sample(3400, 1800), ".jpg");
    const Decoded half = decode_reduced(jpeg, 1600);
    CHECK(half.image.size() == cv::Size(1700, 900));
    CHECK(half.full == cv::Size(3400, 1800));
    const Decoded quarter = decode_reduced(jpeg, 800);
    CHECK(quarter.image.size() == cv::Size(850, 450));
    // Never below the working size; and other formats, and small JPEGs, are decoded in full.
    CHECK(decode_reduced(jpeg, 2000).image.size() == cv::Size(3400, 1800));
    CHECK(decode_reduced(encode(sample(3400, 1800), ".png"), 1600).image.size() == cv::Size(3400, 1800));
    // Turned by EXIF, the full size turns with it.
    const Decoded turned = decode_reduced(with_exif_orientation(jpeg, 6), 1600);
    CHECK(turned.image.size() == cv::Size(900, 1700));
    CHECK(turned.full == cv::Size(1800, 3400));
  }

  TEST_CASE("a transparent canvas is flattened onto a contrasting background") {
    cv::Mat bgra(80, 80, CV_8UC4, cv::Scalar(0, 0, 0, 0));
    cv::line(bgra, {40, 10}, {40, 70}, cv::Scalar(0, 0, 0, 255), 6);
    const auto header = read_image_header(encode(bgra, ".png"));
    REQUIRE(header.has_value());
    CHECK(header->alpha);
    const cv::Mat dark_strokes = decode_image(encode(bgra, ".png"));
    CHECK(dark_strokes.at<std::uint8_t>(5, 5) == 255);
    CHECK(dark_strokes.at<std::uint8_t>(40, 40) < 50);
    cv::Mat white(80, 80, CV_8UC4, cv::Scalar(0, 0, 0, 0));
    cv::line(white, {40, 10}, {40, 70}, cv::Scalar(255, 255, 255, 255), 6);
    const cv::Mat light_strokes = decode_image(encode(white, ".png"));
    CHECK(light_strokes.at<std::uint8_t>(5, 5) == 0);
    CHECK(light_strokes.at<std::uint8_t>(40, 40) > 200);
  }
}
