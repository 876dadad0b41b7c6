#pragma once
// Byte encodings the formats need: SHA-256 for data checks, base64 for crops in JSON,
// gzip for IDX files. All of them from packaged libraries (libcrypto, zlib).

#include <cstddef>
#include <string>
#include <string_view>

namespace digits {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

std::string base64_encode(std::string_view bytes);
// Throws Error on characters outside the base64 alphabet or a bad length.
std::string base64_decode(std::string_view text);

bool is_gzip(std::string_view bytes);
// Throws Error (mentioning `what`) when the stream is corrupt or truncated, TooLarge as soon as
// the output would pass `max_bytes` (a megabyte of gzip can inflate to a gigabyte).
std::string gunzip(std::string_view bytes, std::string_view what, std::size_t max_bytes);
std::string gzip(std::string_view bytes);

}  // namespace digits
