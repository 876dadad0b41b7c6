// bench-segment: accuracy of segmentation on generated images (digit count, order, boxes and
// lines matched to the truth; and, with the model, the text read from those digits), its speed
// on a 1000x300 five-digit picture, and peak memory. --set changes a tuned number of
// segmentation (segment/tuning.hpp) for a sweep; --list-tuning lists them.

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/process.hpp"
#include "base/system.hpp"
#include "io/image.hpp"
#include "recognise/classify.hpp"
#include "recognise/model.hpp"
#include "segment/segment.hpp"
#include "segment/tuning.hpp"
#include "tool/cli.hpp"
#include "tool/options.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <opencv2/core.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double iou(const digits::Box& a, const std::vector<int>& b) {
  const int x0 = std::max(a.x, b[0]), y0 = std::max(a.y, b[1]);
  const int x1 = std::min(a.x + a.w, b[0] + b[2]), y1 = std::min(a.y + a.h, b[1] + b[3]);
  const double inter = std::max(0, x1 - x0) * static_cast<double>(std::max(0, y1 - y0));
  return inter / (a.w * static_cast<double>(a.h) + b[2] * static_cast<double>(b[3]) - inter);
}

// Right when every digit is found, in reading order, each box overlapping its true box by
// IoU >= 0.5, and on the right line.
bool matches(const digits::ImageRecord& got, const json& truth) {
  const auto& boxes = truth["boxes"];
  if (got.digits.size() != boxes.size()) return false;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    if (iou(got.digits[i].box, boxes[i].get<std::vector<int>>()) < 0.5) return false;
    if (got.digits[i].line != truth["lines"][i].get<int>()) return false;
  }
  return true;
}

fs::path generator() {
  return fs::read_symlink("/proc/self/exe").parent_path() / "digits-gen-images";
}

