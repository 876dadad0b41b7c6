#include "progress.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace digits {

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, std::round(seconds)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled) {}

Progress::~Progress() { finish(); }

double Progress::rate() const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? double(done_) / elapsed : 0.0;
}

void Progress::update(std::size_t done, const std::string& extra) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done != total_) return;
  last_draw_ = now;
  draw(extra);
}

void Progress::draw(const std::string& extra) {
  std::string line = label_;
  const double r = rate();
  if (total_ > 0) {
    constexpr int width = 24;
    const int filled = static_cast<int>(width * std::min(1.0, double(done_) / double(total_)));
    line += fmt::format(" [{}{}] {}/{}", std::string(filled, '#'), std::string(width - filled, ' '), done_, total_);
  } else {
    line += fmt::format(" {}", done_);
  }
  line += fmt::format(" {:.0f}/s", r);
  if (total_ > 0 && r > 0 && done_ < total_) line += " ETA " + format_duration(double(total_ - done_) / r);
  if (!extra.empty()) line += " " + extra;
  fmt::print(stderr, "\r\x1b[K{}", line);
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
