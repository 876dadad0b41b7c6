// bench-writers: reading digits in hands other than MNIST's. Handwriting fonts from Debian
// packages stand in for other writers: each digit alone, and lines of 3-8 digits drawn as the
// font spaces them (its digits may touch), 40-120 px, slightly rotated, in grey or black ink on
// white or tinted paper. Per font and overall: how many are read exactly (the whole pipeline,
// segmentation and classification, as digits-classify reads an image file). --set changes a tuned
// number of segmentation (segment/tuning.hpp) for a sweep; --list-tuning lists them.
// The fonts come from: apt-get install fonts-dkg-handwriting fonts-breip fonts-bwht
//   fonts-humor-sans fonts-klee fonts-kristi fonts-comic-neue fonts-kaushanscript
//   fonts-dancingscript fonts-ecolier-court

#include "base/error.hpp"
#include "base/system.hpp"
#include "recognise/classify.hpp"
#include "recognise/model.hpp"
#include "segment/tuning.hpp"
#include "tool/cli.hpp"
#include "tool/options.hpp"
#include "train/augment.hpp"

#include <fmt/format.h>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <utility>

namespace {

namespace fs = std::filesystem;

// Where those packages put their fonts. Outline and stencil faces (no one writes that way) are
// not among them.
const std::vector<std::string> font_dirs{
    "/usr/share/fonts/truetype/fifthhorseman", "/usr/share/fonts/truetype/breip", "/usr/share/fonts/opentype/bwht",
    "/usr/share/fonts/truetype/humor-sans",    "/usr/share/fonts/truetype/klee",  "/usr/share/fonts/truetype/kristi",
    "/usr/share/fonts/opentype/comic-neue",    "/usr/share/fonts/opentype/kaushanscript",
    "/usr/share/fonts/opentype/dancingscript", "/usr/share/fonts/truetype/ecolier-court"};

std::vector<fs::path> installed_fonts() {
  std::vector<fs::path> out;
  for (const auto& dir : font_dirs) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (ext == ".ttf" || ext == ".otf") out.push_back(entry.path());
    }
  }
  std::ranges::sort(out);
  return out;
}

// `text` in `font`, `size` px, turned by `degrees`, with a margin of paper all round.
cv::Mat written(cv::freetype::FreeType2& font, const std::string& text, int size, double degrees, int ink, int paper) {
  int baseline = 0;
  const cv::Size extent = font.getTextSize(text, size, -1, &baseline);
  const int margin = size / 2 + 10;
  cv::Mat canvas(extent.height + baseline + 2 * margin, extent.width + 2 * margin, CV_8UC3, cv::Scalar::all(paper));
  font.putText(canvas, text, {margin, margin + extent.height}, size, cv::Scalar::all(ink), -1, cv::LINE_AA, true);
  cv::Mat gray;
  cv::cvtColor(canvas, gray, cv::COLOR_BGR2GRAY);
  if (degrees == 0) return gray;
  const cv::Point2f centre(gray.cols / 2.0f, gray.rows / 2.0f);
  cv::Mat turned;
  cv::warpAffine(gray, turned, cv::getRotationMatrix2D(centre, degrees, 1.0), gray.size(), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(paper));
  return turned;
}

// Read from its PNG bytes by the function digits-classify reads an image file with.
std::string read_text(const cv::Mat& gray, digits::Recogniser& recogniser, const digits::SegmentOptions& options) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", gray, png);
  const auto record = digits::recognise_bytes({reinterpret_cast<const char*>(png.data()), png.size()}, recogniser, options, {});
  return record.text.value_or("");
}

