#include "tool/options.hpp"

#include "recognise/classify.hpp"

#include <fmt/format.h>

namespace digits::options {

SegmentOptions SegmentFlags::resolve() const {
  SegmentOptions o;
  o.max_pixels = max_pixels;
  o.polarity = invert == "yes" ? Polarity::light_on_dark : invert == "no" ? Polarity::dark_on_light : Polarity::automatic;
  return o;
}

void add_segment_options(CLI::App& app, SegmentFlags& flags) {
  app.add_option("--invert", flags.invert, "Ink polarity: auto (detect), no (dark ink on light), yes (light ink on dark)")
      ->check(CLI::IsMember({"auto", "yes", "no"}))
      ->option_text("auto|yes|no");
  app.add_option("--max-pixels", flags.max_pixels, "Refuse images with more pixels than this (default 40000000)")
      ->check(CLI::PositiveNumber)
      ->option_text("N");
}

void add_model_option(CLI::App& app, std::string& path) {
  app.add_option("--model", path, "Model file (default: $DIGITS_MODEL, else the shipped models/digits-cnn.model)")
      ->option_text("PATH");
}

std::string resolve_model(const std::string& option) { return option.empty() ? default_model_path().string() : option; }

void add_jobs_option(CLI::App& app, unsigned& jobs) {
  app.add_option("--jobs", jobs, "Worker threads (default: all cores)")->check(CLI::Range(1u, 256u))->option_text("N");
}

void add_classify_options(CLI::App& app, int& alternatives, double& min_probability) {
  app.add_option("--alternatives", alternatives, "Most probable digits listed per digit (default: 3)")
      ->check(CLI::Range(1, 10))
      ->option_text("K");
  app.add_option("--min-probability", min_probability,
                 "Mark digits below this probability uncertain (\"?\" in text) instead of guessing (default: 0)")
      ->check(CLI::Range(0.0, 1.0))
      ->option_text("P");
}

std::string TuningFlags::described() const {
  std::string out;
  for (const auto& setting : settings) out += " --set " + setting;
  return out;
}

void add_tuning_options(CLI::App& app, TuningFlags& flags) {
  app.add_option("--set", flags.settings, "Set a tuned number of segmentation (repeatable; --list-tuning names them)")
      ->option_text("STAGE.FIELD=VALUE");
  app.add_flag("--list-tuning", flags.list, "List segmentation's tuned numbers (with --set applied) and exit");
}

std::optional<std::shared_ptr<const Tuning>> resolve_tuning(const TuningFlags& flags) {
  Tuning tuning;
  for (const auto& setting : flags.settings) set_tuning(tuning, setting);
  if (flags.list) {
    for (const auto& v : tuning_values(tuning)) fmt::print("{:<30} {:>8}  {}\n", v.name, v.value, v.origin);
    return std::nullopt;
  }
  return std::make_shared<const Tuning>(tuning);
}

}  // namespace digits::options
