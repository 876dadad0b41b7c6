#pragma once
// A training job end to end, as digits-train runs it: load the data, train, score the best
// epoch on the test set, and write the model, its card (JSON) and its picture (PNG).

#include "recognise/evaluate.hpp"
#include "train/network.hpp"

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace digits {

struct TrainingJob {
  std::filesystem::path data = "data/mnist";
  std::filesystem::path out = "models/digits-cnn";  // writes OUT.model, OUT.json, OUT.png
  std::string command_line;                          // recorded in the card
  TrainOptions options;
};

struct TrainingOutcome {
  TrainResult result;
  Evaluation test;
  nlohmann::ordered_json card;
  std::filesystem::path model_path, card_path, picture_path;
};

TrainingOutcome run_training(const TrainingJob& job);

// The files a model called `out` is made of.
std::filesystem::path model_file(const std::filesystem::path& out);
std::filesystem::path card_file(const std::filesystem::path& out);
std::filesystem::path picture_file(const std::filesystem::path& out);

// Re-scores an existing model file on the test split of `data`.
nlohmann::ordered_json evaluate_model_file(const std::filesystem::path& model, const std::filesystem::path& data,
                                           unsigned jobs);

}  // namespace digits