struct Tally {
  int digits = 0, digits_right = 0, lines = 0, lines_right = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Read digits drawn in handwriting fonts (other writers than MNIST's): each digit alone and lines of "
               "3-8 digits; print how many are read exactly, per font and overall.",
               "bench-writers"};
  digits::cli::setup(app, digits::cli::Manual::none);
  std::vector<std::string> fonts;
  std::string model_path;
  int lines = 20;
  unsigned seed = 1;
  int show = 0;
  digits::options::TuningFlags tuning_flags;
  app.add_option("--fonts", fonts, "Font files (default: the handwriting fonts of the Debian packages named in "
                                   "bench/writers.cpp, where installed)")->check(CLI::ExistingFile);
  digits::options::add_model_option(app, model_path);
  app.add_option("--lines", lines, "Lines per font")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "Random seed");
  app.add_option("--show-failures", show, "Print up to N misread images per font");
  digits::options::add_tuning_options(app, tuning_flags);
  return digits::cli::run(app, argc, argv, [&] {
    auto tuning = digits::options::resolve_tuning(tuning_flags);
    if (!tuning) return 0;  // --list-tuning
    digits::SegmentOptions options;
    options.tuning = std::move(*tuning);
    digits::configure_opencv(digits::KernelThreads::caller);
    std::vector<fs::path> files(fonts.begin(), fonts.end());
    if (files.empty()) files = installed_fonts();
    if (files.empty())
      throw digits::Error("no handwriting fonts found: apt-get install fonts-dkg-handwriting fonts-breip fonts-bwht "
                          "fonts-humor-sans fonts-klee fonts-kristi fonts-comic-neue fonts-kaushanscript "
                          "fonts-dancingscript fonts-ecolier-court, or pass --fonts");
    digits::Recogniser recogniser(digits::load_model(digits::options::resolve_model(model_path)));
    const std::string set = tuning_flags.described();
    fmt::print("bench-writers --lines {} --seed {}{}: {} fonts, each digit alone at 3 sizes and {} lines of 3-8 digits\n",
               lines, seed, set, files.size(), lines);
    fmt::print("{:<28} {:>9} {:>9}\n", "font", "digits", "lines");
    Tally all;
    std::map<std::pair<char, std::string>, int> confused;  // (digit, what it was read as) -> times
    for (const auto& file : files) {
      auto font = cv::freetype::createFreeType2();
      try {
        font->loadFontData(file.string(), 0);
      } catch (const cv::Exception&) {
        throw digits::Error(fmt::format("{}: not a font FreeType can read", file.string()));
      }
      std::mt19937 rng(seed);
      Tally t;
      std::vector<std::string> misread;
      const auto check = [&](const std::string& truth, const std::string& got) {
        if (got != truth && std::cmp_less(misread.size(), show)) misread.push_back(fmt::format("{} read {}", truth, got.empty() ? "-" : got));
        return got == truth;
      };
      for (char d = '0'; d <= '9'; ++d)
        for (const int size : {60, 90, 120}) {
          const std::string got = read_text(written(*font, std::string(1, d), size, 0, 20, 255), recogniser, options);
          ++t.digits;
          if (check(std::string(1, d), got)) ++t.digits_right;
          else ++confused[{d, got}];
        }
      for (int k = 0; k < lines; ++k) {
        std::string text;
        const int length = std::uniform_int_distribution<int>(3, 8)(rng);
        for (int i = 0; i < length; ++i) text += static_cast<char>('0' + std::uniform_int_distribution<int>(0, 9)(rng));
        const int size = std::uniform_int_distribution<int>(40, 120)(rng);
        const double degrees = digits::uniform(rng, -4, 4);
        const int ink = std::uniform_int_distribution<int>(0, 90)(rng), paper = std::uniform_int_distribution<int>(205, 255)(rng);
        ++t.lines;
        if (check(text, read_text(written(*font, text, size, degrees, ink, paper), recogniser, options))) ++t.lines_right;
      }
      fmt::print("{:<28} {:>4}/{:<4} {:>4}/{:<4}\n", file.stem().string(), t.digits_right, t.digits, t.lines_right, t.lines);
      for (const auto& m : misread) fmt::print("    {}\n", m);
      all.digits += t.digits, all.digits_right += t.digits_right, all.lines += t.lines, all.lines_right += t.lines_right;
    }
    const auto share = [](int n, int of) { return of > 0 ? 100.0 * n / of : 0.0; };
    fmt::print("all: digits {}/{} = {:.1f}% read exactly, lines {}/{} = {:.1f}%\n", all.digits_right, all.digits,
               share(all.digits_right, all.digits), all.lines_right, all.lines, share(all.lines_right, all.lines));
    std::vector<std::pair<int, std::string>> worst;
    for (const auto& [key, n] : confused) worst.emplace_back(n, fmt::format("{} read {}", key.first, key.second.empty() ? "-" : key.second));
    std::ranges::sort(worst, std::greater{});
    if (worst.size() > 8) worst.resize(8);
    std::string most;
    for (const auto& [n, what] : worst) most += fmt::format("{}{} ({})", most.empty() ? "" : ", ", what, n);
    if (!most.empty()) fmt::print("digits alone most often misread: {}\n", most);
    return 0;
  });
}
