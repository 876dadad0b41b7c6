#include "recognise/model.hpp"

#include "base/codec.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/system.hpp"
#include "io/records.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace digits {

// File layout (all integers little-endian):
//   "DIGITSNN"  u32 version  u32 header_bytes  header (JSON)  u64 weight_bytes  weights (float32)
//   SHA-256 of everything before it (32 bytes).
// The JSON header names the layers and their sizes; the weights follow in layer order,
// each layer's weights then its bias.

namespace {

constexpr std::string_view magic = "DIGITSNN";
constexpr std::size_t digest_bytes = 32;
static_assert(std::endian::native == std::endian::little, "model files are little-endian; add byte swapping");

using json = nlohmann::ordered_json;

template <typename T>
void append_le(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T read_le(std::string_view bytes, std::size_t at) {
  T value{};
  std::memcpy(&value, bytes.data() + at, sizeof value);
  return value;
}

Layer::Kind kind_from_name(const std::string& name, std::string_view where) {
  for (const auto kind : {Layer::Kind::conv, Layer::Kind::relu, Layer::Kind::maxpool, Layer::Kind::dense,
                          Layer::Kind::softmax})
    if (layer_kind_name(kind) == name) return kind;
  throw Error(fmt::format("{}: unknown layer type \"{}\"", where, name));
}

std::size_t weight_count(const Layer& l) {
  switch (l.kind) {
    case Layer::Kind::conv: return std::size_t(l.out_channels) * l.in_channels * l.kernel * l.kernel;
    case Layer::Kind::dense: return std::size_t(l.outputs) * l.inputs;
    default: return 0;
  }
}

std::size_t bias_count(const Layer& l) {
  switch (l.kind) {
    case Layer::Kind::conv: return std::size_t(l.out_channels);
    case Layer::Kind::dense: return std::size_t(l.outputs);
    default: return 0;
  }
}

json layer_json(const Layer& l) {
  json j{{"type", layer_kind_name(l.kind)}};
  switch (l.kind) {
    case Layer::Kind::conv:
      j.update({{"in", l.in_channels}, {"out", l.out_channels}, {"kernel", l.kernel}, {"pad", l.pad}});
      break;
    case Layer::Kind::maxpool: j["size"] = l.size; break;
    case Layer::Kind::dense: j.update({{"in", l.inputs}, {"out", l.outputs}}); break;
    default: break;
  }
  return j;
}

int small_int(const json& j, const char* key, std::string_view where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 1'000'000)
    throw Error(fmt::format("{}: layer field \"{}\" missing or out of range", where, key));
  return it->get<int>();
}

Layer layer_from_json(const json& j, std::string_view where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(fmt::format("{}: a layer without a type", where));
  Layer l;
  l.kind = kind_from_name(j["type"].get<std::string>(), where);
  switch (l.kind) {
    case Layer::Kind::conv:
      l.in_channels = small_int(j, "in", where);
      l.out_channels = small_int(j, "out", where);
      l.kernel = small_int(j, "kernel", where);
      l.pad = small_int(j, "pad", where);
      break;
    case Layer::Kind::maxpool: l.size = small_int(j, "size", where); break;
    case Layer::Kind::dense:
      l.inputs = small_int(j, "in", where);
      l.outputs = small_int(j, "out", where);
      break;
    default: break;
  }
  // Bounds that keep every size computation below far from overflow, whatever the file says.
  if (l.kernel > 31 || l.size > 28) throw Error(fmt::format("{}: implausible kernel or pool size", where));
  return l;
}

}  // namespace

std::string layer_kind_name(Layer::Kind kind) {
  switch (kind) {
    case Layer::Kind::conv: return "conv";
    case Layer::Kind::relu: return "relu";
    case Layer::Kind::maxpool: return "maxpool";
    case Layer::Kind::dense: return "dense";
    case Layer::Kind::softmax: return "softmax";
  }
  return "?";
}

std::size_t Model::parameter_count() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += weight_count(l) + bias_count(l);
  return n;
}

int Model::outputs() const { return shapes().back().channels; }

