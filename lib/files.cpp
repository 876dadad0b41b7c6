#include "files.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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

std::string read_file(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error(fmt::format("{}: is a directory, not a file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read {}: {}", path.string(), errno_text()));
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw Error(fmt::format("cannot read {}: {}", path.string(), errno_text()));
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
