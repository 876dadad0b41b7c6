// The examples of README.md (its Examples section) and of every man page (EXAMPLES) run as
// written, as jq runs its manual's examples: a renamed option, a moved file or a changed answer
// breaks this test rather than a reader's first try.
//
// How the examples are read:
// - README.md: the ```sh blocks between "## Examples" and the next "## " heading; man pages: the
//   .nf/.fi blocks of .SH EXAMPLES, roff escapes undone. A line ending in \ goes on on the next.
// - A line NAME=VALUE (B=build/bin) is kept and put before every later command of the document.
// - Lines "# → OUTPUT" right after a command are what it prints, a line each; the command's
//   output must be those lines, blanks inside a line compared as one space (a TAB in
//   `--format text` reads as a space) and blanks at the ends ignored. Commands without them must
//   only exit 0.
// - A command whose comment says "(not run in tests: REASON)" is not run: it needs the network, runs until
//   stopped, trains for minutes or needs data of the reader's own. Its programs and their options
//   are still checked against the programs' --help.
//
// How they run: with bash -o pipefail, one command at a time in the order written, from a scratch
// copy of the repository root (examples/ and models/ copied; data/mnist/ linked file by file, so a
// command that writes there replaces links, not the real files; build/bin/ linked to this build's
// binaries) with those binaries first on PATH, as after `make install`. Two things differ from a
// reader's machine, so that runs in parallel never meet: /tmp/ in a command is the scratch copy's
// tmp/, and http://localhost:5000 (the server of `make run`) is a digits-serve this test starts
// on a free port.

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "support.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

using namespace digits;

namespace {

struct Example {
  std::string command;
  std::vector<std::string> expected;  // output lines, when given
  bool checked = false;               // whether "# →" lines were given (possibly none)
  std::string not_run;                // the reason, when it is not run
};

struct Document {
  std::vector<std::string> prelude;  // NAME=VALUE lines
  std::vector<Example> examples;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return {};
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// Blanks inside a line as one space, none at the ends.
std::string squeeze(const std::string& s) { return std::regex_replace(trim(s), std::regex(R"([ \t]+)"), " "); }

const std::string arrow = "# \xe2\x86\x92";  // "# →"

// Adds the commands of one block of example lines to `doc`.
void read_block(const std::vector<std::string>& block, Document& doc) {
  const std::regex assignment(R"(^[A-Za-z_][A-Za-z0-9_]*=\S*$)");
  const std::regex not_run(R"(\(not run in tests: ([^)]+)\))");
  std::string pending;
  for (const auto& raw : block) {
    std::string line = trim(raw);
    if (!pending.empty()) {
      line = trim(pending) + " " + line;
      pending.clear();
    }
    if (line.ends_with("\\")) {
      pending = line.substr(0, line.size() - 1);
      continue;
    }
    if (line.empty()) continue;
    if (line.starts_with(arrow)) {
      REQUIRE_MESSAGE(!doc.examples.empty(), "output given before any command: " << line);
      doc.examples.back().checked = true;
      doc.examples.back().expected.push_back(squeeze(line.substr(arrow.size())));
      continue;
    }
    if (line.starts_with("#")) continue;  // a comment of its own
    if (std::regex_match(line, assignment)) {
      doc.prelude.push_back(line);
      continue;
    }
    Example e;
    e.command = line;
    std::smatch m;
    if (std::regex_search(line, m, not_run)) e.not_run = m[1];
    doc.examples.push_back(e);
  }
  REQUIRE_MESSAGE(pending.empty(), "a block ends in a continued line: " << pending);
}

Document readme_examples() {
  const auto lines = lines_of(read_file(test::source_dir / "README.md"));
  Document doc;
  bool in_section = false, in_block = false;
  std::vector<std::string> block;
  for (const auto& line : lines) {
    if (!in_block && line.starts_with("## ")) in_section = line == "## Examples";
    if (!in_section) continue;
    if (!in_block && line == "```sh") {
      in_block = true;
      block.clear();
    } else if (in_block && line.starts_with("```")) {
      in_block = false;
      read_block(block, doc);
    } else if (in_block) {
      block.push_back(line);
    }
  }
  return doc;
}

// A man page line as the reader sees it.
std::string unroff(std::string s) {
  s = std::regex_replace(s, std::regex(R"(\\f[BIRP])"), "");
  s = std::regex_replace(s, std::regex(R"(\\-)"), "-");
  s = std::regex_replace(s, std::regex(R"(\\\(dq)"), "\"");
  s = std::regex_replace(s, std::regex(R"(\\\(aq)"), "'");
  s = std::regex_replace(s, std::regex(R"(\\\(ti)"), "~");
  s = std::regex_replace(s, std::regex(R"(\\\(->)"), "\xe2\x86\x92");  // →
  s = std::regex_replace(s, std::regex(R"(\\\(rs)"), "\\");
  s = std::regex_replace(s, std::regex(R"(\\e)"), "\\");
  s = std::regex_replace(s, std::regex(R"(\\&)"), "");
  return s;
}

Document man_examples(const fs::path& page) {
  Document doc;
  bool in_section = false, in_block = false;
  std::vector<std::string> block;
  for (const auto& line : lines_of(read_file(page))) {
    if (line.starts_with(".SH")) in_section = trim(line.substr(3)) == "EXAMPLES";
    if (!in_section) continue;
    if (line == ".nf") {
      in_block = true;
      block.clear();
    } else if (line == ".fi") {
      in_block = false;
      read_block(block, doc);
    } else if (in_block) {
      block.push_back(unroff(line));
    }
  }
  return doc;
}

// The repository root as a command sees it, with the server of `make run` on demand.
class Scratch {
 public:
  Scratch() {
    const fs::path root = dir_.path();
    fs::create_directories(root / "build");
    fs::create_directory_symlink(test::bin_dir, root / "build" / "bin");
    fs::copy(test::source_dir / "examples", root / "examples", fs::copy_options::recursive);
    fs::copy(test::source_dir / "models", root / "models", fs::copy_options::recursive);
    fs::create_directories(root / "data" / "mnist");
    for (const auto& entry : fs::directory_iterator(test::source_dir / "data" / "mnist"))
      fs::create_symlink(entry.path(), root / "data" / "mnist" / entry.path().filename());
    fs::create_directories(root / "tmp");
    fs::create_directories(root / "home");
  }
  const fs::path& root() const { return dir_.path(); }

