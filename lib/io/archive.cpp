#include "io/archive.hpp"

#include "base/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <memory>

namespace digits {

namespace {
struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
}  // namespace

bool looks_like_archive(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  for (const char* suffix : {".tgz", ".tar.gz", ".tar"})
    if (name.ends_with(suffix)) return true;
  return false;
}

std::map<std::string, std::string> read_archive_members(const std::filesystem::path& archive,
                                                        const std::function<bool(const std::string&)>& wanted) {
  const std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  const auto fail = [&](std::string_view what) {
    const char* why = archive_error_string(a.get());
    return Error(fmt::format("{}: {}: {}", archive.string(), what, why != nullptr ? why : "unknown error"));
  };
  if (archive_read_open_filename(a.get(), archive.c_str(), 1 << 16) != ARCHIVE_OK) throw fail("cannot open archive");

  std::map<std::string, std::string> members;
  struct archive_entry* entry = nullptr;
  for (;;) {
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) throw fail("corrupt archive");
    const std::string name = archive_entry_pathname(entry);
    if (archive_entry_filetype(entry) != AE_IFREG || !wanted(name)) continue;
    std::string bytes;
    std::array<char, 1 << 16> chunk{};
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
      if (n < 0) throw fail(fmt::format("cannot read member {}", name));
      if (n == 0) break;
      bytes.append(chunk.data(), static_cast<std::size_t>(n));
    }
    members.emplace(name, std::move(bytes));
  }
  return members;
}

}  // namespace digits
