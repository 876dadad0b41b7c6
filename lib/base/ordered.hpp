#pragma once
// A streaming parallel map that keeps order: one thread reads items, workers transform them,
// the calling thread emits results in input order as soon as each one's turn comes.
// Used by digits-classify so `--jobs 2` prints exactly what `--jobs 1` prints, without waiting for EOF.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

namespace digits {

template <typename In, typename Out>
void ordered_parallel(const std::function<std::optional<In>()>& next,
                      const std::function<Out(In&&, unsigned worker)>& work,
                      const std::function<void(Out&&)>& emit, unsigned workers, std::size_t window = 256) {
  std::mutex m;
  std::condition_variable changed;
  std::queue<std::pair<std::size_t, In>> pending;
  std::map<std::size_t, Out> done;
  std::size_t read = 0, emitted = 0;
  bool input_ended = false, failed = false;
  std::exception_ptr failure;

  const auto fail = [&](std::exception_ptr e) {
    const std::scoped_lock lock(m);
    if (!failure) failure = e;
    failed = true;
    changed.notify_all();
  };

  std::vector<std::jthread> threads;
  threads.emplace_back([&] {
    try {
      for (;;) {
        {
          std::unique_lock lock(m);
          // Bounded look-ahead: memory stays flat however long the input is.
          changed.wait(lock, [&] { return failed || read - emitted < window; });
          if (failed) return;
        }
        auto item = next();
        const std::scoped_lock lock(m);
        if (!item) {
          input_ended = true;
          changed.notify_all();
          return;
        }
        pending.emplace(read++, std::move(*item));
        changed.notify_all();
      }
    } catch (...) {
      fail(std::current_exception());
    }
  });
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        for (;;) {
          std::unique_lock lock(m);
          changed.wait(lock, [&] { return failed || !pending.empty() || input_ended; });
          if (failed || pending.empty()) return;
          auto [index, item] = std::move(pending.front());
          pending.pop();
          lock.unlock();
          Out out = work(std::move(item), w);
          lock.lock();
          done.emplace(index, std::move(out));
          changed.notify_all();
        }
      } catch (...) {
        fail(std::current_exception());
      }
    });
  }

  try {
    for (;;) {
      std::unique_lock lock(m);
      changed.wait(lock, [&] { return failed || done.contains(emitted) || (input_ended && emitted == read); });
      if (failed) break;
      if (!done.contains(emitted)) break;  // input ended and all emitted
      Out out = std::move(done.at(emitted));
      done.erase(emitted);
      lock.unlock();
      emit(std::move(out));
      lock.lock();
      ++emitted;
      changed.notify_all();
    }
  } catch (...) {
    fail(std::current_exception());
  }
  // The reader may be blocked inside next() (e.g. reading stdin) after a failure; it ends with its input.
  threads.clear();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace digits
