#pragma once
// Training samples made the way segmentation makes its candidates: two training digits written
// touching or overlapping, cut where read_line would cut them (candidate_seams), and one part
// labelled by whose ink it holds. The judge then learns the parts it is actually asked about: a
// digit carrying a sliver of its neighbour is that digit, a digit missing a stroke given to its
// neighbour (or holding one of the neighbour's) is not one digit.

#include "io/records.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <span>

namespace digits {

struct CutSample {
  Crop crop{};
  int label = 0;  // a digit, or not_digit_class
};

// `a` and `b`: 28x28 MNIST digits (white on black) labelled `label_a` and `label_b`, `a` on the
// left. None when the pair gave no seam or the chosen part is neither clearly one digit nor
// clearly not one (most of one digit with a little of the other). Deterministic for `rng`.
std::optional<CutSample> cut_sample(std::span<const std::uint8_t> a, int label_a, std::span<const std::uint8_t> b,
                                    int label_b, std::mt19937& rng);

}  // namespace digits
