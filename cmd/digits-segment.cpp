// digits-segment: find the handwritten digits in images; one JSON line per image.

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/system.hpp"
#include "io/records.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"
#include "segment/segment.hpp"
#include "tool/cli.hpp"
#include "tool/inputs.hpp"
#include "tool/options.hpp"
#include "tool/overlay.hpp"

#include <fmt/format.h>


#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace {

const std::string program = "digits-segment";

// Debug file names from the input's name, made unique within the run.
std::string debug_stem(const std::string& input, std::set<std::string>& used) {
  std::string stem = input == "-" ? "stdin" : std::filesystem::path(input).stem().string();
  if (stem.empty()) stem = "image";
  std::string unique = stem;
  for (int n = 2; used.contains(unique); ++n) unique = fmt::format("{}-{}", stem, n);
  used.insert(unique);
  return unique;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Find the handwritten digits in images: one JSON line per image with every digit's box, "
               "text line and 28x28 MNIST-normalised crop, in reading order.",
               program};
  digits::cli::setup(app);
  std::vector<std::string> inputs;
  digits::options::SegmentFlags segment;
  std::string debug_dir;
  std::string model_path;
  double work_timeout = 0;
  app.add_option("IMAGE", inputs, "Image files (PNG, JPEG, BMP, TIFF, WebP, PGM); - reads standard input")
      ->required();
  digits::options::add_segment_options(app, segment);
  app.add_option("--work-timeout", work_timeout,
                 "CPU seconds segmenting one image may take; more is an error for that image (default: no limit)")
      ->check(CLI::NonNegativeNumber)->option_text("S");
  digits::options::add_model_option(app, model_path);
  app.add_option("--debug", debug_dir, "Write an overlay and a contact sheet of the crops per image into DIR")
      ->option_text("DIR");

  return digits::cli::run(app, argc, argv, [&] {
    digits::configure_opencv(digits::KernelThreads::opencv);
    digits::SegmentOptions options = segment.resolve();
    if (std::ranges::count(inputs, "-") > 1) throw digits::UsageError("standard input (-) can be read only once");
    // The classifier judges where touching digits part, so this reads the same digits as
    // digits-classify does with the same model.
    digits::Recogniser judge(digits::load_model(digits::options::resolve_model(model_path)));
    std::set<std::string> stems;
    int failures = 0;
    for (const auto& input : inputs) {
      const digits::ImageRecord record = digits::record_for_input(input, [&] {
        const std::string bytes = digits::read_input(input, options.max_pixels);
        if (work_timeout > 0) options.deadline = digits::Deadline(work_timeout);
        digits::ImageRecord found = digits::segment_bytes(bytes, options, &judge);
        found.image = input;
        if (!debug_dir.empty()) digits::write_debug_images(debug_dir, debug_stem(input, stems), bytes, options, found);
        return found;
      });
      fmt::print("{}\n", digits::to_json_line(record));
      std::fflush(stdout);
      if (record.error) {
        ++failures;
        fmt::print(stderr, "{}: error: {}: {}\n", program, input, *record.error);
      }
    }
    return failures > 0 ? digits::exit_failure : digits::exit_ok;
  });
}
