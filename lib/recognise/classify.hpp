#pragma once
// Reading digits: turning segmented crops into digits with probabilities, for a record or an
// image. digits-classify and digits-serve both go through these functions and nothing else.

#include "io/idx.hpp"
#include "io/records.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"
#include "segment/segment.hpp"

#include <filesystem>
#include <string_view>

namespace digits {

struct ClassifyOptions {
  int alternatives = 3;          // how many most probable digits each digit lists
  double min_probability = 0.0;  // below it a digit is marked uncertain ('?' in the text)
};

// Adds digit, probability, alternatives and uncertain to every digit of `record`, and its text
// (record_text: the lines joined by "\n").
void classify_record(ImageRecord& record, Recogniser& recogniser, const ClassifyOptions& options);

// Decodes, segments and classifies one image. Throws Error (not naming the input) when it cannot.
ImageRecord recognise_bytes(std::string_view bytes, Recogniser& recogniser, const SegmentOptions& segment,
                            const ClassifyOptions& classify);

// One prediction per IDX sample, in order, on `jobs` threads (0: all cores).
struct SamplePrediction {
  int digit = 0;
  float probability = 0;
  std::vector<Alternative> alternatives;
};
std::vector<SamplePrediction> classify_idx(const Model& model, const IdxImages& images, int alternatives, unsigned jobs);

}  // namespace digits
