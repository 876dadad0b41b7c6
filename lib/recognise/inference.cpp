#include "recognise/inference.hpp"

#include "base/error.hpp"

#include <fmt/format.h>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace digits {

namespace {

// Measured (bench-classify): 32 to 128 run equally fast, 512 is 8% slower (activations leave the cache).
constexpr int batch_size = 32;

cv::Mat blob(std::vector<int> shape, const std::vector<float>& values) {
  cv::Mat m(shape, CV_32F);
  std::copy(values.begin(), values.end(), m.ptr<float>());
  return m;
}

cv::dnn::Net build_net(const Model& model) {
  model.shapes();  // validated again: a Model built in memory never went through decode_model
  cv::dnn::Net net;
  int index = 0;
  for (const auto& l : model.layers) {
    const std::string name = fmt::format("{}{}", layer_kind_name(l.kind), index++);
    cv::dnn::LayerParams p;
    p.name = name;
    switch (l.kind) {
      case Layer::Kind::conv:
        p.type = "Convolution";
        p.set("kernel_size", l.kernel);
        p.set("num_output", l.out_channels);
        p.set("pad", l.pad);
        p.set("bias_term", true);
        p.blobs = {blob({l.out_channels, l.in_channels, l.kernel, l.kernel}, l.weights), blob({1, l.out_channels}, l.bias)};
        break;
      case Layer::Kind::relu: p.type = "ReLU"; break;
      case Layer::Kind::maxpool:
        p.type = "Pooling";
        p.set("pool", "max");
        p.set("kernel_size", l.size);
        p.set("stride", l.size);
        p.set("ceil_mode", false);
        break;
      case Layer::Kind::dense:
        p.type = "InnerProduct";
        p.set("num_output", l.outputs);
        p.set("bias_term", true);
        p.set("axis", 1);  // flattens channels, rows, columns in that order, as tiny-dnn does
        p.blobs = {blob({l.outputs, l.inputs}, l.weights), blob({1, l.outputs}, l.bias)};
        break;
      case Layer::Kind::softmax: p.type = "Softmax"; break;
    }
    net.addLayerToPrev(name, p.type, p);
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

// The readings of recent crops. Segmentation judges a digit's crop while deciding where digits
// part, and classifying then reads the same crop again: the second reading is looked up. (The
// forward pass gives each crop the same result whatever batch it runs in, bit for bit.)
class RecentReadings {
 public:
  struct Reading {
    Crop crop;
    Probabilities digits;
    float not_digit;
  };

  static std::size_t key(const Crop& crop) {
    return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(crop.data()), crop.size()));
  }

  const Reading* find(std::size_t key, const Crop& crop) const {
    const auto it = index_.find(key);
    return it != index_.end() && entries_[it->second].crop == crop ? &entries_[it->second] : nullptr;
  }

  void add(std::size_t key, const Crop& crop, const Probabilities& digits, float not_digit) {
    if (entries_.size() == capacity) entries_.clear(), index_.clear();
    index_[key] = entries_.size();
    entries_.push_back({crop, digits, not_digit});
  }

 private:
  static constexpr std::size_t capacity = 256;  // more than a page of digits and its candidates

  std::vector<Reading> entries_;
  std::unordered_map<std::size_t, std::size_t> index_;
};

}  // namespace

struct Recogniser::Impl {
  cv::dnn::Net net;
  float scale, offset;
  int outputs;
  cv::Mat input;  // reused between calls: no allocation per crop
  bool recall;
  RecentReadings recent;
  std::vector<std::size_t> unread, keys;  // reused between calls
};

Recogniser::Recogniser(const Model& model, Recall recall)
    : impl_(std::make_unique<Impl>(Impl{build_net(model), model.input_scale, model.input_offset, model.outputs(), {},
                                        recall == Recall::recent, {}, {}, {}})) {}
Recogniser::Recogniser(Recogniser&&) noexcept = default;
Recogniser& Recogniser::operator=(Recogniser&&) noexcept = default;
Recogniser::~Recogniser() = default;

void Recogniser::probabilities(std::span<const Crop> crops, std::span<Probabilities> out, std::span<float> not_digit) {
  if (crops.size() != out.size()) throw Error("Recogniser: as many outputs as crops are needed");
  if (!not_digit.empty() && not_digit.size() != out.size()) throw Error("Recogniser: as many not-digit outputs as crops are needed");
  auto& unread = impl_->unread;
  auto& keys = impl_->keys;
  unread.clear();
  keys.assign(impl_->recall ? crops.size() : 0, 0);
  for (std::size_t i = 0; i < crops.size(); ++i) {
    if (impl_->recall) {
      keys[i] = RecentReadings::key(crops[i]);
      if (const auto* known = impl_->recent.find(keys[i], crops[i])) {
        out[i] = known->digits;
        if (!not_digit.empty()) not_digit[i] = known->not_digit;
        continue;
      }
    }
    unread.push_back(i);
  }
  for (std::size_t start = 0; start < unread.size(); start += batch_size) {
    const int n = static_cast<int>(std::min<std::size_t>(batch_size, unread.size() - start));
    if (impl_->input.empty() || impl_->input.size[0] != n) impl_->input.create({n, 1, crop_side, crop_side}, CV_32F);
    float* in = impl_->input.ptr<float>();
    for (int i = 0; i < n; ++i)
      for (const std::uint8_t v : crops[unread[start + static_cast<std::size_t>(i)]]) *in++ = v * impl_->scale + impl_->offset;
    impl_->net.setInput(impl_->input);
    const cv::Mat result = impl_->net.forward();
    for (int i = 0; i < n; ++i) {
      const std::size_t c = unread[start + static_cast<std::size_t>(i)];
      const float* p = result.ptr<float>(i);
      auto& digits = out[c];
      std::copy_n(p, 10, digits.begin());
      const float other = impl_->outputs > not_digit_class ? p[not_digit_class] : 0.0f;
      if (other > 0) {
        double sum = 0;
        for (const float v : digits) sum += v;
        if (sum > 0)
          for (auto& v : digits) v = static_cast<float>(v / sum);
      }
      if (!not_digit.empty()) not_digit[c] = other;
      if (impl_->recall) impl_->recent.add(keys[c], crops[c], digits, other);
    }
  }
}

Probabilities Recogniser::probabilities(const Crop& crop) {
  Probabilities p{};
  probabilities(std::span<const Crop>(&crop, 1), std::span<Probabilities>(&p, 1));
  return p;
}

}  // namespace digits
