#pragma once
// What every fuzzer shares: the libFuzzer entry point's signature, quiet OpenCV, and a check that
// aborts (a finding) with a message, whatever NDEBUG says.

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__);     \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace digits::fuzz {

inline std::string_view bytes_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// OpenCV's warnings on every broken file are noise here; one thread keeps runs reproducible.
inline void quiet_opencv() {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  cv::setNumThreads(1);
}

}  // namespace digits::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
