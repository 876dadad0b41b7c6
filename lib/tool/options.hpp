#pragma once
// Options several binaries share, defined once so the same flag means the same thing everywhere.

#include "segment/segment.hpp"
#include "segment/tuning.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace digits::options {

// --invert auto|yes|no and --max-pixels N, as digits-segment, digits-classify and digits-serve take them.
struct SegmentFlags {
  std::string invert = "auto";
  std::int64_t max_pixels = default_max_pixels;
  SegmentOptions resolve() const;
};
void add_segment_options(CLI::App& app, SegmentFlags& flags);

// --model PATH (default: the shipped model, or $DIGITS_MODEL).
void add_model_option(CLI::App& app, std::string& path);
// The model path to load: the option's value, else default_model_path().
std::string resolve_model(const std::string& option);

// --jobs N (default: all cores).
void add_jobs_option(CLI::App& app, unsigned& jobs);

// --alternatives K and --min-probability P.
void add_classify_options(CLI::App& app, int& alternatives, double& min_probability);

// --set STAGE.FIELD=VALUE (repeatable) and --list-tuning, as the benchmarks take them: a sweep
// over segmentation's tuned numbers without editing code.
struct TuningFlags {
  std::vector<std::string> settings;
  bool list = false;
  // " --set A=1 --set B=2": what a benchmark's header line repeats, so its figures say what made them.
  std::string described() const;
};
void add_tuning_options(CLI::App& app, TuningFlags& flags);
// The tuning the settings make (throws Error on a bad one). With --list-tuning, prints every tuned
// number, --set applied, with its origin, and gives nullopt: the program has nothing more to do.
std::optional<std::shared_ptr<const Tuning>> resolve_tuning(const TuningFlags& flags);

}  // namespace digits::options
