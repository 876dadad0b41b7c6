// digits-classify: read digits from segment records, image files and folders, or IDX files.

#include "base/error.hpp"
#include "base/ordered.hpp"
#include "base/parallel.hpp"
#include "base/system.hpp"
#include "io/idx.hpp"
#include "recognise/classify.hpp"
#include "recognise/evaluate.hpp"
#include "tool/cli.hpp"
#include "tool/inputs.hpp"
#include "tool/options.hpp"
#include "tool/output.hpp"
#include "tool/progress.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>

namespace {

const std::string program = "digits-classify";

// One unit of work: an image file to read, or a record line that came on standard input.
struct Item {
  std::string input;  // a path, "-", or "-:LINE" for a record
  std::string record_line;
  bool is_record = false;
};

int classify_idx_file(const std::string& idx, const std::string& labels_path, const std::string& model_path,
                      digits::OutputFormat format, int alternatives, unsigned jobs) {
  const digits::Model model = digits::load_model(model_path);
  digits::IdxImages images = digits::read_idx_images(idx);
  if (labels_path.empty()) {
    const auto predictions = digits::classify_idx(model, images, alternatives, jobs);
    if (format == digits::OutputFormat::csv) fmt::print("index,digit,probability\n");
    for (std::size_t i = 0; i < predictions.size(); ++i) {
      const auto& p = predictions[i];
      switch (format) {
        case digits::OutputFormat::json:
          fmt::print("{}\n", nlohmann::ordered_json{{"index", i}, {"digit", p.digit},
                                                    {"probability", digits::round_probability(p.probability)},
                                                    {"alternatives", digits::alternatives_json(p.alternatives, p.alternatives.size())}}.dump());
          break;
        case digits::OutputFormat::text: fmt::print("{}\t{}\n", i, p.digit); break;
        case digits::OutputFormat::csv: fmt::print("{},{},{:.4f}\n", i, p.digit, digits::round_probability(p.probability)); break;
      }
    }
    return 0;
  }
  const digits::Split split{std::move(images), digits::read_idx_labels(labels_path)};
  const digits::Evaluation evaluation = digits::evaluate(model, split, jobs, labels_path);
  if (format == digits::OutputFormat::json) {
    nlohmann::ordered_json summary{{"model", model_path}, {"images", idx}};
    summary.update(evaluation.to_json(10));
    fmt::print("{}\n", summary.dump());
  } else {
    const std::string sep = format == digits::OutputFormat::csv ? "," : "\t";
    fmt::print("accuracy{}{:.4f}\n", sep, evaluation.accuracy());
    fmt::print("truth\\predicted{}{}\n", sep, fmt::join(std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sep));
    for (int t = 0; t < 10; ++t) fmt::print("{}{}{}\n", t, sep, fmt::join(evaluation.confusion[t], sep));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Read the digits in images, folders of images, digits-segment records (standard input) or IDX files. "
               "Prints one JSON line per image, in input order.",
               program};
  digits::cli::setup(app);
  std::vector<std::string> inputs;
  std::string model_option, format_name = "json", idx, labels;
  bool recursive = false, quiet = false, keep_pixels = false;
  unsigned jobs = 0;
  double work_timeout = 0;
  digits::ClassifyOptions classify;
  digits::options::SegmentFlags segment;
  app.add_option("INPUT", inputs, "Image files or folders; - reads one image from standard input. "
                                  "Without any, segment records are read from standard input.");
  digits::options::add_model_option(app, model_option);
  app.add_option("--format", format_name, "Output: json (records; the text's lines joined by \\n), text (path TAB digits, "
                                    "the lines separated by a space) or csv (a row per digit, with its line)")
      ->check(CLI::IsMember({"json", "text", "csv"}))
      ->option_text("json|text|csv");
  digits::options::add_classify_options(app, classify.alternatives, classify.min_probability);
  app.add_flag("--pixels", keep_pixels, "Keep each digit's 28x28 crop (\"pixels\", as digits-segment writes it) in the "
                                      "JSON records; without it they are left out");
  app.add_flag("-r,--recursive", recursive, "Take images from the subfolders of folder inputs too");
  app.add_option("--idx", idx, "Classify every image of an IDX file instead (one line per sample)")->option_text("FILE");
  app.add_option("--labels", labels, "With --idx: the IDX labels; prints accuracy and the confusion matrix instead")
      ->option_text("FILE");
  digits::options::add_jobs_option(app, jobs);
  digits::options::add_segment_options(app, segment);
  app.add_option("--work-timeout", work_timeout,
                 "CPU seconds reading one image may take; more is an error for that image (default: no limit)")
      ->check(CLI::NonNegativeNumber)->option_text("S");
  app.add_flag("-q,--quiet", quiet, "No progress line on stderr");

  return digits::cli::run(app, argc, argv, [&]() -> int {
    digits::configure_opencv(digits::KernelThreads::opencv);
    const digits::OutputFormat format = digits::parse_output_format(format_name);
    const unsigned workers = digits::worker_count(jobs);
    if (!labels.empty() && idx.empty()) throw digits::UsageError("--labels goes with --idx");
    // Only JSON records carry crops; saying nothing of a flag that changes nothing would mislead.
    if (keep_pixels && format != digits::OutputFormat::json) throw digits::UsageError("--pixels goes with --format json");
    if (keep_pixels && !idx.empty()) throw digits::UsageError("--pixels does not go with --idx (its images are the crops)");
    const digits::Pixels pixels = keep_pixels ? digits::Pixels::keep : digits::Pixels::drop;
    if (!idx.empty()) {
      if (!inputs.empty()) throw digits::UsageError("--idx takes no other inputs");
      return classify_idx_file(idx, labels, digits::options::resolve_model(model_option), format, classify.alternatives, jobs);
    }
    const auto files = digits::expand_inputs(inputs, recursive);
    if (std::ranges::count(files, "-") > 1) throw digits::UsageError("standard input (-) can be read only once");
    const bool records_on_stdin = inputs.empty();
    if (records_on_stdin && ::isatty(STDIN_FILENO) == 1)
      throw digits::UsageError("no input: give image files or folders, or pipe digits-segment records in");

    const digits::Model model = digits::load_model(digits::options::resolve_model(model_option));
    digits::configure_opencv(digits::KernelThreads::caller);  // our workers are the parallelism
    digits::keep_freed_memory();
    std::vector<digits::Recogniser> recognisers;
    for (unsigned w = 0; w < workers; ++w) recognisers.emplace_back(model);
    const digits::SegmentOptions segment_options = segment.resolve();

    std::size_t next_file = 0, line_number = 0;
    std::function<std::optional<Item>()> next = [&]() -> std::optional<Item> {
      if (!records_on_stdin) {
        if (next_file == files.size()) return std::nullopt;
        return Item{files[next_file++], {}, false};
      }
      std::string line;
      while (std::getline(std::cin, line)) {
        ++line_number;
        if (line.find_first_not_of(" \t\r") != std::string::npos)
          return Item{fmt::format("-:{}", line_number), std::move(line), true};
      }
      return std::nullopt;
    };
    std::function<digits::ImageRecord(Item&&, unsigned)> work = [&](Item&& item, unsigned w) {
      return digits::record_for_input(item.input, [&] {
        if (item.is_record) {
          digits::ImageRecord record = digits::parse_image_record(item.record_line);
          digits::classify_record(record, recognisers[w], classify);
          return record;
        }
        const std::string bytes = digits::read_input(item.input, segment.max_pixels);
        digits::SegmentOptions options = segment_options;
        if (work_timeout > 0) options.deadline = digits::Deadline(work_timeout);  // on this worker's clock
        digits::ImageRecord record = digits::recognise_bytes(bytes, recognisers[w], options, classify);
        record.image = item.input;
        return record;
      });
    };

    const bool live = !quiet && digits::cli::stderr_is_terminal();
    digits::Progress progress("classify", records_on_stdin ? 0 : files.size(), live && (records_on_stdin || files.size() > 1));
    std::size_t done = 0, failures = 0;
    if (format == digits::OutputFormat::csv) fmt::print("{}", digits::csv_header());
    std::function<void(digits::ImageRecord&&)> emit = [&](digits::ImageRecord&& record) {
      fmt::print("{}", digits::format_record(record, format, pixels));
      std::fflush(stdout);
      if (record.error) {
        ++failures;
        progress.finish();
        fmt::print(stderr, "{}: error: {}: {}\n", program, record.image, *record.error);
      }
      progress.update(++done);
    };
    digits::ordered_parallel(next, work, emit, workers);
    progress.finish();
    return failures > 0 ? digits::exit_failure : digits::exit_ok;
  });
}
