#include "io/dataset.hpp"

#include "base/error.hpp"

#include <fmt/format.h>

namespace digits {

void check_split(const Split& split, std::string_view what) {
  if (split.images.count() != split.labels.count())
    throw Error(fmt::format("{}: {} images but {} labels", what, split.images.count(), split.labels.count()));
}

Dataset load_dataset(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw Error(fmt::format("{}: no such data set directory (run digits-fetch first)", dir.string()));
  const auto path = [&](std::size_t i) { return dir / mnist_files[i].name; };
  Dataset d{{read_idx_images(path(0)), read_idx_labels(path(1))}, {read_idx_images(path(2)), read_idx_labels(path(3))}};
  check_split(d.train, (dir / "train-*").string());
  check_split(d.test, (dir / "t10k-*").string());
  return d;
}

}  // namespace digits
