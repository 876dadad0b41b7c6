#include <doctest/doctest.h>

#include "base/codec.hpp"
#include "base/error.hpp"

using namespace digits;

TEST_SUITE("codec") {
  TEST_CASE("SHA-256 matches the standard test vectors") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  TEST_CASE("base64 round-trips every padding length and binary bytes") {
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
      CHECK(base64_decode(base64_encode(bytes)) == bytes);
      bytes.push_back(static_cast<char>(i * 37));
    }
    CHECK(base64_encode("Man") == "TWFu");
    CHECK(base64_encode("Ma") == "TWE=");
    CHECK(base64_encode("M") == "TQ==");
  }

  TEST_CASE("invalid base64 is an error") {
    CHECK_THROWS_AS(base64_decode("abc"), Error);
    CHECK_THROWS_AS(base64_decode("ab!d"), Error);
  }

  TEST_CASE("gzip round-trips and detects its own magic") {
    const std::string text(100000, 'x');
    const std::string packed = gzip(text);
    CHECK(is_gzip(packed));
    CHECK_FALSE(is_gzip(text));
    CHECK(packed.size() < text.size() / 10);
    CHECK(gunzip(packed, "t", 1 << 20) == text);
    std::string corrupt = packed;
    corrupt[20] = static_cast<char>(corrupt[20] ^ 0x55);
    CHECK_THROWS_AS(gunzip(corrupt, "t", 1 << 20), Error);
  }

  TEST_CASE("gunzip stops at its limit, before the output grows past it") {
    const std::string bomb = gzip(std::string(8 << 20, '\0'));  // 8 MB of zeros in a few kB
    CHECK(bomb.size() < 64 << 10);
    CHECK(gunzip(bomb, "t", 8 << 20).size() == std::size_t{8} << 20);
    CHECK_THROWS_WITH_AS(gunzip(bomb, "t", (8 << 20) - 1), doctest::Contains("over the limit"), TooLarge);
    CHECK_THROWS_AS(gunzip(bomb, "t", 1 << 20), TooLarge);
  }
}
