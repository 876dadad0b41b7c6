#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support.hpp"

#include "dataset.hpp"

#include <cstdio>
#include <random>
#include <sstream>
#include <string_view>

namespace {

// ctest runs one case at a time with --test-case=NAME; doctest exits 0 when that filter
// matches nothing (a name with a comma, say), which would make the test unable to fail.
unsigned cases_run = 0;

struct CountCases : doctest::IReporter {
  explicit CountCases(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { cases_run = stats.numTestCasesPassingFilters; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("count-cases", 1, CountCases);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;
  bool filtered = false;
  for (int i = 1; i < argc; ++i) filtered = filtered || std::string_view(argv[i]).starts_with("--test-case=");
  if (filtered && cases_run == 0) {
    std::fputs("no test case matched the filter (test names must not contain commas)\n", stderr);
    return 1;
  }
  return result;
}

namespace digits::test {

std::vector<std::string> binaries() {
  std::vector<std::string> names;
  std::stringstream list(DIGITS_BINARIES);
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

ProcessResult run_binary(const std::string& name, const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv{(bin_dir / name).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.input = input;
  options.timeout = std::chrono::minutes(5);
  return run_process(argv, options);
}

IdxImages tiny_images(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  IdxImages images;
  images.rows = 28;
  images.cols = 28;
  images.pixels.resize(count * 28 * 28);
  for (auto& p : images.pixels) p = static_cast<std::uint8_t>(rng() & 0xff);
  return images;
}

IdxLabels tiny_labels(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  IdxLabels labels;
  for (std::size_t i = 0; i < count; ++i) labels.labels.push_back(static_cast<std::uint8_t>(rng() % 10));
  return labels;
}

void write_tiny_dataset(const std::filesystem::path& dir, std::size_t train_count, std::size_t test_count, bool gz) {
  std::filesystem::create_directories(dir);
  const std::string suffix = gz ? ".gz" : "";
  const auto path = [&](std::size_t i) { return dir / (std::string(mnist_files[i].name) + suffix); };
  write_idx(path(0), tiny_images(train_count, 1));
  write_idx(path(1), tiny_labels(train_count, 2));
  write_idx(path(2), tiny_images(test_count, 3));
  write_idx(path(3), tiny_labels(test_count, 4));
}

std::size_t error_lines(const std::string& err, const std::string& name) {
  std::vector<std::string> lines;
  std::stringstream in(err);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const std::string prefix = name + ": error: ";
  if (lines.empty() || !lines.back().starts_with(prefix)) return 0;
  return static_cast<std::size_t>(std::ranges::count_if(lines, [&](const std::string& l) { return l.starts_with(prefix); }));
}

std::size_t line_count(const std::string& text) {
  std::size_t n = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

}  // namespace digits::test
