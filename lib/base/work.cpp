#include "base/work.hpp"

#include "base/error.hpp"

#include <fmt/format.h>

#include <pthread.h>

#include <cmath>

namespace digits {

namespace {

std::int64_t now(clockid_t clock) {
  timespec t{};
  if (::clock_gettime(clock, &t) != 0) throw Error("cannot read the CPU time of the thread reading the picture");
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

Deadline::Deadline(double seconds) : seconds_(seconds) {
  // The thread's own clock, so that the deadline means this thread's time wherever it is checked.
  if (::pthread_getcpuclockid(::pthread_self(), &clock_) != 0) clock_ = CLOCK_THREAD_CPUTIME_ID;
  end_ = seconds > 0 ? now(clock_) + static_cast<std::int64_t>(std::ceil(seconds * 1e9)) : 0;
}

bool Deadline::passed() const { return end_ >= 0 && now(clock_) >= end_; }

void Deadline::check() const {
  if (passed())
    throw TooLarge(fmt::format("reading the picture takes more than {:g} s of CPU time, over the limit (--work-timeout)", seconds_));
}

void Work::judging() {
  // How often the deadline is looked at while crops are made and read: every 64, a few ms of work.
  constexpr std::size_t check_every = 64;
  if (++judged_ > max_judged_)
    throw TooLarge(fmt::format("more than {} candidate digits to read, over the limit: far more than a page of writing "
                               "holds (is it noise?)",
                               max_judged_));
  if (judged_ % check_every == 0) check();
}

}  // namespace digits
