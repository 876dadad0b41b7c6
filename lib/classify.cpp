#include "classify.hpp"

#include "error.hpp"
#include "parallel.hpp"
#include "system.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
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

// Digits from most to least probable.
std::array<int, 10> ranked(const Probabilities& p) {
  std::array<int, 10> order{};
  std::iota(order.begin(), order.end(), 0);
  std::ranges::stable_sort(order, [&](int a, int b) { return p[a] > p[b]; });
  return order;
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
      const auto& probabilities = r.digits[i - begin];
      const float sure = r.one_digit[i - begin];
      const auto order = ranked(probabilities);
      SamplePrediction& s = out[i];
      s.digit = order[0];
      s.probability = probabilities[order[0]] * sure;
      for (std::size_t k = 0; k < keep; ++k) s.alternatives.push_back({order[k], probabilities[order[k]] * sure});
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
    const Probabilities& p = r.digits[i];
    const float sure = r.one_digit[i];
    const auto order = ranked(p);
    DigitRecord& d = record.digits[i];
    d.digit = order[0];
    d.probability = p[order[0]] * sure;
    d.alternatives.clear();
    for (std::size_t k = 0; k < keep; ++k) d.alternatives.push_back({order[k], p[order[k]] * sure});
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

std::filesystem::path default_model_path() {
  constexpr const char* shipped = "digits-cnn.model";
  if (const char* env = std::getenv("DIGITS_MODEL"); env != nullptr && *env != '\0') {
    if (!std::filesystem::is_regular_file(env)) throw Error(fmt::format("DIGITS_MODEL={}: no such model file", env));
    return env;
  }
  std::vector<std::filesystem::path> candidates;
  if (const auto exe = executable_path(); !exe.empty()) {
    const auto bin = exe.parent_path();
    candidates.push_back(bin.parent_path() / "share" / "digits" / "models" / shipped);  // installed: PREFIX/bin
    candidates.push_back(bin.parent_path().parent_path() / "models" / shipped);        // build tree: build/bin
  }
  candidates.push_back(std::filesystem::path(DIGITS_INSTALL_DATADIR) / "models" / shipped);
  candidates.push_back(std::filesystem::path(DIGITS_SOURCE_DIR) / "models" / shipped);
  for (const auto& c : candidates)
    if (std::filesystem::is_regular_file(c)) return c;
  std::vector<std::string> where;
  for (const auto& c : candidates) where.push_back(c.string());
  throw Error(fmt::format("no model found (looked for {}); train one with `make model` or pass --model PATH",
                          fmt::join(where, ", ")));
}

}  // namespace digits
