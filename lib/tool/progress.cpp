#include "tool/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace digits {

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, std::round(seconds)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::optional<double> shown_rate(std::size_t items, double seconds) {
  if (items == 0 || !(seconds >= rate_after_seconds)) return std::nullopt;
  return double(items) / seconds;
}

std::string progress_text(std::string_view label, std::size_t done, std::size_t total, std::optional<double> rate,
                          std::string_view extra) {
  std::string line(label);
  if (total > 0) {
    constexpr int width = 24;
    const int filled = static_cast<int>(width * std::min(1.0, double(done) / double(total)));
    line += fmt::format(" [{}{}] {}/{}", std::string(filled, '#'), std::string(width - filled, ' '), done, total);
  } else {
    line += fmt::format(" {}", done);
  }
  if (rate && *rate > 0) {
    // Slow work (seconds an item) still shows a figure rather than "0/s".
    line += *rate >= 10 ? fmt::format(" {:.0f}/s", *rate) : fmt::format(" {:.2g}/s", *rate);
    if (total > done) line += " ETA " + format_duration(double(total - done) / *rate);
  }
  if (!extra.empty()) line += fmt::format(" {}", extra);
  return line;
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled) {}

Progress::~Progress() { finish(); }

void Progress::update(std::size_t done, const std::string& extra) {
  const auto now = std::chrono::steady_clock::now();
  if (!first_done_) first_done_ = done, first_time_ = now;
  if (!enabled_) return;
  if (now - last_draw_ < std::chrono::milliseconds(100) && done != total_) return;
  last_draw_ = now;
  const std::size_t items = done > *first_done_ ? done - *first_done_ : 0;
  const auto rate = shown_rate(items, std::chrono::duration<double>(now - first_time_).count());
  fmt::print(stderr, "\r\x1b[K{}", progress_text(label_, done, total_, rate, extra));
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) {
    fmt::print(stderr, "\r\x1b[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace digits
