#include "train/training.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/numbers.hpp"
#include "base/parallel.hpp"
#include "base/system.hpp"
#include "base/version.hpp"
#include "io/dataset.hpp"
#include "io/idx.hpp"
#include "recognise/model.hpp"
#include "train/card.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>

namespace digits {

using json = nlohmann::ordered_json;

std::filesystem::path model_file(const std::filesystem::path& out) { return out.string() + ".model"; }
std::filesystem::path card_file(const std::filesystem::path& out) { return out.string() + ".json"; }
std::filesystem::path picture_file(const std::filesystem::path& out) { return out.string() + ".png"; }

namespace {

json data_checksums(const std::filesystem::path& dir) {
  json sums = json::object();
  for (const auto& f : mnist_files) sums[std::string(f.name)] = sha256_hex(read_file(dir / f.name, max_idx_bytes));
  return sums;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace

TrainingOutcome run_training(const TrainingJob& job) {
  const Dataset data = load_dataset(job.data);
  check_digit_split(data.test, (job.data / "t10k-*").string());
  std::error_code ec;
  if (job.out.has_parent_path()) std::filesystem::create_directories(job.out.parent_path(), ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", job.out.parent_path().string(), ec.message()));

  TrainingOutcome outcome;
  outcome.result = train(data, job.options);
  TrainResult& r = outcome.result;
  outcome.test = evaluate(r.model, data.test, job.options.threads);
  const Architecture arch = trained_architecture(job.options);
  const TrainOptions& o = job.options;

  json history = json::array();
  for (const auto& e : r.history) history.push_back(e.to_json());
  outcome.card = {
      {"name", job.out.filename().string()},
      {"created", utc_now()},
      {"digits_version", digits::version},
      {"architecture", {{"name", arch.name}, {"layers", arch.summary()}}},
      {"parameters", r.model.parameter_count()},
      {"command_line", job.command_line},
      {"seed", o.seed},
      {"threads", worker_count(o.threads)},
      {"data", {{"dir", job.data.string()}, {"sha256", data_checksums(job.data)}}},
      {"training",
       {{"samples", r.samples},
        {"validation_samples", r.validation_samples},
        {"batch", o.batch},
        {"learning_rate", o.learning_rate},
        {"weight_decay", o.weight_decay},
        {"augmentation", o.augment ? o.augmentation.to_json() : json(nullptr)},
        {"not_digits", o.not_digits},
        {"cut_parts", o.cut_parts},
        {"epochs_requested", o.epochs},
        {"epochs_run", r.history.size()},
        {"keep", o.keep == TrainOptions::Keep::last ? "last" : "best"},
        {"kept_epoch", r.kept_epoch},
        {"interrupted", r.interrupted},
        {"recoveries", r.recoveries},
        {"seconds", rounded(r.seconds, 10)},
        {"peak_rss_mb", rounded(double(peak_rss_bytes()) / (1 << 20), 10)}}},
      {"validation_accuracy", rounded(r.kept_val_accuracy, 1e5)},
      {"test_accuracy", rounded(outcome.test.accuracy(), 1e5)},
      {"test", outcome.test.to_json(10)},
      {"history", std::move(history)},
  };
  // The model carries the card's summary, so a server can say what it runs without the JSON beside it.
  r.model.info = {{"name", outcome.card["name"]},
                  {"architecture", arch.summary()},
                  {"parameters", r.model.parameter_count()},
                  {"validation_accuracy", outcome.card["validation_accuracy"]},
                  {"test_accuracy", outcome.card["test_accuracy"]}};  // no date: same seed, same file

  outcome.model_path = model_file(job.out);
  outcome.card_path = card_file(job.out);
  outcome.picture_path = picture_file(job.out);
  save_model(outcome.model_path, r.model);
  write_card_json(outcome.card_path, outcome.card);
  write_card_png(outcome.picture_path,
                 draw_card(r.history, outcome.test,
                           fmt::format("{}: {}, {:.2f}% on the MNIST test set", job.out.filename().string(), arch.name,
                                       outcome.test.accuracy() * 100)));
  return outcome;
}

json evaluate_model_file(const std::filesystem::path& model_path, const std::filesystem::path& data_dir, unsigned jobs) {
  const Model model = load_model(model_path);
  const Dataset data = load_dataset(data_dir);
  const Evaluation test = evaluate(model, data.test, jobs);
  json out{{"model", model_path.string()}, {"architecture", model.architecture}, {"data", data_dir.string()},
           {"test_accuracy", rounded(test.accuracy(), 1e5)}};
  out.update(test.to_json(10));
  return out;
}

}  // namespace digits
