// The bash completion (completions/digits.bash) against the programs themselves: every option a
// program's --help lists is offered and nothing else, and options that take one of a few words
// offer exactly those. Bash runs the completion function as it would on TAB, with COMP_WORDS set.

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "support.hpp"

#include <regex>
#include <set>
#include <sstream>

using namespace digits;

namespace {

const fs::path script = test::source_dir / "completions" / "digits.bash";

// What bash offers on TAB after `words` (the last one being completed), run in `cwd`. The function
// is the one `complete -p` names for the program, so a program the file does not register fails.
std::set<std::string> complete(const std::vector<std::string>& words, const fs::path& cwd = test::source_dir) {
  std::vector<std::string> argv{"bash", "--norc", "-c", R"(
    source "$1" || exit 1
    shift
    spec=$(complete -p "$1") || exit 1
    function=$(sed -n 's/.*-F \([^ ]*\).*/\1/p' <<<"$spec")
    [[ -n $function ]] || exit 1
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    "$function" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}"
  )", "bash", script.string()};
  argv.insert(argv.end(), words.begin(), words.end());
  ProcessOptions options;
  options.cwd = cwd;
  const auto r = run_process(argv, options);
  INFO("bash: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> offered;
  std::stringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) offered.insert(line);
  return offered;
}

struct HelpOption {
  std::vector<std::string> names;  // e.g. -h and --help
  std::set<std::string> words;     // the values of an option shown as a|b|c
};

// The options of a CLI11 --help: lines "  -h,--help  ..." or "  --format json|text|csv  ...".
std::vector<HelpOption> help_options(const std::string& help) {
  std::vector<HelpOption> options;
  std::stringstream in(help);
  const std::regex line_re(R"(^\s+(-[^\s]+)(?:\s(\S+))?)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, line_re)) continue;
    HelpOption o;
    std::stringstream names(m[1].str());
    for (std::string name; std::getline(names, name, ',');) o.names.push_back(name);
    const std::string value = m[2].str();
    if (value.find('|') != std::string::npos) {
      std::stringstream words(value);
      for (std::string word; std::getline(words, word, '|');) o.words.insert(word);
    }
    options.push_back(o);
  }
  return options;
}

std::string joined(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

TEST_SUITE("completion") {
  TEST_CASE("every binary completes exactly the options of its --help") {
    REQUIRE_FALSE(test::binaries().empty());
    for (const auto& name : test::binaries()) {
      CAPTURE(name);
      const auto help = test::run_binary(name, {"--help"});
      REQUIRE(help.exit_code == 0);
      std::set<std::string> expected;
      for (const auto& o : help_options(help.out)) expected.insert(o.names.begin(), o.names.end());
      REQUIRE(expected.contains("--help"));
      const auto offered = complete({name, "-"});
      CHECK(joined(offered) == joined(expected));
      // A prefix narrows the choice.
      for (const auto& option : complete({name, "--h"})) CHECK(option.starts_with("--h"));
    }
  }

  TEST_CASE("options shown with a list of words complete those words") {
    int lists = 0;
    for (const auto& name : test::binaries()) {
      for (const auto& o : help_options(test::run_binary(name, {"--help"}).out)) {
        if (o.words.empty()) continue;
        ++lists;
        const std::string& option = o.names.back();
        CAPTURE(name);
        CAPTURE(option);
        CHECK(joined(complete({name, option, ""})) == joined(o.words));
        CHECK(joined(complete({name, option + "=" + *o.words.begin()})) == *o.words.begin());
      }
    }
    CHECK(lists >= 5);  // --format, --invert (three programs), --keep, --augment
    CHECK(joined(complete({"digits-classify", "--format", "c"})) == "csv");
  }

  TEST_CASE("the architectures and image kinds are the programs' own") {
    const std::string help = test::run_binary("digits-train", {"--help"}).out;
    std::set<std::string> archs;
    const std::regex arch(R"(cnn-[a-z0-9-]*[0-9])");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), arch); it != std::sregex_iterator(); ++it)
      archs.insert(it->str());
    REQUIRE(archs.size() >= 3);
    CHECK(joined(complete({"digits-train", "--arch", ""})) == joined(archs));

    const auto kinds = test::run_binary("digits-gen-images", {"--list-classes"});
    REQUIRE(kinds.exit_code == 0);
    std::set<std::string> listed;
    std::stringstream in(kinds.out);
    for (std::string kind; std::getline(in, kind);) listed.insert(kind);
    CHECK(joined(complete({"digits-gen-images", "--class", ""})) == joined(listed));
  }

  TEST_CASE("models images and folders complete as files of their kind") {
    const TempDir tmp;
    fs::create_directories(tmp.path() / "scans");
    for (const char* file : {"a.model", "b.png", "c.JPG", "notes.txt", "d.json"}) write_file_atomic(tmp.path() / file, "x");
    CHECK(joined(complete({"digits-classify", "--model", ""}, tmp.path())) == "a.model scans");
    CHECK(joined(complete({"digits-serve", "--model="}, tmp.path())) == "a.model scans");
    CHECK(joined(complete({"digits-train", "--evaluate", ""}, tmp.path())) == "a.model scans");
    CHECK(joined(complete({"digits-classify", ""}, tmp.path())) == "b.png c.JPG scans");
    CHECK(joined(complete({"digits-segment", "--invert", "no", ""}, tmp.path())) == "b.png c.JPG scans");
    CHECK(joined(complete({"digits-segment", "--debug", ""}, tmp.path())) == "scans");
    CHECK(joined(complete({"digits-classify", "s"}, tmp.path())) == "scans");
    // Options that take a number offer nothing rather than file names.
    CHECK(complete({"digits-classify", "--jobs", ""}, tmp.path()).empty());
    // Programs with no file arguments offer none.
    CHECK(complete({"digits-serve", ""}, tmp.path()).empty());
  }
}
