#pragma once
// A live progress line on stderr (count, rate, ETA), drawn only when stderr is a terminal,
// so logs and pipelines never see carriage returns.

#include <chrono>
#include <cstddef>
#include <string>

namespace digits {

class Progress {
 public:
  // `total` 0 means unknown (no bar, no ETA). `enabled` false draws nothing.
  Progress(std::string label, std::size_t total, bool enabled);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // Redraws at most ten times a second; `extra` is appended (e.g. "loss 0.041").
  void update(std::size_t done, const std::string& extra = {});
  // Clears the line.
  void finish();

  double rate() const;  // items per second so far

 private:
  void draw(const std::string& extra);
  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1:02:03" or "2:03".
std::string format_duration(double seconds);

}  // namespace digits
