#pragma once
// Bounds on the work of reading one picture, so that no picture (a page of noise, an upload made
// to be slow) holds a thread for long: the CPU time it may take, and how many candidate digits the
// classifier may read in it. Both are checked where the work can stop: between the steps of
// segmentation and in their long loops. Past either, the picture is refused (TooLarge): never
// read in part, which would lose digits without saying so.

#include <cstddef>
#include <cstdint>
#include <ctime>

namespace digits {

// A moment in the CPU time of the thread that set it. CPU time rather than the wall clock: on a
// loaded machine a request waiting for a core is not charged for the wait, so load alone refuses
// no picture. All of a picture's work is on that thread when OpenCV runs its loops on the caller's
// thread (cv::setNumThreads(1), as digits-serve and digits-classify set it); what OpenCV spreads
// over threads of its own is not counted, so the bound is only looser there.
class Deadline {
 public:
  Deadline() = default;  // none: never passes
  // `seconds` of the calling thread's CPU time from now; 0 (or less) has passed already.
  explicit Deadline(double seconds);

  bool passed() const;
  // Throws TooLarge once passed: the picture needs more work than it may have.
  void check() const;

 private:
  clockid_t clock_ = CLOCK_THREAD_CPUTIME_ID;
  double seconds_ = 0;
  std::int64_t end_ = -1;  // in the clock's nanoseconds; -1: none
};

// The work of reading one picture so far, against its bounds: its deadline, and the candidate
// digits the judge may read (SegmentOptions::max_judged).
class Work {
 public:
  Work(const Deadline& deadline, std::size_t max_judged) : deadline_(deadline), max_judged_(max_judged) {}

  void check() const { deadline_.check(); }
  // One more crop for the judge, counted before it is made: throws TooLarge past the bound. Looks
  // at the deadline every so often too (a crop and its reading take a fraction of a millisecond;
  // the clock, a system call, a microsecond).
  void judging();
  std::size_t judged() const { return judged_; }

 private:
  Deadline deadline_;
  std::size_t max_judged_;
  std::size_t judged_ = 0;
};

}  // namespace digits
