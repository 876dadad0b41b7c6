#pragma once
// Whole-file I/O that never leaves a partial file behind, and scratch directories that clean up.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace digits {

namespace fs = std::filesystem;

// What read_file takes when its caller names no limit: far above any file this project reads
// from trusted places (tests, its own models and data), still a bound.
inline constexpr std::size_t default_max_file_bytes = std::size_t{1} << 30;

// The whole file as bytes; throws Error naming the path on failure, TooLarge when it holds more
// than `max_bytes`. The bound holds for what is not a regular file too (a FIFO, /dev/zero, a
// character device): those are read only up to it. Callers reading untrusted input pass their own.
std::string read_file(const fs::path& path, std::size_t max_bytes = default_max_file_bytes);

// Writes to a temporary file beside `path`, flushes it, then renames it over `path`,
// so readers see the old file or the new one, never half of one.
void write_file_atomic(const fs::path& path, std::string_view bytes);

// A file being written under a temporary name; commit() renames it into place,
// destruction without commit() removes it.
class AtomicFile {
 public:
  explicit AtomicFile(fs::path target);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  const fs::path& temp_path() const { return temp_; }
  void commit();

 private:
  fs::path target_;
  fs::path temp_;
  bool committed_ = false;
};

// A fresh directory removed with its contents when the object dies.
class TempDir {
 public:
  explicit TempDir(const fs::path& parent = fs::temp_directory_path(), std::string_view prefix = "digits-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace digits
