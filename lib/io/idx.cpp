#include "io/idx.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "base/files.hpp"

#include <fmt/format.h>

#include <array>

namespace digits {

namespace {

constexpr std::uint8_t unsigned_byte_type = 0x08;

std::uint32_t read_be32(std::string_view bytes, std::size_t at) {
  return (std::uint32_t{static_cast<std::uint8_t>(bytes[at])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(bytes[at + 1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(bytes[at + 2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(bytes[at + 3])};
}

void append_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Checks the header of an IDX file with `dims` dimensions and returns them,
// after checking that the payload is exactly as long as they say.
std::vector<std::uint32_t> parse_header(std::string_view bytes, std::string_view name, std::uint8_t dims,
                                        std::string_view kind) {
  if (bytes.empty()) throw Error(fmt::format("{}: empty file", name));
  if (bytes.size() < 4) throw Error(fmt::format("{}: truncated: {} bytes, too short for an IDX header", name, bytes.size()));
  const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  if (b(0) != 0 || b(1) != 0)
    throw Error(fmt::format("{}: bad magic number {:02x}{:02x}{:02x}{:02x}: not an IDX file", name, b(0), b(1), b(2), b(3)));
  if (b(2) != unsigned_byte_type)
    throw Error(fmt::format("{}: IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)", name, b(2)));
  if (b(3) != dims)
    throw Error(fmt::format("{}: IDX file has {} dimensions; {} files have {}", name, b(3), kind, dims));
  const std::size_t header = 4 + 4 * std::size_t{dims};
  if (bytes.size() < header) throw Error(fmt::format("{}: truncated header ({} of {} bytes)", name, bytes.size(), header));
  std::vector<std::uint32_t> sizes;
  std::uint64_t payload = 1;
  for (std::uint8_t d = 0; d < dims; ++d) {
    sizes.push_back(read_be32(bytes, 4 + 4 * std::size_t{d}));
    payload *= sizes.back();
  }
  if (sizes.front() == 0) throw Error(fmt::format("{}: holds no {}", name, kind));
  for (std::size_t d = 1; d < sizes.size(); ++d)
    if (sizes[d] == 0 || sizes[d] > 4096)
      throw Error(fmt::format("{}: implausible image size {} in dimension {}", name, sizes[d], d));
  const std::uint64_t have = bytes.size() - header;
  if (have < payload)
    throw Error(fmt::format("{}: truncated: header promises {} {} ({} bytes of data) but only {} bytes follow", name,
                            sizes.front(), kind, payload, have));
  if (have > payload)
    throw Error(fmt::format("{}: {} unexpected bytes after the {} {} the header promises", name, have - payload,
                            sizes.front(), kind));
  return sizes;
}

std::string maybe_gunzip(std::string_view bytes, std::string_view name) {
  return is_gzip(bytes) ? gunzip(bytes, name, max_idx_bytes) : std::string(bytes);
}

}  // namespace

IdxImages parse_idx_images(std::string_view raw, std::string_view name) {
  const std::string bytes = maybe_gunzip(raw, name);
  const auto dims = parse_header(bytes, name, 3, "images");
  IdxImages images;
  images.rows = dims[1];
  images.cols = dims[2];
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

IdxLabels parse_idx_labels(std::string_view raw, std::string_view name) {
  const std::string bytes = maybe_gunzip(raw, name);
  parse_header(bytes, name, 1, "labels");
  IdxLabels labels;
  labels.labels.assign(bytes.begin() + 8, bytes.end());
  return labels;
}

IdxImages read_idx_images(const std::filesystem::path& path) {
  return parse_idx_images(read_file(path, max_idx_bytes), path.string());
}
IdxLabels read_idx_labels(const std::filesystem::path& path) {
  return parse_idx_labels(read_file(path, max_idx_bytes), path.string());
}

std::string encode_idx(const IdxImages& images) {
  std::string out;
  out.reserve(16 + images.pixels.size());
  out.append({0, 0, static_cast<char>(unsigned_byte_type), 3});
  append_be32(out, static_cast<std::uint32_t>(images.count()));
  append_be32(out, images.rows);
  append_be32(out, images.cols);
  out.append(reinterpret_cast<const char*>(images.pixels.data()), images.pixels.size());
  return out;
}

std::string encode_idx(const IdxLabels& labels) {
  std::string out;
  out.reserve(8 + labels.labels.size());
  out.append({0, 0, static_cast<char>(unsigned_byte_type), 1});
  append_be32(out, static_cast<std::uint32_t>(labels.count()));
  out.append(reinterpret_cast<const char*>(labels.labels.data()), labels.labels.size());
  return out;
}

namespace {
void write_encoded(const std::filesystem::path& path, const std::string& bytes) {
  write_file_atomic(path, path.extension() == ".gz" ? gzip(bytes) : bytes);
}
}  // namespace

void write_idx(const std::filesystem::path& path, const IdxImages& images) { write_encoded(path, encode_idx(images)); }
void write_idx(const std::filesystem::path& path, const IdxLabels& labels) { write_encoded(path, encode_idx(labels)); }

}  // namespace digits
