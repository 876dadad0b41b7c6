#pragma once
// Splitting index ranges over worker threads, each with its own state (e.g. its own Recogniser).

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace digits {

// The number of workers to use for `jobs` (0 means every core).
inline unsigned worker_count(unsigned jobs) {
  return jobs > 0 ? jobs : std::max(1u, std::thread::hardware_concurrency());
}

// Calls work(begin, end, worker) on `workers` threads over contiguous slices of [0, count),
// and rethrows the first exception any of them threw.
inline void parallel_slices(std::size_t count, unsigned workers,
                            const std::function<void(std::size_t, std::size_t, unsigned)>& work) {
  workers = static_cast<unsigned>(std::clamp<std::size_t>(workers, 1, std::max<std::size_t>(count, 1)));
  if (workers == 1) {
    work(0, count, 0);
    return;
  }
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::vector<std::jthread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        work(count * w / workers, count * (w + 1) / workers, w);
      } catch (...) {
        const std::scoped_lock lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  threads.clear();  // joins
  if (failure) std::rethrow_exception(failure);
}

}  // namespace digits
