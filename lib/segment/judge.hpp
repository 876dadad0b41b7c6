#pragma once
// What segmentation asks of a classifier, and nothing more: how surely each candidate crop is each
// digit, and whether it is one digit at all. Where the ink alone cannot tell where one digit ends
// and the next begins, segmentation reads the candidates through a Judge; recognise/inference.hpp's
// Recogniser is the one digits uses, and a test may give its own.

#include "io/records.hpp"

#include <array>
#include <span>

namespace digits {

using Probabilities = std::array<float, 10>;

class Judge {
 public:
  Judge() = default;
  Judge(const Judge&) = default;
  Judge& operator=(const Judge&) = default;
  Judge(Judge&&) = default;
  Judge& operator=(Judge&&) = default;
  virtual ~Judge() = default;

  // out.size() must equal crops.size(): each crop's digits' probabilities, given that it is a
  // digit. When `not_digit` is not empty (and as long as `out`) it receives each crop's probability
  // of not being one digit: 0 from a judge that cannot tell.
  virtual void probabilities(std::span<const Crop> crops, std::span<Probabilities> out, std::span<float> not_digit) = 0;
};

}  // namespace digits