  std::string server_address() {
    if (!server_) {
      server_ = std::make_unique<test::Background>(std::vector<std::string>{
          (test::bin_dir / "digits-serve").string(), "--port", "0", "--quiet", "--model",
          (test::source_dir / "models" / "digits-cnn.model").string()});
      REQUIRE(server_->wait_for("(Ctrl-C stops)", 30));
      std::smatch m;
      const std::string err = server_->err();
      REQUIRE(std::regex_search(err, m, std::regex(R"(http://(127\.0\.0\.1:\d+))")));
      address_ = m[1];
    }
    return address_;
  }

 private:
  TempDir dir_;
  std::unique_ptr<test::Background> server_;
  std::string address_;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// The long options each of our programs' --help lists.
const std::map<std::string, std::set<std::string>>& known_options() {
  static const auto options = [] {
    std::map<std::string, std::set<std::string>> all;
    const std::regex option(R"((^|[\s,])(--[a-z][a-z0-9-]+))");
    for (const auto& name : test::binaries()) {
      const std::string help = test::run_binary(name, {"--help"}).out;
      for (auto it = std::sregex_iterator(help.begin(), help.end(), option); it != std::sregex_iterator(); ++it)
        all[name].insert((*it)[2]);
    }
    return all;
  }();
  return options;
}

// For a command not run: each of our programs it names exists and is given only options it has.
// Returns what is wrong, if anything.
std::vector<std::string> check_names(const std::string& command) {
  std::vector<std::string> problems;
  const std::regex word(R"(\S+)");
  std::string program;
  for (auto it = std::sregex_iterator(command.begin(), command.end(), word); it != std::sregex_iterator(); ++it) {
    std::string w = it->str();
    if (w == "#") break;
    if (w == "|" || w == "&&" || w == ";") {
      program.clear();
      continue;
    }
    const std::string base = fs::path(w).filename().string();
    if (base.starts_with("digits-") && w.find('.') == std::string::npos) {
      if (!known_options().contains(base)) problems.push_back(fmt::format("{}\n  no program {}", command, base));
      program = base;
    } else if (!program.empty() && w.starts_with("--") && known_options().contains(program)) {
      w = w.substr(0, w.find('='));
      if (!known_options().at(program).contains(w))
        problems.push_back(fmt::format("{}\n  {} has no option {}", command, program, w));
    }
  }
  return problems;
}

struct Tally {
  int run = 0, checked = 0, not_run = 0;
  std::vector<std::string> failures;  // one message per command that failed or printed otherwise
};

std::string joined_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "\n    " + line;
  return out;
}

Tally run_examples(const Document& doc, Scratch& scratch) {
  Tally tally;
  const char* path = std::getenv("PATH");
  std::string prelude;
  for (const auto& line : doc.prelude) prelude += line + "\n";
  for (const auto& e : doc.examples) {
    if (!e.not_run.empty()) {
      for (auto& problem : check_names(e.command)) tally.failures.push_back(std::move(problem));
      ++tally.not_run;
      continue;
    }
    std::string command = replace_all(e.command, "/tmp/", (scratch.root() / "tmp").string() + "/");
    if (command.find("localhost:5000") != std::string::npos)
      command = replace_all(command, "localhost:5000", scratch.server_address());
    ProcessOptions options;
    options.cwd = scratch.root();
    options.timeout = std::chrono::minutes(5);
    const auto r = run_process({"env", "PATH=" + test::bin_dir.string() + ":" + (path ? path : "/usr/bin:/bin"),
                                "HOME=" + (scratch.root() / "home").string(), "bash", "--norc", "-o", "pipefail", "-c",
                                prelude + command},
                               options);
    ++tally.run;
    if (r.exit_code != 0)
      tally.failures.push_back(fmt::format("{}\n  exit status {}{}\n  stderr:{}", e.command, r.exit_code,
                                           r.timed_out ? " (timed out)" : "", joined_lines(lines_of(r.err))));
    if (e.checked) {
      std::vector<std::string> got;
      for (const auto& line : lines_of(r.out)) got.push_back(squeeze(line));
      if (got != e.expected)
        tally.failures.push_back(fmt::format("{}\n  expected:{}\n  printed:{}", e.command, joined_lines(e.expected),
                                             joined_lines(got)));
      ++tally.checked;
    }
  }
  return tally;
}

void report(const Tally& t) {
  for (const auto& failure : t.failures) FAIL_CHECK(failure);
}

}  // namespace

TEST_SUITE("examples") {
  TEST_CASE("the README's examples run as written") {
    REQUIRE(fs::exists(test::source_dir / "data/mnist/t10k-images-idx3-ubyte"));
    const Document doc = readme_examples();
    Scratch scratch;
    const Tally t = run_examples(doc, scratch);
    report(t);
    MESSAGE(t.run << " run (" << t.checked << " with their output), " << t.not_run << " not run");
    // The section cannot quietly go missing or lose its answers.
    CHECK(t.run >= 8);
    CHECK(t.checked >= 3);
    CHECK(t.not_run <= 2);
  }

  TEST_CASE("every man page's examples run as written") {
    REQUIRE(fs::exists(test::source_dir / "data/mnist/t10k-images-idx3-ubyte"));
    std::set<fs::path> pages;
    for (const auto& entry : fs::directory_iterator(test::source_dir / "man"))
      if (entry.path().extension() == ".1") pages.insert(entry.path());
    REQUIRE(pages.size() == test::binaries().size());
    Tally all;
    for (const auto& page : pages) {
      CAPTURE(page.filename().string());
      const Document doc = man_examples(page);
      CHECK(doc.examples.size() >= 2);  // every page has an EXAMPLES section
      Scratch scratch;
      const Tally t = run_examples(doc, scratch);
      report(t);
      all.run += t.run;
      all.checked += t.checked;
      all.not_run += t.not_run;
    }
    MESSAGE(all.run << " run (" << all.checked << " with their output), " << all.not_run << " not run");
    CHECK(all.checked >= 3);
  }

  TEST_CASE("examples/ is what make-examples.sh makes and its README lists it") {
    // The pictures are remade from the committed script and compared: the truth exactly, the
    // pixels nearly (another CPU may round a blur or a JPEG's colours otherwise by a level).
    const TempDir tmp;
    const auto r = run_process({"env", "DIGITS_GEN_IMAGES=" + (test::bin_dir / "digits-gen-images").string(),
                                "DIGITS_MNIST=" + (test::source_dir / "data" / "mnist").string(),
                                (test::source_dir / "examples" / "make-examples.sh").string(), tmp.path().string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const fs::path examples = test::source_dir / "examples";
    CHECK(read_file(tmp.path() / "truth.jsonl") == read_file(examples / "truth.jsonl"));
    const std::string readme = read_file(examples / "README.md");
    std::uintmax_t bytes = 0;
    int pictures = 0;
    for (const auto& line : lines_of(read_file(examples / "truth.jsonl"))) {
      const auto truth = nlohmann::json::parse(line);
      const std::string name = truth["image"];
      CAPTURE(name);
      ++pictures;
      bytes += fs::file_size(examples / name);
      const cv::Mat committed = cv::imread((examples / name).string(), cv::IMREAD_UNCHANGED);
      const cv::Mat remade = cv::imread((tmp.path() / name).string(), cv::IMREAD_UNCHANGED);
      REQUIRE_FALSE(committed.empty());
      REQUIRE(remade.size() == committed.size());
      REQUIRE(remade.type() == committed.type());
      cv::Mat difference;
      cv::absdiff(committed, remade, difference);
      CHECK(cv::mean(difference.reshape(1))[0] < 0.5);
      // The README names each picture and its true digits.
      CHECK(readme.find("`" + name + "`") != std::string::npos);
      std::string text = truth["text"];
      text = replace_all(text, "\n", "` / `");
      CHECK(readme.find("`" + text + "`") != std::string::npos);
    }
    CHECK(pictures >= 6);
    CHECK(bytes < 300 * 1000);  // the repository stays small
  }

  TEST_CASE("a wrong answer or a failing command is caught") {
    // The reading and checking themselves, on a made-up document.
    Document doc;
    read_block({"B=/bin", "$B/echo '557  3035'", arrow + " 557 3035", "printf 'a\\tb\\n'", arrow + " a b",
                "echo 42", arrow + " 43", "false | cat", "no-such-program \\", "  --option",
                "true  # (not run in tests: demo)",
                "digits-train --epochs 3 --no-such-option   # (not run in tests: demo)",
                "digits-trian --epochs 3   # (not run in tests: demo)"},
               doc);
    REQUIRE(doc.examples.size() == 8);
    CHECK(doc.prelude == std::vector<std::string>{"B=/bin"});
    CHECK(doc.examples[0].expected == std::vector<std::string>{"557 3035"});
    CHECK(doc.examples[4].command == "no-such-program --option");
    CHECK(doc.examples[5].not_run == "demo");
    Scratch scratch;
    const Tally t = run_examples(doc, scratch);
    CHECK(t.run == 5);
    CHECK(t.checked == 3);
    CHECK(t.not_run == 3);
    // 43 is not 42; a pipe's failing first stage; no such program; and in the commands not run,
    // an option digits-train lacks and a misspelt program.
    REQUIRE(t.failures.size() == 5);
    CHECK(t.failures[0].starts_with("echo 42"));
    CHECK(t.failures[1].starts_with("false | cat"));
    CHECK(t.failures[2].starts_with("no-such-program"));
    CHECK(t.failures[3].ends_with("digits-train has no option --no-such-option"));
    CHECK(t.failures[4].ends_with("no program digits-trian"));
  }
}
