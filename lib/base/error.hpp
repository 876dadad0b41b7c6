#pragma once
// The two kinds of failure every binary distinguishes: its exit code depends on which.

#include <stdexcept>
#include <string>

namespace digits {

// Bad input data or a runtime failure (unreadable file, checksum mismatch, no network): exit 1.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Input over a size limit (pixels, bytes): still bad input, but a server answers it with 413.
struct TooLarge : Error {
  using Error::Error;
};

// The command line itself is wrong (conflicting or missing options): exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

}  // namespace digits
