#pragma once
// A live progress line on stderr (count, rate, ETA), drawn only when stderr is a terminal,
// so logs and pipelines never see carriage returns.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace digits {

class Progress {
 public:
  // `total` 0 means unknown (no bar, no ETA). `enabled` false draws nothing.
  Progress(std::string label, std::size_t total, bool enabled);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // Redraws at most ten times a second; `extra` is appended (e.g. "loss 0.041"). The rate and
  // time left appear once a second has passed since the first update (shown_rate).
  void update(std::size_t done, const std::string& extra = {});
  // Clears the line.
  void finish();

 private:
  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool drawn_ = false;
  // The rate is measured from the first update, not from construction: both ends then fall where
  // an item has just finished, and work done before the first update (digits-train's first batch)
  // counts neither in the items nor in the time.
  std::optional<std::size_t> first_done_;
  std::chrono::steady_clock::time_point first_time_{};
  std::chrono::steady_clock::time_point last_draw_{};
};

// How long a rate must have been measured before it is shown, in seconds. A rate over less is
// start-up noise: digits-train draws its first bar after a batch that ran before the bar began, so
// counting from the bar's start said hundreds of thousands a second. Over a second, a redraw's
// delay or an item more or less moves the figure by a few per cent at most.
inline constexpr double rate_after_seconds = 1.0;

// Items per second from `items` done in `seconds`, or none until it means something: at least
// rate_after_seconds measured and at least one item done in them.
std::optional<double> shown_rate(std::size_t items, double seconds);

// The progress line's text, without the carriage return: label, bar and count (of `total`, when
// known), then `rate` and the time left when there is one, then `extra`.
std::string progress_text(std::string_view label, std::size_t done, std::size_t total, std::optional<double> rate,
                          std::string_view extra);

// "1:02:03" or "2:03".
std::string format_duration(double seconds);

}  // namespace digits