std::vector<json> generate(const fs::path& dir, const std::string& mnist, const std::vector<std::string>& args) {
  std::vector<std::string> argv{generator().string(), "--mnist", mnist, "--out", dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = digits::run_process(argv);
  if (r.exit_code != 0) throw digits::Error("generator failed: " + r.err);
  std::vector<json> truths;
  std::stringstream lines(digits::read_file(dir / "truth.jsonl"));
  for (std::string line; std::getline(lines, line);) truths.push_back(json::parse(line));
  return truths;
}

// Every kind of image the generator makes.
std::vector<std::string> generator_classes() {
  const auto r = digits::run_process({generator().string(), "--list-classes"});
  if (r.exit_code != 0) throw digits::Error("generator failed: " + r.err);
  std::vector<std::string> out;
  std::stringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

double median(std::vector<double> v) {
  std::ranges::sort(v);
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark digits-segment's pipeline on generated images.", "bench-segment"};
  digits::cli::setup(app, digits::cli::Manual::none);
  std::string mnist = "data/mnist";
  int count = 1000;
  unsigned seed = 7;
  int show = 0;
  std::string keep;
  std::string model_path;
  bool no_judge = false;
  int rounds = 3;
  std::vector<std::string> kinds;
  std::vector<int> frame;
  digits::options::TuningFlags tuning_flags;
  app.add_option("--mnist", mnist, "MNIST directory")->option_text("DIR");
  app.add_option("--count", count, "Images per class");
  app.add_option("--seed", seed, "Generator seed");
  app.add_option("--classes", kinds, "Classes to measure (default: every class the generator makes)");
  app.add_option("--show-failures", show, "Print up to N failures per class");
  digits::options::add_model_option(app, model_path);
  app.add_option("--speed-rounds", rounds, "Passes over the 200 timing images (0: accuracy only)");
  app.add_flag("--no-judge", no_judge, "Let shape alone decide where touching digits part (no classifier)");
  app.add_option("--keep", keep, "Generate into DIR and keep the images")->option_text("DIR");
  app.add_option("--frame", frame, "Put each image's writing, at its usual size, somewhere in a W x H photo")
      ->expected(2)->check(CLI::PositiveNumber)->option_text("W H");
  digits::options::add_tuning_options(app, tuning_flags);
  return digits::cli::run(app, argc, argv, [&] {
    auto tuning = digits::options::resolve_tuning(tuning_flags);
    if (!tuning) return 0;  // --list-tuning
    digits::SegmentOptions options;
    options.tuning = std::move(*tuning);
    digits::configure_opencv(digits::KernelThreads::caller);  // the figures are per core
    const std::string framed = frame.empty() ? "" : fmt::format(" --frame {} {}", frame[0], frame[1]);
    const std::string set = tuning_flags.described();
    fmt::print("bench-segment --count {} --seed {}{}{}{}   (cv::setNumThreads(1))\n", count, seed, framed,
               no_judge ? " --no-judge" : "", set);
    std::optional<digits::Recogniser> recogniser;
    if (!no_judge) recogniser.emplace(digits::load_model(digits::options::resolve_model(model_path)));
    digits::Recogniser* judge = recogniser ? &*recogniser : nullptr;
    if (kinds.empty()) kinds = generator_classes();
    for (const auto& kind : kinds) {
      const digits::TempDir tmp;
      const fs::path dir = keep.empty() ? tmp.path() : fs::path(keep) / kind;
      std::vector<std::string> args{"--class", kind, "--count", std::to_string(count), "--seed", std::to_string(seed)};
      if (!frame.empty()) args.insert(args.end(), {"--frame", std::to_string(frame[0]), std::to_string(frame[1])});
      const auto truths = generate(dir, mnist, args);
      int right = 0, shown = 0, read = 0, counted = 0;
      for (const auto& truth : truths) {
        const auto bytes = digits::read_file(dir / truth["image"].get<std::string>());
        auto record = digits::segment_bytes(bytes, options, judge);
        // What a user finally gets: the digits' text, whatever the boxes.
        if (judge != nullptr) {
          digits::classify_record(record, *judge, {});
          read += record.text == truth["text"].get<std::string>() ? 1 : 0;
        }
        // The count alone, boxes and lines aside: how often a miss is a box or line rather than a digit.
        counted += record.digits.size() == truth["boxes"].size() ? 1 : 0;
        if (matches(record, truth)) {
          ++right;
        } else if (shown++ < show) {
          std::string found;
          for (const auto& d : record.digits) found += fmt::format(" [{},{},{},{}]L{}", d.box.x, d.box.y, d.box.w, d.box.h, d.line);
          fmt::print("  {} truth {} {} lines {}\n    got {}:{}{}\n", truth["image"].get<std::string>(), truth["text"].get<std::string>(),
                     truth["boxes"].dump(), truth["lines"].dump(), record.digits.size(), found,
                     record.text ? fmt::format(" read {}", record.text->empty() ? "-" : *record.text) : "");
        }
      }
      const auto share = [&](int n) { return 100.0 * n / static_cast<double>(truths.size()); };
      fmt::print("{:<10} {:>5}/{:<5} = {:6.2f}% right (count, order, boxes IoU>=0.5, lines)", kind, right, truths.size(), share(right));
      fmt::print("   count alone: {:6.2f}%", share(counted));
      if (judge != nullptr) fmt::print("   text read exactly: {:6.2f}%", share(read));
      fmt::print("\n");
      std::fflush(stdout);
    }

    if (rounds <= 0) return 0;
    const digits::TempDir tmp;
    const auto truths = generate(tmp.path(), mnist, {"--class", "clean", "--count", "200", "--seed", std::to_string(seed),
                                                     "--width", "1000", "--height", "300", "--digits", "5"});
    std::vector<double> with_decode, without_decode;
    for (int round = 0; round < rounds; ++round)
      for (const auto& truth : truths) {
        const auto bytes = digits::read_file(tmp.path() / truth["image"].get<std::string>());
        const auto t0 = Clock::now();
        const cv::Mat gray = digits::decode_image(bytes);
        const auto t1 = Clock::now();
        const auto record = digits::segment_image(gray, options, judge);
        const auto t2 = Clock::now();
        with_decode.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
        without_decode.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
      }
    const auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); };
    fmt::print("1000x300 PNG, 5 digits, {} runs on one core: median {:.2f} ms/image decode excluded, {:.2f} ms "
               "included (mean {:.2f} / {:.2f}, min {:.2f} / {:.2f})\n",
               with_decode.size(), median(without_decode), median(with_decode), mean(without_decode), mean(with_decode),
               *std::ranges::min_element(without_decode), *std::ranges::min_element(with_decode));
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    fmt::print("peak RSS {:.1f} MB\n", usage.ru_maxrss / 1024.0);
    return 0;
  });
}
