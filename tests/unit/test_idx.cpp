#include <doctest/doctest.h>

#include "base/codec.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "io/idx.hpp"
#include "support.hpp"

#include <functional>

using namespace digits;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}
bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_SUITE("idx") {
  TEST_CASE("images and labels survive a round trip both raw and gzip") {
    const TempDir tmp;
    const IdxImages images = test::tiny_images(7, 11);
    const IdxLabels labels = test::tiny_labels(7, 12);
    for (const char* ext : {"", ".gz"}) {
      const auto ip = tmp.path() / (std::string("img") + ext);
      const auto lp = tmp.path() / (std::string("lbl") + ext);
      write_idx(ip, images);
      write_idx(lp, labels);
      CHECK(is_gzip(read_file(ip)) == (std::string(ext) == ".gz"));
      const auto back = read_idx_images(ip);
      CHECK(back.count() == 7);
      CHECK(back.rows == 28);
      CHECK(back.cols == 28);
      CHECK(back.pixels == images.pixels);
      CHECK(read_idx_labels(lp).labels == labels.labels);
    }
  }

  TEST_CASE("the header is big-endian and exactly as MNIST writes it") {
    IdxImages images;
    images.rows = 2;
    images.cols = 3;
    images.pixels = {1, 2, 3, 4, 5, 6};
    const std::string bytes = encode_idx(images);
    REQUIRE(bytes.size() == 16 + 6);
    CHECK(bytes.substr(0, 16) == std::string("\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03", 16));
    CHECK(parse_idx_images(bytes, "x").image(0)[5] == 6);
  }

  TEST_CASE("every corruption is an error naming the file and the defect") {
    const std::string good = encode_idx(test::tiny_images(3, 1));
    const std::string labels = encode_idx(test::tiny_labels(3, 1));

    CHECK(contains(error_of([&] { parse_idx_images("", "f.idx"); }), "f.idx: empty file"));
    CHECK(contains(error_of([&] { parse_idx_images("PK\x03\x04zzzzzzzzzzzzzz", "f.idx"); }), "bad magic"));
    CHECK(contains(error_of([&] { parse_idx_images(labels, "labels.idx"); }), "1 dimensions"));
    CHECK(contains(error_of([&] { parse_idx_labels(good, "images.idx"); }), "3 dimensions"));
    std::string float_type = good;
    float_type[2] = 0x0d;
    CHECK(contains(error_of([&] { parse_idx_images(float_type, "f.idx"); }), "not supported"));
    CHECK(contains(error_of([&] { parse_idx_images(good.substr(0, good.size() - 1), "f.idx"); }), "truncated"));
    CHECK(contains(error_of([&] { parse_idx_images(good.substr(0, 10), "f.idx"); }), "truncated header"));
    CHECK(contains(error_of([&] { parse_idx_images(good + "x", "f.idx"); }), "unexpected bytes"));
    std::string zero_count = good.substr(0, 16);
    zero_count[7] = 0;
    CHECK(contains(error_of([&] { parse_idx_images(zero_count, "f.idx"); }), "holds no images"));
    std::string huge = good;
    huge[8] = 0x7f;  // rows = 0x7f00001c
    CHECK(contains(error_of([&] { parse_idx_images(huge, "f.idx"); }), "implausible"));
    const std::string gz = gzip(good);
    CHECK(contains(error_of([&] { parse_idx_images(gz.substr(0, gz.size() / 2), "f.gz"); }), "truncated gzip"));
  }

  TEST_CASE("reading a missing file says which") {
    CHECK(contains(error_of([] { read_idx_labels("/nonexistent/labels"); }), "/nonexistent/labels"));
  }
}
