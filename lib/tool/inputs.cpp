#include "tool/inputs.hpp"

#include "base/error.hpp"
#include "io/image.hpp"

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include <iostream>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string_view>

namespace digits {

std::string read_input(const std::string& path, std::int64_t max_pixels) {
  if (path == "-") {
    const std::size_t limit = max_image_bytes(max_pixels);
    std::string bytes;
    std::array<char, 1 << 16> chunk{};
    while (std::cin.read(chunk.data(), chunk.size()) || std::cin.gcount() > 0) {
      bytes.append(chunk.data(), static_cast<std::size_t>(std::cin.gcount()));
      if (bytes.size() > limit) throw TooLarge("standard input is larger than any image within the pixel limit");
    }
    return bytes;
  }
  try {
    return read_image_file(path, max_pixels);
  } catch (const TooLarge&) {
    throw;
  } catch (const Error& e) {
    throw Error(without_path(e.what(), path));
  }
}

bool has_image_extension(const std::string& name) {
  static constexpr std::array<std::string_view, 11> known{".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff",
                                                          ".webp", ".pgm", ".pbm", ".ppm", ".pnm"};
  std::string ext = std::filesystem::path(name).extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::ranges::find(known, ext) != known.end();
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, bool recursive) {
  std::vector<std::string> inputs;
  for (const auto& argument : arguments) {
    std::error_code ec;
    if (argument == "-" || !std::filesystem::is_directory(argument, ec)) {
      inputs.push_back(argument);
      continue;
    }
    std::vector<std::string> found;
    const auto consider = [&](const std::filesystem::directory_entry& e) {
      if (e.is_regular_file(ec) && has_image_extension(e.path().filename().string())) found.push_back(e.path().string());
    };
    if (recursive) {
      for (auto it = std::filesystem::recursive_directory_iterator(argument, ec); !ec && it != std::filesystem::end(it); it.increment(ec))
        consider(*it);
    } else {
      for (auto it = std::filesystem::directory_iterator(argument, ec); !ec && it != std::filesystem::end(it); it.increment(ec))
        consider(*it);
    }
    std::ranges::sort(found);
    inputs.insert(inputs.end(), found.begin(), found.end());
  }
  return inputs;
}

ImageRecord record_for_input(const std::string& input, const std::function<ImageRecord()>& work) {
  ImageRecord failed;
  failed.image = input;
  try {
    return work();
  } catch (const Error& e) {
    failed.error = without_path(e.what(), input);
  } catch (const cv::Exception& e) {
    failed.error = fmt::format("image processing failed: {}", e.err);
  }
  return failed;
}

std::string without_path(const std::string& message, const std::string& path) {
  for (const std::string& prefix : {path + ": ", "cannot read " + path + ": "})
    if (message.starts_with(prefix)) return message.substr(prefix.size());
  return message;
}

}  // namespace digits
