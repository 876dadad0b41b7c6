#pragma once
// What the process knows about itself: memory used, signals received, where it lives.

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <string>

namespace digits {

// Peak resident set size of this process so far, in bytes (0 when unknown).
std::size_t peak_rss_bytes();

// Installs handlers for SIGINT and SIGTERM that set the returned flag. A second signal
// after the first ends the process at once, so a stuck shutdown can still be interrupted.
const std::atomic<bool>& stop_on_signals();

// The running executable's path (from /proc/self/exe); empty when unknown.
std::filesystem::path executable_path();

// Keeps freed memory in the process for reuse. Every image passes through buffers of a few MB
// that the allocator would otherwise hand back to the kernel and fault in again, zeroed, for
// the next image (measured: a tenth of the time of a small image).
void keep_freed_memory();

// Who runs OpenCV's kernels: its own thread pool, or only the calling thread (when our workers or
// request threads are the parallelism, a pool per thread would only fight them for the cores).
enum class KernelThreads { opencv, caller };

// Sets OpenCV up for a digits program: its log lines silenced (an input's problem is told in one
// line of ours) and its kernels on the threads `threads` says.
void configure_opencv(KernelThreads threads);

// argv joined back into one shell-like line, for the record of how something was made.
std::string command_line(int argc, char** argv);

}  // namespace digits
