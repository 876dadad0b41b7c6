#include "base/files.hpp"

#include "base/error.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

namespace digits {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Unique enough for temporaries in one directory: pid plus a random tag.
std::string unique_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(::getpid())};
  return fmt::format("{}-{:08x}", ::getpid(), rng() & 0xffffffffU);
}

}  // namespace

namespace {
// Closes the descriptor however the read ends.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};
}  // namespace

std::string read_file(const fs::path& path, std::size_t max_bytes) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error(fmt::format("{}: is a directory, not a file", path.string()));
  const Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), errno_text()));
  const auto too_large = [&] {
    return TooLarge(fmt::format("{}: more than {} bytes, over the limit for this kind of file", path.string(), max_bytes));
  };
  struct stat st {};
  std::string bytes;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    // A regular file says its size: refuse before reading, and read it into one allocation.
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) throw too_large();
    bytes.reserve(static_cast<std::size_t>(st.st_size));
  }
  std::array<char, 1 << 16> chunk{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), errno_text()));
    if (n == 0) break;
    // Checked before appending, so a stream without end costs at most the limit.
    if (static_cast<std::size_t>(n) > max_bytes - bytes.size()) throw too_large();
    bytes.append(chunk.data(), static_cast<std::size_t>(n));
  }
  return bytes;
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  temp_ = dir / fmt::format(".{}.tmp-{}", target_.filename().string(), unique_suffix());
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove(temp_, ignored);
  }
}

void AtomicFile::commit() {
  // fsync before rename so a crash cannot leave the new name pointing at empty blocks.
  if (const int fd = ::open(temp_.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec) throw Error(fmt::format("cannot write {}: {}", target_.string(), ec.message()));
  committed_ = true;
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("cannot write {}: {}", path.string(), errno_text()));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(fmt::format("cannot write {}: {}", path.string(), errno_text()));
  }
  file.commit();
}

TempDir::TempDir(const fs::path& parent, std::string_view prefix) {
  std::string pattern = (parent / fmt::format("{}XXXXXX", prefix)).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw Error(fmt::format("cannot create a temporary directory in {}: {}", parent.string(), errno_text()));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace digits
