#pragma once
// A trained network as data: its layers and float weights, and the file that carries them.
//
// The file is ours, not tiny-dnn's cereal archive: tiny-dnn is only the trainer, and a
// format we define can be validated completely (magic, version, shapes, lengths, checksum)
// before a single weight is used, so a wrong, truncated or foreign file is an error, not a crash.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace digits {

inline constexpr std::uint32_t model_format_version = 1;
inline constexpr std::size_t max_model_bytes = 64u << 20;  // far above any model we train
// Values one layer may output per crop: 20x the largest of the shipped net (16x28x28), so a model
// file cannot make a batch of inference (32 crops) ask for more than 32 MB a layer.
inline constexpr std::size_t max_activation_values = std::size_t{1} << 18;
// A network ends in 10 outputs, the digits, or 11: the 11th is "not one digit" (two touching
// digits, a digit with part of its neighbour), which segmentation uses to tell where digits part.
inline constexpr int not_digit_class = 10;

struct Layer {
  enum class Kind { conv, relu, maxpool, dense, softmax };
  Kind kind = Kind::relu;
  int in_channels = 0, out_channels = 0, kernel = 0, pad = 0;  // conv: square kernel, stride 1
  int size = 0;                                                // maxpool: size x size, stride size
  int inputs = 0, outputs = 0;                                 // dense
  std::vector<float> weights;  // conv: [out][in][ky][kx]; dense: [out][in]
  std::vector<float> bias;     // conv: [out]; dense: [out]
};

struct Shape {
  int channels = 0, height = 0, width = 0;
  std::size_t size() const { return std::size_t(channels) * height * width; }
  friend bool operator==(const Shape&, const Shape&) = default;
};

struct Model {
  std::string architecture;                 // the recipe's name, e.g. "cnn-16-32-128"
  float input_scale = 1.0f / 255.0f;        // the net sees pixel * input_scale + input_offset
  float input_offset = 0.0f;
  std::vector<Layer> layers;
  nlohmann::ordered_json info = nlohmann::ordered_json::object();  // summary of the model card

  std::size_t parameter_count() const;
  int outputs() const;  // 10, or 11 with the not-one-digit output
  // The shape after each layer, from a 1x28x28 input; throws Error when the layers do not fit together.
  std::vector<Shape> shapes() const;
};

std::string layer_kind_name(Layer::Kind kind);

std::string encode_model(const Model& model);
// `name` is what error messages call the file.
Model decode_model(std::string_view bytes, std::string_view name);

Model load_model(const std::filesystem::path& path);
void save_model(const std::filesystem::path& path, const Model& model);  // atomic

// The shipped model: $DIGITS_MODEL if set, else models/digits-cnn.model beside the binary's
// install prefix or build tree, else the source tree's. Throws Error saying where it looked.
std::filesystem::path default_model_path();

}  // namespace digits
