#include <doctest/doctest.h>

#include "base/error.hpp"
#include "base/files.hpp"
#include "io/dataset.hpp"
#include "support.hpp"
#include "tool/fetch.hpp"

using namespace digits;

namespace {
FetchOptions from(const fs::path& source, const fs::path& dir, bool verify = false, std::string name = "tiny") {
  FetchOptions o;
  o.from = source;
  o.dir = dir;
  o.verify = verify;
  o.name = std::move(name);
  return o;
}
bool empty_or_missing(const fs::path& dir) { return !fs::exists(dir) || fs::is_empty(dir); }
}  // namespace

TEST_SUITE("fetch") {
  TEST_CASE("a data set whose checksums do not match MNIST is refused and nothing is installed") {
    const TempDir tmp;
    test::write_tiny_dataset(tmp.path() / "src", 20, 10);
    const auto target = tmp.path() / "data" / "mnist";
    try {
      fetch_dataset(from(tmp.path() / "src", target, true, "mnist"));
      FAIL("expected a checksum error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("SHA-256 mismatch") != std::string::npos);
    }
    CHECK(empty_or_missing(target));
  }

  TEST_CASE("--no-verify installs another IDX set from raw or gzip files and is idempotent") {
    for (const bool gz : {false, true}) {
      const TempDir tmp;
      test::write_tiny_dataset(tmp.path() / "src", 20, 10, gz);
      const auto target = tmp.path() / "tiny";
      const auto summary = fetch_dataset(from(tmp.path() / "src", target));
      CHECK(summary.train == 20);
      CHECK(summary.test == 10);
      CHECK_FALSE(summary.verified);
      CHECK_FALSE(summary.already_present);
      const Dataset d = load_dataset(target);  // installed decompressed
      CHECK(d.train.count() == 20);
      CHECK(d.test.images.pixels == test::tiny_images(10, 3).pixels);
      const auto again = fetch_dataset(from(tmp.path() / "src", target));
      CHECK(again.already_present);
      CHECK(std::distance(fs::directory_iterator(target), fs::directory_iterator()) == 4);
    }
  }

  TEST_CASE("a .tgz archive with the files anywhere inside is accepted") {
    const TempDir tmp;
    test::write_tiny_dataset(tmp.path() / "package" / "data", 12, 6);
    const auto tar = run_process({"tar", "czf", (tmp.path() / "set.tgz").string(), "-C", tmp.path().string(), "package"});
    REQUIRE(tar.exit_code == 0);
    const auto summary = fetch_dataset(from(tmp.path() / "set.tgz", tmp.path() / "out"));
    CHECK(summary.train == 12);
    CHECK(load_dataset(tmp.path() / "out").test.count() == 6);
  }

  TEST_CASE("a damaged installed file is fetched again and not trusted") {
    const TempDir tmp;
    test::write_tiny_dataset(tmp.path() / "src", 20, 10);
    const auto target = tmp.path() / "tiny";
    fetch_dataset(from(tmp.path() / "src", target));
    write_file_atomic(target / "t10k-labels-idx1-ubyte", "garbage");
    const auto summary = fetch_dataset(from(tmp.path() / "src", target));
    CHECK_FALSE(summary.already_present);
    CHECK(load_dataset(target).test.count() == 10);
  }

  TEST_CASE("bad sources are errors that say what is missing or wrong") {
    const TempDir tmp;
    test::write_tiny_dataset(tmp.path() / "src", 20, 10);
    fs::remove(tmp.path() / "src" / "t10k-labels-idx1-ubyte");
    CHECK_THROWS_WITH_AS(fetch_dataset(from(tmp.path() / "src", tmp.path() / "out")),
                         doctest::Contains("no t10k-labels-idx1-ubyte"), Error);
    CHECK_THROWS_AS(fetch_dataset(from(tmp.path() / "nowhere", tmp.path() / "out")), Error);
    write_idx(tmp.path() / "src" / "t10k-labels-idx1-ubyte", test::tiny_labels(9, 1));
    CHECK_THROWS_WITH_AS(fetch_dataset(from(tmp.path() / "src", tmp.path() / "out")),
                         doctest::Contains("10 images but 9 labels"), Error);
    CHECK(empty_or_missing(tmp.path() / "out"));
    write_file_atomic(tmp.path() / "junk.tgz", "not an archive");
    CHECK_THROWS_AS(fetch_dataset(from(tmp.path() / "junk.tgz", tmp.path() / "out")), Error);
  }

  TEST_CASE("--no-verify without a name of its own is a usage error") {
    const TempDir tmp;
    CHECK_THROWS_AS(fetch_dataset(from(tmp.path(), tmp.path() / "out", false, "mnist")), UsageError);
    CHECK_THROWS_AS(fetch_dataset(from(tmp.path(), tmp.path() / "out", false, "../x")), UsageError);
  }
}
