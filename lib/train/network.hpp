#pragma once
// Training a digit network on an MNIST-style data set. The trainer is tiny-dnn, kept behind
// this interface (in network.cpp) so nothing else pays its compile time or sees its types.

#include "io/dataset.hpp"
#include "io/records.hpp"
#include "recognise/model.hpp"
#include "train/augment.hpp"
#include "train/card.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace digits {

// conv5x5 x conv1 - relu - pool2 - conv5x5 x conv2 - relu - pool2 - dense x hidden - relu - dense 10 or 11 - softmax.
// Only 5x5 convolutions: they are the ones tiny-dnn has fast kernels for.
struct Architecture {
  std::string name;
  int conv1 = 0, conv2 = 0, hidden = 0;
  int pad = 0;       // 0: valid convolutions (28-24-12-8-4), 2: same (28-28-14-14-7)
  int outputs = 10;  // 11: the digits and "not one digit" (see TrainOptions::not_digits)
  std::string summary() const;
};

const std::vector<Architecture>& architectures();
// Throws UsageError listing the known names.
const Architecture& find_architecture(const std::string& name);

struct TrainOptions {
  std::string architecture = "cnn-24-48-128";
  int epochs = 12;
  int batch = 64;
  std::uint64_t seed = 1;
  unsigned threads = 0;              // 0: all cores; the model depends on it (batch split)
  std::size_t subset = 0;            // train on the first N training samples only (0: all)
  std::size_t validation = 5000;     // held out from the end of the training set
  double learning_rate = 0.002;      // Adam's step at epoch 1, decayed along a cosine to 3%
  double weight_decay = 1e-4;
  bool augment = true;
  AugmentOptions augmentation;
  // Samples that are not one digit (two touching digits, a digit with part of its neighbour), as
  // a share of the training digits, taught as an 11th output. They let segmentation ask the
  // network whether a candidate is one digit at all; 0 trains the 10 digits alone.
  double not_digits = 0.2;
  // Parts of composed touching pairs cut where segmentation would cut them (cut_samples.hpp),
  // as a share of the training digits: each the digit whose ink it is, or not one digit (none
  // when not_digits is 0: the network has no such output). 0.4, not 0.2, since segmentation
  // softens the judge's readings (reading_score): together they part touching pairs best.
  double cut_parts = 0.4;
  // Whose weights are kept: the last epoch's (the learning rate has decayed to 3% by then; the
  // validation accuracy, over digits only and blind to the not-one-digit output segmentation asks
  // about, swings by a tenth of a point from epoch to epoch), or the best validation epoch's.
  enum class Keep { last, best };
  Keep keep = Keep::last;
  // Called from the training thread. `loss` is the running mean loss of the epoch.
  std::function<void(int epoch, std::size_t done, std::size_t total, double loss)> on_batch;
  std::function<void(const EpochRecord&)> on_epoch;
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to stop after the current batch
};

struct TrainResult {
  Model model;                      // the weights of the kept epoch (TrainOptions::keep)
  std::vector<EpochRecord> history;
  int kept_epoch = 0;               // the epoch whose weights `model` holds
  double kept_val_accuracy = 0;
  double seconds = 0;
  bool interrupted = false;
  int recoveries = 0;               // times a non-finite loss made it restore weights and slow down
  std::size_t samples = 0;          // training samples used (after --subset), validation included
  std::size_t validation_samples = 0;
};

TrainResult train(const Dataset& data, const TrainOptions& options);

// The options' architecture with the outputs they train.
Architecture trained_architecture(const TrainOptions& options);

// The network a Model describes, run by tiny-dnn itself: the yardstick our inference is held to.
std::vector<std::array<float, 10>> tiny_dnn_probabilities(const Model& model, std::span<const Crop> crops);

}  // namespace digits
