#pragma once
// Running a trained Model on 28x28 crops. The forward pass is OpenCV's DNN module, built
// layer by layer from our weights: its SIMD kernels beat tiny-dnn's forward several times over.

#include "io/records.hpp"
#include "recognise/model.hpp"
#include "segment/judge.hpp"

#include <array>
#include <memory>
#include <span>

namespace digits {

// Whether a Recogniser looks up the crops it read lately before reading them again: segmenting
// judges the crops that classifying then reads, but a data set's crops come once each.
enum class Recall { recent, none };

// Not thread-safe (the network keeps per-call state): give each thread its own.
// Creating one takes a millisecond or so; reuse it for every crop of that thread.
class Recogniser final : public Judge {
 public:
  explicit Recogniser(const Model& model, Recall recall = Recall::recent);
  Recogniser(Recogniser&&) noexcept;
  Recogniser& operator=(Recogniser&&) noexcept;
  ~Recogniser();

  // out.size() must equal crops.size(); crops are run in batches. The digits' probabilities
  // given that the crop is a digit. When `not_digit` is not empty (and as long as `out`) it
  // receives each crop's probability of not being one digit: 0 for a model without that output.
  void probabilities(std::span<const Crop> crops, std::span<Probabilities> out, std::span<float> not_digit = {}) override;
  Probabilities probabilities(const Crop& crop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace digits
