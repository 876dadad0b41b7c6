#include <doctest/doctest.h>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/process.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <future>

using namespace digits;

namespace {
std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST_SUITE("files") {
  TEST_CASE("an atomic write replaces the file and leaves no temporary") {
    const TempDir tmp;
    const auto path = tmp.path() / "out.bin";
    write_file_atomic(path, "first");
    write_file_atomic(path, "second");
    CHECK(read_file(path) == "second");
    CHECK(entries(tmp.path()) == 1);
  }

  TEST_CASE("an uncommitted AtomicFile leaves nothing behind") {
    const TempDir tmp;
    {
      AtomicFile file(tmp.path() / "model.bin");
      write_file_atomic(file.temp_path(), "partial");
      CHECK(entries(tmp.path()) == 1);
    }
    CHECK(entries(tmp.path()) == 0);
  }

  TEST_CASE("TempDir removes itself with its contents") {
    fs::path where;
    {
      const TempDir tmp;
      where = tmp.path();
      write_file_atomic(where / "a", "x");
      CHECK(fs::exists(where / "a"));
    }
    CHECK_FALSE(fs::exists(where));
  }

  TEST_CASE("reading a directory or a missing file is an Error") {
    const TempDir tmp;
    CHECK_THROWS_AS(read_file(tmp.path()), Error);
    CHECK_THROWS_AS(read_file(tmp.path() / "missing"), Error);
  }

  TEST_CASE("a file is read up to its limit, a device or a pipe without end too") {
    const TempDir tmp;
    write_file_atomic(tmp.path() / "ten", "0123456789");
    CHECK(read_file(tmp.path() / "ten", 10) == "0123456789");
    CHECK_THROWS_WITH_AS(read_file(tmp.path() / "ten", 9), doctest::Contains("over the limit"), TooLarge);
    // /dev/zero says no size and never ends: the bound alone stops it.
    CHECK_THROWS_AS(read_file("/dev/zero", 1 << 20), TooLarge);
    // A FIFO fed more than the limit by a writer that would go on for ever.
    const auto fifo = tmp.path() / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto writer = std::async(std::launch::async, [&] {
      run_process({"sh", "-c", fmt::format("head -c 3000000 /dev/zero > '{}'", fifo.string())},
                  {.cwd = {}, .input = {}, .timeout = std::chrono::seconds(10)});
    });
    CHECK_THROWS_AS(read_file(fifo, 1 << 20), TooLarge);
  }
}

TEST_SUITE("process") {
  TEST_CASE("a program's stdout and stderr and stdin and exit code are all carried") {
    const auto r = run_process({"sh", "-c", "cat; echo oops >&2; exit 3"}, {.cwd = {}, .input = "hello\n"});
    CHECK(r.out == "hello\n");
    CHECK(r.err == "oops\n");
    CHECK(r.exit_code == 3);
  }

  TEST_CASE("large output on both streams does not deadlock") {
    const auto r = run_process({"sh", "-c", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2"});
    CHECK(r.out.size() == 3000000);
    CHECK(r.err.size() == 3000000);
  }

  TEST_CASE("a missing program is an Error and a slow one is killed at the time limit") {
    CHECK_THROWS_AS(run_process({"no-such-program-digits"}), Error);
    const auto r = run_process({"sleep", "20"}, {.cwd = {}, .input = {}, .timeout = std::chrono::milliseconds(200)});
    CHECK(r.timed_out);
    CHECK(r.exit_code == -1);
  }
}
