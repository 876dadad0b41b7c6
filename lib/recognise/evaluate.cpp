#include "recognise/evaluate.hpp"

#include "base/error.hpp"
#include "recognise/classify.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace digits {

std::size_t Evaluation::total() const {
  std::size_t n = 0;
  for (const auto& row : confusion)
    for (const auto c : row) n += c;
  return n;
}

std::size_t Evaluation::correct() const {
  std::size_t n = 0;
  for (int d = 0; d < 10; ++d) n += confusion[d][d];
  return n;
}

double Evaluation::accuracy() const { return total() == 0 ? 0.0 : double(correct()) / double(total()); }

std::vector<ConfusedPair> Evaluation::most_confused(std::size_t n) const {
  std::vector<ConfusedPair> pairs;
  for (int t = 0; t < 10; ++t)
    for (int p = 0; p < 10; ++p)
      if (t != p && confusion[t][p] > 0) pairs.push_back({t, p, confusion[t][p]});
  std::ranges::stable_sort(pairs, [](const ConfusedPair& a, const ConfusedPair& b) { return a.count > b.count; });
  if (pairs.size() > n) pairs.resize(n);
  return pairs;
}

nlohmann::ordered_json Evaluation::to_json(std::size_t pairs) const {
  nlohmann::ordered_json confused = nlohmann::ordered_json::array();
  for (const auto& p : most_confused(pairs))
    confused.push_back({{"truth", p.truth}, {"predicted", p.predicted}, {"count", p.count}});
  return {{"samples", total()},
          {"correct", correct()},
          {"accuracy", double(correct()) / double(std::max<std::size_t>(total(), 1))},
          {"confusion", confusion},
          {"most_confused", std::move(confused)}};
}

void check_digit_split(const Split& split, std::string_view what) {
  check_split(split, what);
  if (split.images.rows != crop_side || split.images.cols != crop_side)
    throw Error(fmt::format("{}: images are {}x{}; the network reads 28x28", what, split.images.rows, split.images.cols));
  if (const auto bad = std::ranges::find_if(split.labels.labels, [](std::uint8_t l) { return l > 9; });
      bad != split.labels.labels.end())
    throw Error(fmt::format("{}: label {} is not a digit 0-9", what, int(*bad)));
}

Evaluation evaluate(const Model& model, const Split& split, unsigned jobs, std::string_view what) {
  check_digit_split(split, what);
  const auto predictions = classify_idx(model, split.images, 1, jobs);
  Evaluation total;
  for (std::size_t i = 0; i < predictions.size(); ++i) total.add(split.labels.labels[i], predictions[i].digit);
  return total;
}

}  // namespace digits
