// digits-segment: find the handwritten digits in images; one JSON line per image.

#include "cli.hpp"
#include "error.hpp"
#include "files.hpp"
#include "image.hpp"
#include "overlay.hpp"
#include "records.hpp"
#include "segment.hpp"

#include <fmt/format.h>

#include <opencv2/core/utils/logger.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <set>

namespace {

const std::string program = "digits-segment";

// Compressed files are far smaller than their pixels; anything bigger than this is not a
// picture within the pixel limit, and reading it would only waste memory.
std::size_t byte_limit(std::int64_t max_pixels) {
  return static_cast<std::size_t>(std::max<std::int64_t>(64 << 20, max_pixels * 4 + (1 << 20)));
}

std::string read_input(const std::string& path, std::size_t limit) {
  if (path == "-") {
    std::string bytes;
    std::array<char, 1 << 16> chunk{};
    while (std::cin.read(chunk.data(), chunk.size()) || std::cin.gcount() > 0) {
      bytes.append(chunk.data(), static_cast<std::size_t>(std::cin.gcount()));
      if (bytes.size() > limit) throw digits::Error("standard input is larger than any image within the pixel limit");
    }
    return bytes;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw digits::Error("is a directory, not an image");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > limit) throw digits::Error("file is larger than any image within the pixel limit");
  return digits::read_file(path);
}

// Debug file names from the input's name, made unique within the run.
std::string debug_stem(const std::string& input, std::set<std::string>& used) {
  std::string stem = input == "-" ? "stdin" : std::filesystem::path(input).stem().string();
  if (stem.empty()) stem = "image";
  std::string unique = stem;
  for (int n = 2; used.contains(unique); ++n) unique = fmt::format("{}-{}", stem, n);
  used.insert(unique);
  return unique;
}

// The library's messages do not name the input; the file name alone may (read_file's do).
std::string without_path(const std::string& message, const std::string& path) {
  return message.starts_with(path + ": ") ? message.substr(path.size() + 2) : message;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Find the handwritten digits in images: one JSON line per image with every digit's box, "
               "text line and 28x28 MNIST-normalised crop, in reading order.",
               program};
  digits::cli::setup(app);
  std::vector<std::string> inputs;
  std::string invert = "auto";
  std::int64_t max_pixels = digits::default_max_pixels;
  std::string debug_dir;
  app.add_option("IMAGE", inputs, "Image files (PNG, JPEG, BMP, TIFF, WebP, PGM); - reads standard input")
      ->required();
  app.add_option("--invert", invert, "Ink polarity: auto (detect), no (dark ink on light), yes (light ink on dark)")
      ->check(CLI::IsMember({"auto", "yes", "no"}))
      ->option_text("auto|yes|no");
  app.add_option("--max-pixels", max_pixels, "Refuse images with more pixels than this (default 40000000)")
      ->check(CLI::PositiveNumber)
      ->option_text("N");
  app.add_option("--debug", debug_dir, "Write an overlay and a contact sheet of the crops per image into DIR")
      ->option_text("DIR");

  return digits::cli::run(app, argc, argv, [&] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    digits::SegmentOptions options;
    options.max_pixels = max_pixels;
    options.polarity = invert == "yes"  ? digits::Polarity::light_on_dark
                       : invert == "no" ? digits::Polarity::dark_on_light
                                        : digits::Polarity::automatic;
    if (std::ranges::count(inputs, "-") > 1) throw digits::UsageError("standard input (-) can be read only once");
    std::set<std::string> stems;
    int failures = 0;
    for (const auto& input : inputs) {
      digits::ImageRecord record;
      try {
        const cv::Mat gray = digits::decode_image(read_input(input, byte_limit(max_pixels)), max_pixels);
        record = digits::segment_image(gray, options);
        record.image = input;
        if (!debug_dir.empty()) digits::write_debug_images(debug_dir, debug_stem(input, stems), gray, record);
      } catch (const digits::Error& e) {
        record = {};
        record.image = input;
        record.error = without_path(e.what(), input);
      } catch (const cv::Exception& e) {
        record = {};
        record.image = input;
        record.error = fmt::format("image processing failed: {}", e.err);
      }
      fmt::print("{}\n", digits::to_json_line(record));
      std::fflush(stdout);
      if (record.error) {
        ++failures;
        fmt::print(stderr, "{}: error: {}: {}\n", program, input, *record.error);
      }
    }
    return failures > 0 ? digits::exit_failure : digits::exit_ok;
  });
}
