#include "base/codec.hpp"

#include "base/error.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <array>
#include <memory>

namespace digits {

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    throw Error("SHA-256 failed in libcrypto");
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string base64_encode(std::string_view bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  text.resize(static_cast<std::size_t>(n));
  return text;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw Error(fmt::format("invalid base64: length {} is not a multiple of 4", text.size()));
  std::string bytes(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw Error("invalid base64: characters outside the alphabet");
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '=' && size > 0; --i) --size;
  bytes.resize(size);
  return bytes;
}

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

namespace {
struct InflateStream {
  z_stream z{};
  InflateStream() {
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw Error("zlib: cannot start decompression");
  }
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;
  ~InflateStream() { inflateEnd(&z); }
};
struct DeflateStream {
  z_stream z{};
  DeflateStream() {
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw Error("zlib: cannot start compression");
  }
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;
  ~DeflateStream() { deflateEnd(&z); }
};
}  // namespace

std::string gunzip(std::string_view bytes, std::string_view what, std::size_t max_bytes) {
  InflateStream s;
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  s.z.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  std::array<char, 1 << 16> chunk{};
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    s.z.next_out = reinterpret_cast<Bytef*>(chunk.data());
    s.z.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&s.z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      if (rc == Z_BUF_ERROR) throw Error(fmt::format("{}: truncated gzip stream", what));
      throw Error(fmt::format("{}: corrupt gzip stream ({})", what, s.z.msg != nullptr ? s.z.msg : "zlib error"));
    }
    const std::size_t n = chunk.size() - s.z.avail_out;
    if (n > max_bytes - out.size())
      throw TooLarge(fmt::format("{}: decompresses to more than {} bytes, over the limit", what, max_bytes));
    out.append(chunk.data(), n);
  }
  return out;
}

std::string gzip(std::string_view bytes) {
  DeflateStream s;
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  s.z.avail_in = static_cast<uInt>(bytes.size());
  std::string out(deflateBound(&s.z, static_cast<uLong>(bytes.size())) + 64, '\0');
  s.z.next_out = reinterpret_cast<Bytef*>(out.data());
  s.z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&s.z, Z_FINISH) != Z_STREAM_END) throw Error("zlib: compression failed");
  out.resize(s.z.total_out);
  return out;
}

}  // namespace digits
