#pragma once
// What the tests share: running our binaries, and small data sets written on the spot.

#include "base/process.hpp"
#include "io/idx.hpp"
#include "io/records.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace digits::test {

// Three digits on two lines ("scans/a b.png", 640x480), with crops; `classified`: with digits,
// probabilities, alternatives and text, the last one uncertain.
ImageRecord sample_record(bool classified);

inline const std::filesystem::path bin_dir{DIGITS_BIN_DIR};
inline const std::filesystem::path source_dir{DIGITS_SOURCE_DIR};

// Every binary the build makes (from cmd/), e.g. "digits-fetch".
std::vector<std::string> binaries();

// Runs one of our binaries with `args`, feeding `input` on stdin.
ProcessResult run_binary(const std::string& name, const std::vector<std::string>& args, const std::string& input = {});

// `count` random-ish 28x28 images with labels 0-9, reproducible from `seed`.
IdxImages tiny_images(std::size_t count, unsigned seed);
IdxLabels tiny_labels(std::size_t count, unsigned seed);

// Writes a four-file IDX data set (train_count / test_count samples) into `dir`,
// gzip-compressed when `gz` is true (file names then end in .gz).
void write_tiny_dataset(const std::filesystem::path& dir, std::size_t train_count, std::size_t test_count, bool gz = false);

// Checks the error contract: the last line of `err` is `NAME: error: ...` and no other line is an error.
// Returns the number of error lines when the contract holds, 0 when the last line is not one.
std::size_t error_lines(const std::string& err, const std::string& name);

// A program running beside the test (e.g. digits-serve), its stderr in a file; killed on destruction.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background();
  std::string err() const;  // what it wrote on stderr so far
  // Waits up to `seconds` for `text` to appear on its stderr.
  bool wait_for(const std::string& text, double seconds) const;
  // Waits up to `seconds` for it to end: its exit status (128 + the signal when killed by one).
  std::optional<int> wait_exit(double seconds);
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  std::filesystem::path log_;
};

// The number of lines in `text` (the last one need not end in a newline).
std::size_t line_count(const std::string& text);

}  // namespace digits::test
