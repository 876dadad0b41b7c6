#pragma once
// The library in one object: load a model once, then read the digits in pictures given as bytes or
// files. What digits-classify does for one image, for a program that links digits (see lib/digits.hpp).

#include "io/records.hpp"
#include "segment/options.hpp"

#include <filesystem>
#include <memory>
#include <string_view>

namespace digits {

struct ReaderOptions {
  SegmentOptions segment;        // ink polarity, the pixel limit, the working size
  int alternatives = 3;          // how many most probable digits each digit lists
  double min_probability = 0.0;  // below it a digit is marked uncertain ('?' in the text)
};

// Not thread-safe (its network keeps per-call state): give each thread its own Reader.
class Reader {
 public:
  // Loads the model at `model`; an empty path means the shipped one (default_model_path()).
  // Throws Error when there is none or it is not a valid model file.
  explicit Reader(const std::filesystem::path& model = {}, ReaderOptions options = {});
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  // Finds the digits of a picture (PNG, JPEG, BMP, WebP, TIFF, PNM bytes): boxes, lines and 28x28
  // crops, in reading order, not yet read. The record's `image` is left empty for the caller.
  ImageRecord segment(std::string_view bytes);
  // Finds and reads them: each digit with its probability and alternatives, and the text.
  ImageRecord read(std::string_view bytes);
  // As read(), for a file; the record's `image` is its path. Files larger than any picture within
  // the pixel limit are refused before they are read.
  ImageRecord read_file(const std::filesystem::path& image);
  // Reads the crops of a segment record (digits-segment's output, or segment()'s).
  void classify(ImageRecord& record);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace digits
