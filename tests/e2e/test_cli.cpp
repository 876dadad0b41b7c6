// Every binary behaves the same at the edges: --help, --version, bad usage, its man page.

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "support.hpp"

#include <regex>
#include <set>

using namespace digits;

namespace {

// The man page as plain text: font escapes dropped, \- turned into -.
std::string man_text(const std::string& file) {
  std::string text = read_file(test::source_dir / "man" / file);
  text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
  text = std::regex_replace(text, std::regex(R"(\\f\(..)"), "");
  return std::regex_replace(text, std::regex(R"(\\-)"), "-");
}

std::set<std::string> long_options(const std::string& help) {
  std::set<std::string> options;
  const std::regex option(R"((^|[\s,])(--[a-z][a-z0-9-]+))");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), option); it != std::sregex_iterator(); ++it)
    options.insert((*it)[2]);
  return options;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("every binary answers --help and --version with exit 0") {
    REQUIRE_FALSE(test::binaries().empty());
    for (const auto& name : test::binaries()) {
      CAPTURE(name);
      const auto help = test::run_binary(name, {"--help"});
      CHECK(help.exit_code == 0);
      CHECK(help.out.find("Usage: " + name) != std::string::npos);
      const auto version = test::run_binary(name, {"--version"});
      CHECK(version.exit_code == 0);
      CHECK(version.out.starts_with(name + " "));
    }
  }

  TEST_CASE("an unknown option is bad usage: exit 2 and one line on stderr") {
    for (const auto& name : test::binaries()) {
      CAPTURE(name);
      const auto r = test::run_binary(name, {"--no-such-option"});
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(test::line_count(r.err) == 1);
      CHECK(r.err.starts_with(name + ": error: "));
    }
  }

  TEST_CASE("every long option in --help is documented in the binary's man page") {
    for (const auto& name : test::binaries()) {
      CAPTURE(name);
      const std::string man = man_text(name + ".1");
      const auto options = long_options(test::run_binary(name, {"--help"}).out);
      CHECK(options.contains("--help"));
      for (const auto& option : options) {
        CAPTURE(option);
        CHECK(man.find(option) != std::string::npos);
      }
      CHECK(man.find("EXIT STATUS") != std::string::npos);
    }
  }

  TEST_CASE("the overview page names every binary") {
    const std::string overview = man_text("digits.7");
    for (const auto& name : test::binaries()) CHECK(overview.find(name) != std::string::npos);
  }
}
