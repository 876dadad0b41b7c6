#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support.hpp"

#include "io/dataset.hpp"

#include "base/files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

extern char** environ;
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

Background::Background(const std::vector<std::string>& argv) {
  log_ = std::filesystem::temp_directory_path() / ("digits-bg-" + std::to_string(::getpid()) + "-" +
                                                   std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

Background::~Background() {
  std::error_code ignored;
  if (pid_ < 0) {
    std::filesystem::remove(log_, ignored);
    return;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (::waitpid(pid_, &status, WNOHANG) == 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  std::filesystem::remove(log_, ignored);
}

std::optional<int> Background::wait_exit(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (pid_ >= 0 && std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // reaped: the number may be another process's now
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

std::string Background::err() const {
  try {
    return read_file(log_);
  } catch (const std::exception&) {
    return {};
  }
}

bool Background::wait_for(const std::string& text, double seconds) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (err().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::size_t line_count(const std::string& text) {
  std::size_t n = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

ImageRecord sample_record(bool classified) {
  ImageRecord r;
  r.image = "scans/a b.png";
  r.width = 640;
  r.height = 480;
  for (int i = 0; i < 3; ++i) {
    DigitRecord d;
    d.box = {10 + 40 * i, 20, 30, 45};
    d.line = i / 2;
    for (std::size_t p = 0; p < crop_pixels; ++p) d.pixels[p] = static_cast<std::uint8_t>((p * 7 + i) & 0xff);
    if (classified) {
      d.digit = i + 1;
      d.probability = 0.9876;
      d.alternatives = {{i + 1, 0.9876}, {7, 0.01}, {0, 0.0012}};
      d.uncertain = i == 2;
    }
    r.digits.push_back(d);
  }
  if (classified) r.text = record_text(r.digits);
  return r;
}

}  // namespace digits::test
