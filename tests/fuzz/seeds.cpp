// Writes each fuzzer's seed corpus, made by our own code, into OUT/<fuzzer>/:
//   digits-fuzz-seeds OUT
// Small pictures in every format we read (encoded by OpenCV), record lines, an IDX pair, models
// from encode_model, and requests to the service. Nothing binary is kept in the repository.

#include "base/codec.hpp"
#include "io/idx.hpp"
#include "io/records.hpp"
#include "model_fixtures.hpp"
#include "recognise/model.hpp"
#include "serve/web_assets.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace digits;
namespace fs = std::filesystem;

namespace {

fs::path out_dir;

void put(const std::string& fuzzer, const std::string& name, const std::string& bytes) {
  const fs::path dir = out_dir / fuzzer;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// A dark "42" on light paper, with a little noise: something for segmentation to find.
cv::Mat digits_picture(int w, int h, int channels, unsigned seed) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(235, 240, 245));
  std::mt19937 rng(seed);
  for (int i = 0; i < w * h / 20; ++i)
    img.at<cv::Vec3b>(static_cast<int>(rng() % static_cast<unsigned>(h)), static_cast<int>(rng() % static_cast<unsigned>(w))) =
        cv::Vec3b(200, 210, 220);
  cv::putText(img, "42", {w / 8, h * 3 / 4}, cv::FONT_HERSHEY_SIMPLEX, h / 40.0, cv::Scalar(30, 30, 60),
              std::max(1, h / 16));
  cv::Mat out;
  if (channels == 1) cv::cvtColor(img, out, cv::COLOR_BGR2GRAY);
  if (channels == 3) out = img;
  if (channels == 4) {
    // A canvas drawing: the strokes opaque, the rest transparent.
    cv::cvtColor(img, out, cv::COLOR_BGR2BGRA);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        auto& p = out.at<cv::Vec4b>(y, x);
        p[3] = p[0] < 128 ? 255 : 0;
      }
  }
  return out;
}

std::string encoded(const std::string& ext, const cv::Mat& img, const std::vector<int>& params = {}) {
  std::vector<std::uint8_t> buffer;
  if (!cv::imencode(ext, img, buffer, params)) throw std::runtime_error("cannot encode " + ext);
  return {buffer.begin(), buffer.end()};
}

void png_seeds() {
  int n = 0;
  for (const int channels : {1, 3, 4})
    for (const int level : {0, 6, 9}) {
      const std::string bytes = encoded(".png", digits_picture(24 + channels, 16, channels, static_cast<unsigned>(n)),
                                        {cv::IMWRITE_PNG_COMPRESSION, level, cv::IMWRITE_PNG_STRATEGY, n % 5});
      put("png", "c" + std::to_string(channels) + "-z" + std::to_string(level) + ".png", bytes);
      put("image", "c" + std::to_string(channels) + "-z" + std::to_string(level) + ".png", bytes);
      ++n;
    }
  cv::Mat deep;
  digits_picture(20, 12, 1, 9).convertTo(deep, CV_16U, 257);
  put("png", "grey16.png", encoded(".png", deep));
  put("image", "grey16.png", encoded(".png", deep));
}

