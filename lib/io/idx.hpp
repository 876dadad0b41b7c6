#pragma once
// The IDX format of MNIST-style data sets: idx3 unsigned-byte images, idx1 unsigned-byte labels,
// raw or gzip-compressed. Strict: every defect is an Error saying which file and what is wrong.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace digits {

// The largest IDX file read, after decompression: 5x MNIST's training images (47 MB), room for
// EMNIST's digits (220 MB). A forged .gz (1 MB inflating to 1 GiB) stops here, so reading any
// data set stays under about 300 MB of memory a file.
inline constexpr std::size_t max_idx_bytes = std::size_t{256} << 20;

struct IdxImages {
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, row-major, one image after another

  std::size_t count() const { return rows * cols == 0 ? 0 : pixels.size() / (std::size_t{rows} * cols); }
  std::span<const std::uint8_t> image(std::size_t i) const {
    const std::size_t n = std::size_t{rows} * cols;
    return {pixels.data() + i * n, n};
  }
};

struct IdxLabels {
  std::vector<std::uint8_t> labels;
  std::size_t count() const { return labels.size(); }
};

// `name` is what error messages call the data (usually the file name).
// Gzip-compressed bytes are decompressed first.
IdxImages parse_idx_images(std::string_view bytes, std::string_view name);
IdxLabels parse_idx_labels(std::string_view bytes, std::string_view name);

IdxImages read_idx_images(const std::filesystem::path& path);
IdxLabels read_idx_labels(const std::filesystem::path& path);

std::string encode_idx(const IdxImages& images);
std::string encode_idx(const IdxLabels& labels);

// Atomic; gzip-compressed when the path ends in ".gz".
void write_idx(const std::filesystem::path& path, const IdxImages& images);
void write_idx(const std::filesystem::path& path, const IdxLabels& labels);

}  // namespace digits
