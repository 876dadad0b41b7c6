// The IDX readers (lib/idx.hpp), raw or gzip-compressed: a file reads as images, as labels, or
// throws digits::Error. What reads encodes back to the same bytes (once decompressed).

#include "fuzz.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "io/idx.hpp"

#include <string>

using namespace digits;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::bytes_of(data, size);
  const auto plain = [&] { return is_gzip(bytes) ? gunzip(bytes, "fuzz", max_idx_bytes) : std::string(bytes); };
  try {
    const IdxImages images = parse_idx_images(bytes, "fuzz");
    FUZZ_CHECK(images.rows > 0 && images.cols > 0 && images.count() > 0);
    FUZZ_CHECK(images.count() * images.rows * images.cols == images.pixels.size());
    FUZZ_CHECK(images.image(images.count() - 1).size() == std::size_t{images.rows} * images.cols);
    FUZZ_CHECK(encode_idx(images) == plain());
  } catch (const Error&) {
  }
  try {
    const IdxLabels labels = parse_idx_labels(bytes, "fuzz");
    FUZZ_CHECK(labels.count() > 0);
    FUZZ_CHECK(encode_idx(labels) == plain());
  } catch (const Error&) {
  }
  return 0;
}