void image_seeds() {
  const cv::Mat grey = digits_picture(40, 24, 1, 1), colour = digits_picture(40, 24, 3, 2);
  put("image", "baseline.jpg", encoded(".jpg", colour, {cv::IMWRITE_JPEG_QUALITY, 60}));
  put("image", "grey.jpg", encoded(".jpg", grey, {cv::IMWRITE_JPEG_QUALITY, 50}));
  put("image", "progressive.jpg", encoded(".jpg", colour, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  // Large enough for decode_reduced to decode it at a quarter of its size.
  put("image", "reduced.jpg", encoded(".jpg", digits_picture(480, 200, 1, 3), {cv::IMWRITE_JPEG_QUALITY, 20}));
  put("image", "grey.bmp", encoded(".bmp", grey));
  put("image", "colour.bmp", encoded(".bmp", colour));
  put("image", "lossy.webp", encoded(".webp", colour, {cv::IMWRITE_WEBP_QUALITY, 50}));
  put("image", "lossless.webp", encoded(".webp", colour, {cv::IMWRITE_WEBP_QUALITY, 101}));
  put("image", "alpha.webp", encoded(".webp", digits_picture(40, 24, 4, 4), {cv::IMWRITE_WEBP_QUALITY, 101}));
  put("image", "lzw.tif", encoded(".tif", grey));
  put("image", "raw.tif", encoded(".tif", colour, {cv::IMWRITE_TIFF_COMPRESSION, 1}));
  put("image", "grey.pgm", encoded(".pgm", grey));
  put("image", "colour.ppm", encoded(".ppm", colour));
  put("image", "ascii.pgm", encoded(".pgm", digits_picture(12, 9, 1, 5), {cv::IMWRITE_PXM_BINARY, 0}));
}

ImageRecord record(bool classified) {
  ImageRecord r;
  r.image = "scan-1.png";
  r.width = 120;
  r.height = 40;
  for (int i = 0; i < 2; ++i) {
    DigitRecord d;
    d.box = {10 + 30 * i, 5, 20, 30};
    d.line = i;
    d.pixels = test::random_crop(static_cast<unsigned>(i + 1));
    if (classified) {
      d.digit = 4 - 2 * i;
      d.probability = 0.9731;
      d.alternatives = {{4 - 2 * i, 0.9731}, {9, 0.02}, {1, 0.0069}};
      d.uncertain = i == 1;
    }
    r.digits.push_back(d);
  }
  if (classified) r.text = record_text(r.digits);
  return r;
}

void records_seeds() {
  const std::string segmented = to_json_line(record(false)), classified = to_json_line(record(true));
  ImageRecord failed;
  failed.image = "broken.jpg";
  failed.error = "cannot decode jpeg image (corrupt or truncated)";
  put("records", "segmented.jsonl", segmented);
  put("records", "classified.jsonl", classified);
  put("records", "error.jsonl", to_json_line(failed));
  put("records", "empty.jsonl", R"({"image":"blank.png","width":64,"height":64,"digits":[]})");
  put("records", "stream.jsonl", segmented + "\n" + to_json_line(failed) + "\n" + classified + "\n");
}

void idx_seeds() {
  IdxImages images;
  images.rows = 4;
  images.cols = 3;
  for (int i = 0; i < 3 * 4 * 3; ++i) images.pixels.push_back(static_cast<std::uint8_t>(i * 7));
  IdxLabels labels;
  labels.labels = {7, 2, 1};
  put("idx", "images.idx3", encode_idx(images));
  put("idx", "labels.idx1", encode_idx(labels));
  put("idx", "images.idx3.gz", gzip(encode_idx(images)));
  put("idx", "labels.idx1.gz", gzip(encode_idx(labels)));
}

void model_seeds() {
  put("model", "small.model", encode_model(test::random_model(1, 2, 3, 8)));
  put("model", "padded.model", encode_model(test::random_model(2, 2, 2, 6, 2)));
  // Eleven outputs: the tenth is "not one digit".
  Model eleven = test::random_model(3, 1, 2, 4);
  Layer& last = eleven.layers[eleven.layers.size() - 2];
  last.outputs = 11;
  last.weights.resize(std::size_t(last.inputs) * 11, 0.1f);
  last.bias.resize(11, 0.0f);
  put("model", "eleven.model", encode_model(eleven));
}

void http_seeds() {
  const auto request = [](std::string_view method, std::string_view path, std::string_view query,
                          std::string_view type, std::string_view body) {
    return std::string(method) + "\n" + std::string(path) + "\n" + std::string(query) + "\n" + std::string(type) + "\n" +
           std::string(body);
  };
  const std::string png = encoded(".png", digits_picture(64, 40, 1, 6), {cv::IMWRITE_PNG_COMPRESSION, 9});
  const std::string jpeg = encoded(".jpg", digits_picture(64, 40, 3, 7), {cv::IMWRITE_JPEG_QUALITY, 40});
  const std::string drawing = encoded(".png", digits_picture(48, 32, 4, 8), {cv::IMWRITE_PNG_COMPRESSION, 9});
  put("http", "upload.http", request("POST", "/api/digit_recognize", "", "image/png", png));
  put("http", "alternatives.http",
      request("POST", "/api/digit_recognize", "alternatives=3&min_probability=0.5", "image/jpeg", jpeg));
  put("http", "multipart.http", request("POST", "/api/digit_recognize", "", "multipart/form-data; boundary=x", drawing));
  put("http", "octet.http", request("POST", "/api/digit_recognize", "alternatives=10", "application/octet-stream", png));
  put("http", "no-file.http", request("POST", "/api/digit_recognize", "", "text/plain", "hello"));
  put("http", "wrong-method.http", request("GET", "/api/digit_recognize", "", "", ""));
  put("http", "page.http", request("GET", "/", "", "", ""));
  put("http", "health.http", request("HEAD", "/healthz", "", "", ""));
  put("http", "model.http", request("GET", "/api/model", "", "", ""));
  put("http", "missing.http", request("GET", "/nothing", "", "", ""));
  for (const auto& asset : web_assets()) {
    put("http", "asset-" + fs::path(std::string(asset.path)).filename().string() + ".http",
        request("GET", asset.path, "", "", ""));
    break;  // one is enough: they all take the same way
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: digits-fuzz-seeds OUT\n");
    return 2;
  }
  out_dir = argv[1];
  png_seeds();
  image_seeds();
  records_seeds();
  idx_seeds();
  model_seeds();
  http_seeds();
  return 0;
}