std::vector<Shape> Model::shapes() const {
  std::vector<Shape> out;
  Shape s{1, crop_side, crop_side};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const auto bad = [&](std::string_view why) { return Error(fmt::format("layer {} ({}): {}", i, layer_kind_name(l.kind), why)); };
    switch (l.kind) {
      case Layer::Kind::conv:
        if (l.in_channels != s.channels) throw bad(fmt::format("expects {} channels, gets {}", l.in_channels, s.channels));
        if (l.kernel < 1 || l.out_channels < 1) throw bad("empty kernel");
        // Padding wider than the kernel only adds borders of zeros; a forged pad of 300,000 once
        // made a 461-byte file ask inference for gigabytes.
        if (l.pad > l.kernel) throw bad(fmt::format("padding {} wider than the kernel {}", l.pad, l.kernel));
        s = {l.out_channels, s.height + 2 * l.pad - l.kernel + 1, s.width + 2 * l.pad - l.kernel + 1};
        if (s.height < 1 || s.width < 1) throw bad("kernel larger than its input");
        break;
      case Layer::Kind::maxpool:
        if (l.size < 1 || s.height % l.size != 0 || s.width % l.size != 0)
          throw bad(fmt::format("{}x{} does not divide by {}", s.height, s.width, l.size));
        s = {s.channels, s.height / l.size, s.width / l.size};
        break;
      case Layer::Kind::dense:
        if (std::size_t(l.inputs) != s.size()) throw bad(fmt::format("expects {} inputs, gets {}", l.inputs, s.size()));
        if (l.outputs < 1) throw bad("no outputs");
        s = {l.outputs, 1, 1};
        break;
      default: break;
    }
    // Inference allocates every layer's output for a batch of crops: bounded before any allocation.
    if (s.size() > max_activation_values)
      throw bad(fmt::format("{}x{}x{} outputs per crop, over the limit of {}", s.channels, s.height, s.width,
                            max_activation_values));
    if (l.weights.size() != weight_count(l) || l.bias.size() != bias_count(l))
      throw bad(fmt::format("holds {}+{} weights, needs {}+{}", l.weights.size(), l.bias.size(), weight_count(l), bias_count(l)));
    out.push_back(s);
  }
  if (out.empty() || (out.back() != Shape{10, 1, 1} && out.back() != Shape{not_digit_class + 1, 1, 1}))
    throw Error("the network does not end in 10 outputs (or 11, with not-a-digit)");
  if (layers.back().kind != Layer::Kind::softmax) throw Error("the network does not end in softmax");
  return out;
}

std::string encode_model(const Model& model) {
  model.shapes();  // refuse to write what could not be read back
  json layers = json::array();
  for (const auto& l : model.layers) layers.push_back(layer_json(l));
  const json header{{"format", model_format_version},
                    {"architecture", model.architecture},
                    {"input", {{"scale", model.input_scale}, {"offset", model.input_offset}}},
                    {"parameters", model.parameter_count()},
                    {"layers", std::move(layers)},
                    {"info", model.info}};
  const std::string header_text = header.dump();
  std::string out(magic);
  append_le<std::uint32_t>(out, model_format_version);
  append_le<std::uint32_t>(out, static_cast<std::uint32_t>(header_text.size()));
  out += header_text;
  append_le<std::uint64_t>(out, model.parameter_count() * sizeof(float));
  for (const auto& l : model.layers) {
    out.append(reinterpret_cast<const char*>(l.weights.data()), l.weights.size() * sizeof(float));
    out.append(reinterpret_cast<const char*>(l.bias.data()), l.bias.size() * sizeof(float));
  }
  const std::string digest = sha256_hex(out);
  for (std::size_t i = 0; i < digest_bytes; ++i)
    out.push_back(static_cast<char>(std::stoi(digest.substr(2 * i, 2), nullptr, 16)));
  return out;
}

