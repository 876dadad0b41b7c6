#pragma once
// Reading members out of tar archives (.tgz, .tar.gz, .tar) with libarchive.

#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace digits {

// Every regular member whose path `wanted` accepts, by member path, in memory.
// Throws Error naming the archive when it cannot be read.
std::map<std::string, std::string> read_archive_members(const std::filesystem::path& archive,
                                                        const std::function<bool(const std::string&)>& wanted);

bool looks_like_archive(const std::filesystem::path& path);

}  // namespace digits
