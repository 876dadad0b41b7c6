// The layout of lib/ (docs/ARCHITECTURE.md): each module includes only itself and the modules
// before it, so the folders read as the pipeline and no change can make a cycle unnoticed.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace fs = std::filesystem;

namespace {

// base <- io <- segment <- recognise <- {train, serve} <- tool; digits.hpp, the installed API, on top.
const std::map<std::string, int> module_rank = {{"base", 0},  {"io", 1},    {"segment", 2}, {"recognise", 3},
                                                {"train", 4}, {"serve", 4}, {"tool", 5}};

}  // namespace

TEST_SUITE("layout") {
  TEST_CASE("every include in lib/ points to its own module or one before it") {
    const fs::path lib = fs::path(DIGITS_SOURCE_DIR) / "lib";
    const std::regex include(R"(^\s*#\s*include\s*"([a-z_]+)/[^"]+")");
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(lib)) {
      if (!entry.is_regular_file()) continue;
      const fs::path relative = fs::relative(entry.path(), lib);
      const std::string module = relative.has_parent_path() ? relative.begin()->string() : "";
      CAPTURE(relative.string());
      // A file at lib/'s top is the installed API's entry point; every other file is in a module.
      const bool api = module.empty();
      if (api) REQUIRE_MESSAGE(relative == "digits.hpp", "a file at lib/'s top that is in no module");
      else REQUIRE_MESSAGE(module_rank.contains(module), "a folder of lib/ that is no module: " << module);
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include) || !module_rank.contains(m[1].str())) continue;
        const std::string target = m[1].str();
        CAPTURE(n);
        CAPTURE(line);
        if (api) continue;
        const int from = module_rank.at(module), to = module_rank.at(target);
        CHECK_MESSAGE((to < from || target == module), relative.string() << " (" << module << ") includes " << target);
      }
      ++files;
    }
    CHECK(files > 40);
  }

  TEST_CASE("no source file of lib/ grows past what one reader takes in") {
    // About 500 lines: past that a file holds more than one stage or subsystem (segment.cpp once
    // held seven in 1,346 lines); split it along its stages instead.
    constexpr int max_lines = 550;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(DIGITS_SOURCE_DIR) / "lib")) {
      if (!entry.is_regular_file() || entry.path().extension() != ".cpp") continue;
      std::ifstream in(entry.path());
      int lines = 0;
      for (std::string line; std::getline(in, line);) ++lines;
      CAPTURE(entry.path().string());
      CHECK(lines <= max_lines);
    }
  }
}