Model decode_model(std::string_view bytes, std::string_view name) {
  const auto fail = [&](std::string_view why) { return Error(fmt::format("{}: {}", name, why)); };
  if (bytes.size() > max_model_bytes) throw fail("too large to be a digits model");
  if (bytes.size() < magic.size() || bytes.substr(0, magic.size()) != magic)
    throw fail("not a digits model file (no DIGITSNN signature)");
  const std::size_t fixed = magic.size() + 4 + 4;
  if (bytes.size() < fixed + 8 + digest_bytes) throw fail("truncated model file");
  const auto version = read_le<std::uint32_t>(bytes, magic.size());
  if (version != model_format_version)
    throw fail(fmt::format("model format version {}, this build reads version {}", version, model_format_version));
  const auto header_bytes = read_le<std::uint32_t>(bytes, magic.size() + 4);
  if (std::size_t{header_bytes} > bytes.size() - fixed - 8 - digest_bytes) throw fail("truncated model file (header)");

  // Checked before parsing anything else: a damaged file stops here with a plain message.
  const std::string_view body = bytes.substr(0, bytes.size() - digest_bytes);
  const std::string digest = sha256_hex(body);
  for (std::size_t i = 0; i < digest_bytes; ++i)
    if (static_cast<unsigned char>(bytes[body.size() + i]) != std::stoi(digest.substr(2 * i, 2), nullptr, 16))
      throw fail("checksum mismatch: the model file is truncated or corrupt");

  json header;
  try {
    header = json::parse(bytes.substr(fixed, header_bytes));
  } catch (const json::exception& e) {
    throw fail(fmt::format("bad model header: {}", e.what()));
  }
  Model model;
  try {
    model.architecture = header.at("architecture").get<std::string>();
    model.input_scale = header.at("input").at("scale").get<float>();
    model.input_offset = header.at("input").at("offset").get<float>();
    model.info = header.value("info", json::object());
    const auto& layers = header.at("layers");
    if (!layers.is_array() || layers.size() > 64) throw fail("bad model header: \"layers\" must be an array of at most 64");
    for (const auto& lj : layers) model.layers.push_back(layer_from_json(lj, name));
  } catch (const json::exception& e) {
    throw fail(fmt::format("bad model header: {}", e.what()));
  }

  const std::size_t weights_at = fixed + header_bytes + 8;
  const auto weight_bytes = read_le<std::uint64_t>(bytes, fixed + header_bytes);
  std::size_t expected = 0;
  for (const auto& l : model.layers) expected += (weight_count(l) + bias_count(l)) * sizeof(float);
  if (weight_bytes != expected || weights_at + weight_bytes != body.size())
    throw fail(fmt::format("weights take {} bytes, the layers need {}", weight_bytes, expected));
  std::size_t at = weights_at;
  for (auto& l : model.layers) {
    l.weights.resize(weight_count(l));
    l.bias.resize(bias_count(l));
    for (auto* v : {&l.weights, &l.bias}) {
      // An empty vector's data() may be null, and memcpy from or to null is undefined even for 0 bytes.
      if (!v->empty()) std::memcpy(v->data(), bytes.data() + at, v->size() * sizeof(float));
      at += v->size() * sizeof(float);
      for (const float w : *v)
        if (!std::isfinite(w)) throw fail("a weight is not a finite number");
    }
  }
  try {
    model.shapes();
  } catch (const Error& e) {
    throw fail(e.what());
  }
  return model;
}

Model load_model(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_model_bytes) throw Error(fmt::format("{}: too large to be a digits model", path.string()));
  return decode_model(read_file(path, max_model_bytes), path.string());
}

void save_model(const std::filesystem::path& path, const Model& model) { write_file_atomic(path, encode_model(model)); }

std::filesystem::path default_model_path() {
  constexpr const char* shipped = "digits-cnn.model";
  if (const char* env = std::getenv("DIGITS_MODEL"); env != nullptr && *env != '\0') {
    if (!std::filesystem::is_regular_file(env)) throw Error(fmt::format("DIGITS_MODEL={}: no such model file", env));
    return env;
  }
  std::vector<std::filesystem::path> candidates;
  if (const auto exe = executable_path(); !exe.empty()) {
    const auto bin = exe.parent_path();
    candidates.push_back(bin.parent_path() / "share" / "digits" / "models" / shipped);  // installed: PREFIX/bin
    candidates.push_back(bin.parent_path().parent_path() / "models" / shipped);        // build tree: build/bin
  }
  candidates.push_back(std::filesystem::path(DIGITS_INSTALL_DATADIR) / "models" / shipped);
  candidates.push_back(std::filesystem::path(DIGITS_SOURCE_DIR) / "models" / shipped);
  for (const auto& c : candidates)
    if (std::filesystem::is_regular_file(c)) return c;
  std::vector<std::string> where;
  for (const auto& c : candidates) where.push_back(c.string());
  throw Error(fmt::format("no model found (looked for {}); train one with `make model` or pass --model PATH",
                          fmt::join(where, ", ")));
}

}  // namespace digits
