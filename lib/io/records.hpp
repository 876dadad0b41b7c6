#pragma once
// The JSON Lines contract between digits-segment, digits-classify and digits-serve
// (docs/FORMATS.md is its statement; this is its only implementation).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace digits {

inline constexpr int crop_side = 28;
inline constexpr std::size_t crop_pixels = crop_side * crop_side;
using Crop = std::array<std::uint8_t, crop_pixels>;  // row-major, white digit on black, MNIST-normalised

struct Box {
  int x = 0, y = 0, w = 0, h = 0;
  friend bool operator==(const Box&, const Box&) = default;
};

struct Alternative {
  int digit = 0;
  double probability = 0;
  friend bool operator==(const Alternative&, const Alternative&) = default;
};

struct DigitRecord {
  Box box;
  int line = 0;
  Crop pixels{};
  // Filled in by classification:
  std::optional<int> digit;
  std::optional<double> probability;
  std::vector<Alternative> alternatives;
  bool uncertain = false;
  friend bool operator==(const DigitRecord&, const DigitRecord&) = default;
};

// One line of the stream: one input image and every digit found in it, in reading order.
struct ImageRecord {
  std::string image;
  int width = 0, height = 0;
  std::vector<DigitRecord> digits;
  std::optional<std::string> text;   // classification: record_text(digits)
  std::optional<std::string> error;  // set instead of the rest when the image could not be processed
  friend bool operator==(const ImageRecord&, const ImageRecord&) = default;
};

// A classified record's text: its digits in reading order, '?' for an uncertain one, the text
// lines joined by a single "\n" (none at the end). A new line starts wherever a digit's `line`
// differs from the one before it, so the lines of the answer are the segmenter's lines.
std::string record_text(const std::vector<DigitRecord>& digits);

// Whether a record's JSON carries each digit's 28x28 crop: a segment record must (classification
// reads it); a classified one needs it only to be looked at or classified again, and it is most of
// the line's bytes.
enum class Pixels { keep, drop };

// Probabilities are written to 4 decimals: more is noise, and it keeps lines short.
double round_probability(double p);

// [x, y, w, h]
nlohmann::ordered_json box_json(const Box& box);

// [{"digit":d,"probability":p}, ...] for at most `most` alternatives.
nlohmann::ordered_json alternatives_json(const std::vector<Alternative>& alternatives, std::size_t most);

nlohmann::ordered_json to_json(const ImageRecord& record, Pixels pixels = Pixels::keep);
ImageRecord image_record_from_json(const nlohmann::ordered_json& json);  // throws Error naming the bad field

std::string to_json_line(const ImageRecord& record, Pixels pixels = Pixels::keep);  // no trailing newline
ImageRecord parse_image_record(std::string_view line);  // throws Error on bad JSON or fields (the crops included)

}  // namespace digits
