#include "recognise/classify.hpp"

#include "base/error.hpp"
#include "base/parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace digits {

namespace {
// The digits' own probabilities (given that the crop is a digit), and the chance that the crop
// is one digit at all (1 for a 10-output model). Reported probabilities are their product, so two
// touching digits or a stray mark read as a digit come out doubtful, not confident; the ranking
// uses the digits' own, which stay ordered even when the product underflows to 0.
struct Readings {
  std::vector<Probabilities> digits;
  std::vector<float> one_digit;
};

Readings read_digits(Recogniser& recogniser, std::span<const Crop> crops) {
  Readings r{std::vector<Probabilities>(crops.size()), std::vector<float>(crops.size())};
  recogniser.probabilities(crops, r.digits, r.one_digit);
  for (auto& v : r.one_digit) v = 1.0f - v;
  return r;
}

// One crop's reading: the digits from most to least probable (by the digits' own probabilities),
// each reported as its probability times the chance that the crop is one digit; `keep` of them.
struct Ranked {
  int digit = 0;
  float probability = 0;
  std::vector<Alternative> alternatives;
};

Ranked ranked(const Probabilities& p, float sure, std::size_t keep) {
  std::array<int, 10> order{};
  std::iota(order.begin(), order.end(), 0);
  std::ranges::stable_sort(order, [&](int a, int b) { return p[a] > p[b]; });
  Ranked r{order[0], p[order[0]] * sure, {}};
  for (std::size_t k = 0; k < keep; ++k) r.alternatives.push_back({order[k], p[order[k]] * sure});
  return r;
}
}  // namespace

std::vector<SamplePrediction> classify_idx(const Model& model, const IdxImages& images, int alternatives, unsigned jobs) {
  if (images.rows != crop_side || images.cols != crop_side)
    throw Error(fmt::format("IDX images are {}x{}; the model reads 28x28", images.rows, images.cols));
  const auto keep = static_cast<std::size_t>(std::clamp(alternatives, 1, 10));
  std::vector<SamplePrediction> out(images.count());
  parallel_slices(images.count(), worker_count(jobs), [&](std::size_t begin, std::size_t end, unsigned) {
    Recogniser recogniser(model, Recall::none);
    std::vector<Crop> crops(end - begin);
    for (std::size_t i = begin; i < end; ++i) std::ranges::copy(images.image(i), crops[i - begin].begin());
    const auto r = read_digits(recogniser, crops);
    for (std::size_t i = begin; i < end; ++i) {
      Ranked reading = ranked(r.digits[i - begin], r.one_digit[i - begin], keep);
      out[i] = {reading.digit, reading.probability, std::move(reading.alternatives)};
    }
  });
  return out;
}

void classify_record(ImageRecord& record, Recogniser& recogniser, const ClassifyOptions& options) {
  if (record.error) return;
  std::vector<Crop> crops;
  crops.reserve(record.digits.size());
  for (const auto& d : record.digits) crops.push_back(d.pixels);
  const auto r = read_digits(recogniser, crops);

  const auto keep = static_cast<std::size_t>(std::clamp(options.alternatives, 1, 10));
  for (std::size_t i = 0; i < record.digits.size(); ++i) {
    Ranked reading = ranked(r.digits[i], r.one_digit[i], keep);
    DigitRecord& d = record.digits[i];
    d.digit = reading.digit;
    d.probability = reading.probability;
    d.alternatives = std::move(reading.alternatives);
    d.uncertain = *d.probability < options.min_probability;
  }
  record.text = record_text(record.digits);
}

ImageRecord recognise_bytes(std::string_view bytes, Recogniser& recogniser, const SegmentOptions& segment,
                            const ClassifyOptions& classify) {
  ImageRecord record = segment_bytes(bytes, segment, &recogniser);
  classify_record(record, recogniser, classify);
  return record;
}

}  // namespace digits
