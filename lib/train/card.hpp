#pragma once
// The model card: how a model was made and how well it does, as JSON beside the model
// (models/NAME.json) and as a picture for people who would rather look (models/NAME.png).

#include "recognise/evaluate.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace digits {

struct EpochRecord {
  int epoch = 0;
  double loss = 0;           // mean training loss over the epoch
  double val_accuracy = 0;   // on the held-out validation split
  double seconds = 0;        // wall time of the epoch
  double learning_rate = 0;
  nlohmann::ordered_json to_json() const;
};

// Learning curves (loss and validation accuracy per epoch) beside the confusion matrix as a heat map.
cv::Mat draw_card(const std::vector<EpochRecord>& history, const Evaluation& test, const std::string& title);

// Both written atomically.
void write_card_json(const std::filesystem::path& path, const nlohmann::ordered_json& card);
void write_card_png(const std::filesystem::path& path, const cv::Mat& picture);

}  // namespace digits
