#include "train/card.hpp"

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/numbers.hpp"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace digits {

nlohmann::ordered_json EpochRecord::to_json() const {
  return {{"epoch", epoch},
          {"loss", rounded(loss, 1e5)},
          {"val_accuracy", rounded(val_accuracy, 1e5)},
          {"seconds", rounded(seconds, 10)},
          {"learning_rate", learning_rate}};
}

namespace {

const cv::Scalar black{0, 0, 0}, grey{150, 150, 150}, light{225, 225, 225}, blue{200, 90, 30}, orange{20, 120, 240};
constexpr int font = cv::FONT_HERSHEY_SIMPLEX;

void text(cv::Mat& img, const std::string& s, cv::Point at, double size = 0.45, cv::Scalar colour = black, int weight = 1) {
  cv::putText(img, s, at, font, size, colour, weight, cv::LINE_AA);
}

void text_centred(cv::Mat& img, const std::string& s, cv::Point centre, double size, cv::Scalar colour, int weight = 1) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, font, size, weight, &base);
  text(img, s, {centre.x - sz.width / 2, centre.y + sz.height / 2}, size, colour, weight);
}

// Loss (left axis, blue) and validation accuracy (right axis, orange) against epochs.
void draw_curves(cv::Mat& img, cv::Rect area, const std::vector<EpochRecord>& history) {
  text(img, "learning curves", {area.x, area.y - 12}, 0.55, black, 1);
  cv::rectangle(img, area, grey);
  if (history.empty()) {
    text_centred(img, "no epochs", {area.x + area.width / 2, area.y + area.height / 2}, 0.5, grey);
    return;
  }
  double max_loss = 0, min_acc = 1, max_acc = 0;
  for (const auto& e : history) {
    max_loss = std::max(max_loss, e.loss);
    min_acc = std::min(min_acc, e.val_accuracy);
    max_acc = std::max(max_acc, e.val_accuracy);
  }
  max_loss = max_loss > 0 ? max_loss * 1.05 : 1;
  // Accuracy axis zoomed to the range the curve uses, rounded to whole percent.
  const double acc_lo = std::floor(std::max(0.0, min_acc - 0.005) * 100) / 100;
  const double acc_hi = std::min(1.0, std::ceil((max_acc + 0.001) * 100) / 100);
  const int n = static_cast<int>(history.size());
  const auto px = [&](int i) { return area.x + (n == 1 ? area.width / 2 : i * area.width / (n - 1)); };
  const auto py_loss = [&](double v) { return area.y + area.height - static_cast<int>(v / max_loss * area.height); };
  const auto py_acc = [&](double v) {
    return area.y + area.height - static_cast<int>((v - acc_lo) / std::max(acc_hi - acc_lo, 1e-6) * area.height);
  };
  for (int k = 1; k < 4; ++k) {
    const int y = area.y + k * area.height / 4;
    cv::line(img, {area.x, y}, {area.x + area.width, y}, light);
  }
  for (int i = 0; i + 1 < n; ++i) {
    cv::line(img, {px(i), py_loss(history[i].loss)}, {px(i + 1), py_loss(history[i + 1].loss)}, blue, 2, cv::LINE_AA);
    cv::line(img, {px(i), py_acc(history[i].val_accuracy)}, {px(i + 1), py_acc(history[i + 1].val_accuracy)}, orange, 2,
             cv::LINE_AA);
  }
  for (int i = 0; i < n; ++i) {
    cv::circle(img, {px(i), py_loss(history[i].loss)}, 3, blue, cv::FILLED, cv::LINE_AA);
    cv::circle(img, {px(i), py_acc(history[i].val_accuracy)}, 3, orange, cv::FILLED, cv::LINE_AA);
  }
  text(img, fmt::format("{:.3f}", max_loss), {area.x - 48, area.y + 5}, 0.38, blue);
  text(img, "0", {area.x - 14, area.y + area.height + 4}, 0.38, blue);
  text(img, fmt::format("{:.0f}%", acc_hi * 100), {area.x + area.width + 5, area.y + 5}, 0.38, orange);
  text(img, fmt::format("{:.0f}%", acc_lo * 100), {area.x + area.width + 5, area.y + area.height + 4}, 0.38, orange);
  text(img, fmt::format("epoch 1..{}", n), {area.x + area.width / 2 - 35, area.y + area.height + 20}, 0.42, black);
  text(img, "training loss", {area.x + 8, area.y + area.height + 40}, 0.45, blue, 1);
  text(img, fmt::format("validation accuracy (best {:.2f}%)", max_acc * 100), {area.x + 130, area.y + area.height + 40},
       0.45, orange, 1);
}

// Rows are the truth, columns the prediction; colour is the share of the row, counts written in.
void draw_confusion(cv::Mat& img, cv::Rect area, const Evaluation& test) {
  const int cell = std::min(area.width, area.height) / 10;
  text(img, fmt::format("test confusion ({} of {} right, {:.2f}%)", test.correct(), test.total(), test.accuracy() * 100),
       {area.x - 20, area.y - 12}, 0.5, black);
  for (int t = 0; t < 10; ++t) {
    std::size_t row_total = 0;
    for (const auto c : test.confusion[t]) row_total += c;
    for (int p = 0; p < 10; ++p) {
      const std::size_t count = test.confusion[t][p];
      const double share = row_total == 0 ? 0.0 : double(count) / double(row_total);
      // Diagonal cells shade to blue, mistakes to red, so errors stand out even when small.
      const double strength = t == p ? share : std::min(1.0, std::sqrt(share) * 3);
      const cv::Scalar fill = t == p ? cv::Scalar(255, 255 - 155 * strength, 255 - 215 * strength)
                                     : cv::Scalar(255 - 215 * strength, 255 - 215 * strength, 255);
      const cv::Rect r(area.x + p * cell, area.y + t * cell, cell, cell);
      cv::rectangle(img, r, fill, cv::FILLED);
      cv::rectangle(img, r, light);
      if (count > 0) {
        const bool dark = t == p && strength > 0.6;
        text_centred(img, std::to_string(count), {r.x + cell / 2, r.y + cell / 2}, count >= 1000 ? 0.36 : 0.42,
                     dark ? cv::Scalar(255, 255, 255) : black);
      }
    }
    text_centred(img, std::to_string(t), {area.x - 12, area.y + t * cell + cell / 2}, 0.5, black);
    text_centred(img, std::to_string(t), {area.x + t * cell + cell / 2, area.y + 10 * cell + 12}, 0.5, black);
  }
  text(img, "predicted", {area.x + 5 * cell - 35, area.y + 10 * cell + 36}, 0.45, grey);
  text(img, "truth", {area.x - 75, area.y + 5 * cell + 5}, 0.45, grey);
}

}  // namespace

cv::Mat draw_card(const std::vector<EpochRecord>& history, const Evaluation& test, const std::string& title) {
  cv::Mat img(560, 1080, CV_8UC3, cv::Scalar(255, 255, 255));
  text(img, title, {20, 32}, 0.7, black, 2);
  draw_curves(img, {80, 90, 420, 360}, history);
  draw_confusion(img, {640, 90, 400, 400}, test);
  return img;
}

void write_card_json(const std::filesystem::path& path, const nlohmann::ordered_json& card) {
  write_file_atomic(path, card.dump(2) + "\n");
}

void write_card_png(const std::filesystem::path& path, const cv::Mat& picture) {
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", picture, png)) throw Error(fmt::format("cannot encode {} as PNG", path.string()));
  write_file_atomic(path, {reinterpret_cast<const char*>(png.data()), png.size()});
}

}  // namespace digits
