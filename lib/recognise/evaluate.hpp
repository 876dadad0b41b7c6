#pragma once
// Scoring a model against labelled digits: accuracy, the 10x10 confusion matrix, the worst mix-ups.

#include "io/dataset.hpp"
#include "recognise/model.hpp"

#include <array>
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace digits {

struct ConfusedPair {
  int truth = 0;
  int predicted = 0;
  std::size_t count = 0;
};

struct Evaluation {
  std::array<std::array<std::size_t, 10>, 10> confusion{};  // [truth][predicted]

  void add(int truth, int predicted) { ++confusion.at(truth).at(predicted); }
  std::size_t total() const;
  std::size_t correct() const;
  double accuracy() const;
  // Off-diagonal cells, largest first (ties: smaller truth, then smaller prediction).
  std::vector<ConfusedPair> most_confused(std::size_t n) const;
  nlohmann::ordered_json to_json(std::size_t pairs = 10) const;
};

// Runs `model` on every image of `split` on `jobs` threads (0: all cores). The split must pass
// check_digit_split; `what` names it in the error when it does not.
Evaluation evaluate(const Model& model, const Split& split, unsigned jobs = 0, std::string_view what = "evaluation set");

// Throws Error unless the split's images and labels agree in count, every image is 28x28 and
// every label 0-9 (what the network can learn).
void check_digit_split(const Split& split, std::string_view what);

}  // namespace digits
