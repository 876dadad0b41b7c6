#pragma once
// An MNIST-style data set on disk: the four IDX files under one directory, and MNIST's checksums.

#include "io/idx.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace digits {

struct DatasetFile {
  std::string_view name;    // file name under the data set's directory
  std::string_view sha256;  // of the decompressed file, for MNIST
};

// In the order train images, train labels, test images, test labels.
inline constexpr std::array<DatasetFile, 4> mnist_files{{
    {"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}};

struct Split {
  IdxImages images;
  IdxLabels labels;
  std::size_t count() const { return labels.count(); }
};

struct Dataset {
  Split train;
  Split test;
};

// Loads the four files from `dir`; images and labels of a split must agree in count.
Dataset load_dataset(const std::filesystem::path& dir);

// Throws Error when a split's images and labels disagree in count.
void check_split(const Split& split, std::string_view what);

}  // namespace digits
