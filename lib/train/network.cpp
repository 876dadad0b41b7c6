// The only translation unit that sees tiny-dnn (it costs a minute and a gigabyte to compile).
//
// tiny-dnn computes the gradients; everything around them is ours, because its own pieces do not
// hold up: `fit` runs one network on one thread, its Adam decays the bias correction once per
// weight vector instead of once per step, and softmax + cross_entropy_multiclass divides by
// probabilities that underflow to zero (the NaN seen at epoch 8). So:
// - data parallelism: one replica per thread, each runs `fit` on its slice of the batch with an
//   "optimizer" that only records the gradient; the gradients are averaged in a fixed order and one
//   Adam step is applied to every replica, so the result depends on the seed and thread count only;
// - the network ends in logits, and the loss is softmax cross-entropy computed from them stably.

#include "train/network.hpp"

#include "base/error.hpp"
#include "base/parallel.hpp"
#include "recognise/evaluate.hpp"
#include "recognise/inference.hpp"
#include "train/cut_samples.hpp"

#include <fmt/format.h>
#include <opencv2/core.hpp>

// tiny-dnn's allocator first (with the standard headers it needs): every float vector it
// allocates gets slack, below.
#include <cassert>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <tiny_dnn/util/aligned_allocator.h>

namespace tiny_dnn {

// tiny-dnn's AVX 5x5 convolution backward kernel (avx_conv2d_5x5_back_kernel_one) loads each
// 5-float filter row as 8 floats and masks 3 off, and for an output row whose width is not a
// multiple of 4 loads and stores back 8 floats of the padded input gradient per column where 5 are
// the filter's. At the end of a vector that is 3 floats (12 bytes) past it: the last filter of the
// weights (AddressSanitizer: a 32-byte read 20 bytes before the end of the 115,200-byte weights of
// cnn-24-48-128's conv2) and the last row of a "same" layer's padded gradient (cnn-same's conv2,
// 14 wide, where the 3 floats are also written back). What the lanes past the end hold never
// reaches a result (masked off, or times a zero weight), so 8 zeroed floats after every vector's
// end keep these accesses in memory of ours and change no arithmetic: a model trained with the
// slack is the same file to the byte as one trained without.
inline constexpr std::size_t avx_slack_floats = 8;

template <>
inline aligned_allocator<float, 64>::pointer aligned_allocator<float, 64>::allocate(size_type size, const void*) {
  if (size > max_size() - avx_slack_floats) throw nn_error("failed to allocate");
  auto* p = static_cast<pointer>(aligned_alloc(64, sizeof(float) * (size + avx_slack_floats)));
  if (p == nullptr) throw nn_error("failed to allocate");
  std::memset(p + size, 0, sizeof(float) * avx_slack_floats);
  return p;
}

}  // namespace tiny_dnn

#include <tiny_dnn/tiny_dnn.h>

#include <chrono>
#include <cmath>
#include <map>
#include <numbers>
#include <numeric>
#include <optional>
#include <type_traits>

namespace digits {

namespace tdnn = tiny_dnn;
static_assert(std::is_same_v<tdnn::vec_t::allocator_type, tdnn::aligned_allocator<float, 64>>,
              "tiny-dnn's vectors must be the ones given slack above");
using Net = tdnn::network<tdnn::sequential>;

std::string Architecture::summary() const {
  return fmt::format("conv5x5x{}{} relu maxpool2, conv5x5x{}{} relu maxpool2, dense {} relu, dense {} softmax", conv1,
                     pad ? " same" : "", conv2, pad ? " same" : "", hidden, outputs);
}

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> all{
      {"cnn-16-32-128", 16, 32, 128, 0},
      {"cnn-24-48-128", 24, 48, 128, 0},
      {"cnn-32-64-256", 32, 64, 256, 0},
      {"cnn-same-16-32-128", 16, 32, 128, 2},
  };
  return all;
}

const Architecture& find_architecture(const std::string& name) {
  for (const auto& a : architectures())
    if (a.name == name) return a;
  std::vector<std::string> names;
  for (const auto& a : architectures()) names.push_back(a.name);
  throw UsageError(fmt::format("unknown architecture '{}' (known: {})", name, fmt::join(names, ", ")));
}

namespace {

// Running sum of the loss on this thread, filled in by the loss's gradient (which sees every sample).
thread_local double loss_sum = 0;

// Softmax cross-entropy on logits: d/dz = softmax(z) - t, finite for any finite logits.
struct SoftmaxCrossEntropy {
  static tdnn::float_t f(const tdnn::vec_t& z, const tdnn::vec_t& t) {
    const tdnn::float_t top = *std::max_element(z.begin(), z.end());
    double sum = 0, target = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      sum += std::exp(double(z[i] - top));
      target += t[i] * double(z[i] - top);
    }
    return static_cast<tdnn::float_t>(std::log(sum) - target);
  }
  static tdnn::vec_t df(const tdnn::vec_t& z, const tdnn::vec_t& t) {
    loss_sum += f(z, t);
    const tdnn::float_t top = *std::max_element(z.begin(), z.end());
    tdnn::vec_t d(z.size());
    double sum = 0;
    for (std::size_t i = 0; i < z.size(); ++i) sum += (d[i] = std::exp(z[i] - top));
    for (std::size_t i = 0; i < z.size(); ++i) d[i] = static_cast<tdnn::float_t>(d[i] / sum) - t[i];
    return d;
  }
};

// Handed to tiny-dnn as its optimizer: keeps the batch-mean gradient of every weight vector, changes nothing.
struct GradientRecorder : tdnn::optimizer {
  std::map<const tdnn::vec_t*, tdnn::vec_t> gradients;
  void update(const tdnn::vec_t& dW, tdnn::vec_t& W, bool) override { gradients[&W] = dW; }
};

int conv_side(int side, const Architecture& a) { return a.pad ? side : side - 4; }

std::unique_ptr<Net> build_net(const Architecture& a) {
  using tdnn::activation::identity;
  using tdnn::activation::relu;
  const auto padding = a.pad ? tdnn::padding::same : tdnn::padding::valid;
  auto net = std::make_unique<Net>();
  int side = crop_side;
  *net << tdnn::convolutional_layer<relu>(side, side, 5, 1, a.conv1, padding);
  side = conv_side(side, a);
  *net << tdnn::max_pooling_layer<identity>(side, side, a.conv1, 2);
  side /= 2;
  *net << tdnn::convolutional_layer<relu>(side, side, 5, a.conv1, a.conv2, padding);
  side = conv_side(side, a);
  *net << tdnn::max_pooling_layer<identity>(side, side, a.conv2, 2);
  side /= 2;
  *net << tdnn::fully_connected_layer<relu>(a.conv2 * side * side, a.hidden);
  *net << tdnn::fully_connected_layer<identity>(a.hidden, a.outputs);
  return net;
}

// Positions of the layers with weights in build_net's network, and what follows each in a Model.
constexpr std::array<std::size_t, 4> weighted_layers{0, 2, 4, 5};

std::vector<tdnn::vec_t*> weight_vectors(Net& net) {
  std::vector<tdnn::vec_t*> all;
  for (const std::size_t i : weighted_layers)
    for (auto* w : net[i]->weights()) all.push_back(w);
  return all;  // conv1 W b, conv2 W b, dense1 W b, dense2 W b
}

Layer simple(Layer::Kind kind, int size = 0) {
  Layer l;
  l.kind = kind;
  l.size = size;
  return l;
}

Model export_model(Net& net, const Architecture& a) {
  const auto w = weight_vectors(net);
  const auto conv = [&](int in, int out, std::size_t k) {
    Layer l;
    l.kind = Layer::Kind::conv;
    l.in_channels = in;
    l.out_channels = out;
    l.kernel = 5;
    l.pad = a.pad;
    l.weights.assign(w[k]->begin(), w[k]->end());  // tiny-dnn's order is ours: [out][in][ky][kx]
    l.bias.assign(w[k + 1]->begin(), w[k + 1]->end());
    return l;
  };
  const auto dense = [&](int in, int out, std::size_t k) {
    Layer l;
    l.kind = Layer::Kind::dense;
    l.inputs = in;
    l.outputs = out;
    l.weights.resize(std::size_t(in) * out);
    for (int i = 0; i < in; ++i)  // tiny-dnn keeps [in][out]; we keep [out][in]
      for (int o = 0; o < out; ++o) l.weights[std::size_t(o) * in + i] = (*w[k])[std::size_t(i) * out + o];
    l.bias.assign(w[k + 1]->begin(), w[k + 1]->end());
    return l;
  };
  const int side = a.pad ? 7 : 4;
  Model m;
  m.architecture = a.name;
  m.input_scale = 1.0f / 255.0f;
  m.input_offset = 0.0f;
  m.layers = {conv(1, a.conv1, 0),          simple(Layer::Kind::relu), simple(Layer::Kind::maxpool, 2),
              conv(a.conv1, a.conv2, 2),    simple(Layer::Kind::relu), simple(Layer::Kind::maxpool, 2),
              dense(a.conv2 * side * side, a.hidden, 4), simple(Layer::Kind::relu),
              dense(a.hidden, a.outputs, 6), simple(Layer::Kind::softmax)};
  return m;
}

// The inverse of export_model, for models of the shape build_net makes.
std::unique_ptr<Net> import_model(const Model& m) {
  using K = Layer::Kind;
  const std::vector<K> expected{K::conv, K::relu, K::maxpool, K::conv, K::relu, K::maxpool, K::dense, K::relu, K::dense, K::softmax};
  std::vector<K> kinds;
  for (const auto& l : m.layers) kinds.push_back(l.kind);
  if (kinds != expected) throw Error("tiny-dnn can only run models of the trainer's conv-conv-dense-dense shape");
  const Architecture a{m.architecture, m.layers[0].out_channels, m.layers[3].out_channels, m.layers[6].outputs,
                       m.layers[0].pad, m.layers[8].outputs};
  auto net = build_net(a);
  net->init_weight();
  const auto w = weight_vectors(*net);
  const auto put = [](tdnn::vec_t* to, const std::vector<float>& from) { std::copy(from.begin(), from.end(), to->begin()); };
  put(w[0], m.layers[0].weights);
  put(w[1], m.layers[0].bias);
  put(w[2], m.layers[3].weights);
  put(w[3], m.layers[3].bias);
  for (const auto& [k, li] : {std::pair<std::size_t, std::size_t>{4, 6}, {6, 8}}) {
    const Layer& l = m.layers[li];
    for (int i = 0; i < l.inputs; ++i)
      for (int o = 0; o < l.outputs; ++o) (*w[k])[std::size_t(i) * l.outputs + o] = l.weights[std::size_t(o) * l.inputs + i];
    put(w[k + 1], l.bias);
  }
  return net;
}

void copy_weights(Net& from, Net& to) {
  const auto src = weight_vectors(from);
  const auto dst = weight_vectors(to);
  for (std::size_t i = 0; i < src.size(); ++i) *dst[i] = *src[i];
}

// Adam with decoupled weight decay (AdamW), bias correction once per step.
class Adam {
 public:
  explicit Adam(const std::vector<tdnn::vec_t*>& params) {
    for (auto* p : params) {
      m_.emplace_back(p->size(), 0.0f);
      v_.emplace_back(p->size(), 0.0f);
    }
  }
  void step(const std::vector<tdnn::vec_t*>& params, const std::vector<std::vector<float>>& grads, double lr,
            double weight_decay) {
    ++t_;
    const double c1 = 1 - std::pow(beta1, t_), c2 = 1 - std::pow(beta2, t_);
    for (std::size_t k = 0; k < params.size(); ++k) {
      auto& w = *params[k];
      const bool decay = k % 2 == 0;  // weights, not biases
      for (std::size_t i = 0; i < w.size(); ++i) {
        const float g = grads[k][i];
        m_[k][i] = float(beta1 * m_[k][i] + (1 - beta1) * g);
        v_[k][i] = float(beta2 * v_[k][i] + (1 - beta2) * double(g) * g);
        const double update = (m_[k][i] / c1) / (std::sqrt(v_[k][i] / c2) + 1e-8);
        w[i] = float(w[i] - lr * (update + (decay ? weight_decay * w[i] : 0.0)));
      }
    }
  }
  struct State {
    std::vector<std::vector<float>> m, v;
    long t;
  };
  State save() const { return {m_, v_, t_}; }
  void restore(const State& s) { m_ = s.m, v_ = s.v, t_ = s.t; }

 private:
  static constexpr double beta1 = 0.9, beta2 = 0.999;
  std::vector<std::vector<float>> m_, v_;
  long t_ = 0;
};

// One replica's share of a batch: inputs, one-hot targets, and its recorded gradient.
struct Worker {
  std::unique_ptr<Net> net;
  std::vector<tdnn::vec_t> inputs, targets;
  GradientRecorder recorder;
  double loss = 0;
};

// Indices below `digits` are training digits of `train`; the next `pairs`, samples that are not
// one digit, composed afresh each epoch from two random training digits; the ones after those,
// parts cut from two touching training digits (cut_sample), each a digit or not one, or a composed
// pair when eight pairs in a row give no part. (Samples from `digits` on in `train` are the
// held-out validation set and never trained on.)
void run_slice(Worker& w, const Split& train, std::size_t digits, std::size_t pairs, std::span<const std::size_t> indices,
               const TrainOptions& o, int epoch, int outputs) {
  w.inputs.resize(indices.size());
  w.targets.resize(indices.size());
  for (std::size_t s = 0; s < indices.size(); ++s) {
    const std::size_t i = indices[s];
    Crop crop{};
    const bool digit = i < digits;
    int label = digit ? train.labels.labels[i] : not_digit_class;
    if (!digit) {
      auto rng = sample_rng(o.seed, epoch, i);
      std::uniform_int_distribution<std::size_t> pick(0, digits - 1);
      std::size_t a = pick(rng), b = pick(rng);
      std::optional<CutSample> cut;
      // A few tries: some pairs give no seam, or a part that is neither one digit nor clearly not.
      if (i >= digits + pairs)
        for (int attempt = 0; !cut && attempt < 8; ++attempt, a = pick(rng), b = pick(rng))
          cut = cut_sample(train.images.image(a), train.labels.labels[a], train.images.image(b), train.labels.labels[b], rng);
      if (cut) {
        crop = cut->crop;
        label = cut->label;
      } else {
        crop = compose_not_digit(train.images.image(a), train.images.image(b), rng);
      }
    } else if (o.augment) {
      auto rng = sample_rng(o.seed, epoch, i);
      crop = augment_digit(train.images.image(i), o.augmentation, rng);
    } else {
      std::ranges::copy(train.images.image(i), crop.begin());
    }
    w.inputs[s].resize(crop_pixels);
    for (std::size_t p = 0; p < crop_pixels; ++p) w.inputs[s][p] = crop[p] / 255.0f;
    w.targets[s].assign(static_cast<std::size_t>(outputs), 0.0f);
    w.targets[s][static_cast<std::size_t>(label)] = 1.0f;
  }
  loss_sum = 0;
  w.recorder.gradients.clear();
  w.net->fit<SoftmaxCrossEntropy>(w.recorder, w.inputs, w.targets, indices.size(), 1, [] {}, [] {}, false, 1);
  w.loss = loss_sum;
}

Split slice_split(const Split& from, std::size_t begin, std::size_t end) {
  Split s;
  s.images.rows = from.images.rows;
  s.images.cols = from.images.cols;
  const std::size_t n = std::size_t(from.images.rows) * from.images.cols;
  s.images.pixels.assign(from.images.pixels.begin() + begin * n, from.images.pixels.begin() + end * n);
  s.labels.labels.assign(from.labels.labels.begin() + begin, from.labels.labels.begin() + end);
  return s;
}

bool all_finite(const std::vector<std::vector<float>>& grads) {
  for (const auto& g : grads)
    for (const float v : g)
      if (!std::isfinite(v)) return false;
  return true;
}

// Restores OpenCV's thread count on every way out of train().
struct OpenCvThreads {
  int saved = cv::getNumThreads();
  OpenCvThreads() { cv::setNumThreads(1); }  // our workers are the parallelism; nested pools only contend
  ~OpenCvThreads() { cv::setNumThreads(saved); }
  OpenCvThreads(const OpenCvThreads&) = delete;
  OpenCvThreads& operator=(const OpenCvThreads&) = delete;
};

}  // namespace

Architecture trained_architecture(const TrainOptions& options) {
  Architecture a = find_architecture(options.architecture);
  a.outputs = options.not_digits > 0 ? not_digit_class + 1 : 10;
  return a;
}

TrainResult train(const Dataset& data, const TrainOptions& o) {
  if (!(o.not_digits >= 0 && o.not_digits <= 1)) throw UsageError("--not-digits must be between 0 and 1");
  if (!(o.cut_parts >= 0 && o.cut_parts <= 1)) throw UsageError("--cut-parts must be between 0 and 1");
  const Architecture arch = trained_architecture(o);
  if (o.epochs < 1) throw UsageError("--epochs must be at least 1");
  if (o.batch < 1 || o.batch > 4096) throw UsageError("--batch must be between 1 and 4096");
  if (!(o.learning_rate > 0)) throw UsageError("the learning rate must be positive");
  check_digit_split(data.train, "training set");
  const std::size_t available = data.train.count();
  const std::size_t used = o.subset > 0 ? std::min(o.subset, available) : available;
  const std::size_t held_out = std::min(o.validation, used / 6);
  if (used < 20 || held_out == 0) throw Error(fmt::format("training set too small: {} samples", used));
  const std::size_t train_count = used - held_out;
  const Split validation = slice_split(data.train, train_count, used);

  const OpenCvThreads opencv_threads;
  const unsigned threads = std::min<unsigned>(worker_count(o.threads), static_cast<unsigned>(o.batch));
  tdnn::set_random_seed(static_cast<unsigned>(o.seed));
  std::vector<Worker> workers(threads);
  for (auto& w : workers) w.net = build_net(arch);
  workers[0].net->init_weight();
  for (std::size_t t = 1; t < workers.size(); ++t) {
    workers[t].net->init_weight();
    copy_weights(*workers[0].net, *workers[t].net);
  }
  const auto params = weight_vectors(*workers[0].net);
  Adam adam(params);
  std::vector<std::vector<float>> grads;
  for (auto* p : params) grads.emplace_back(p->size());

  TrainResult result;
  result.samples = used;
  result.validation_samples = held_out;
  const auto started = std::chrono::steady_clock::now();
  const auto negatives = static_cast<std::size_t>(std::lround(o.not_digits * static_cast<double>(train_count)));
  // Cut parts are as often no digit as a digit: only a network with that output learns them.
  const auto cuts = o.not_digits > 0 ? static_cast<std::size_t>(std::lround(o.cut_parts * static_cast<double>(train_count))) : 0;
  const std::size_t samples = train_count + negatives + cuts;
  const std::size_t batches_per_epoch = (samples + o.batch - 1) / o.batch;
  const double total_steps = double(batches_per_epoch) * o.epochs;
  const double warmup_steps = std::min(300.0, total_steps / 10);
  double lr_factor = 1.0;  // halved at every recovery from a non-finite loss
  long step = 0;
  std::vector<tdnn::vec_t> last_good;
  for (auto* p : params) last_good.push_back(*p);
  Adam::State last_good_adam = adam.save();
  std::vector<std::size_t> order(samples);

  for (int epoch = 1; epoch <= o.epochs && !result.interrupted; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 shuffle_rng(o.seed * 1000003u + static_cast<std::uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    double epoch_loss = 0;
    std::size_t seen = 0;
    double epoch_lr = 0;

    for (std::size_t start = 0; start < samples; start += o.batch) {
      if (o.stop != nullptr && o.stop->load()) {
        result.interrupted = true;
        break;
      }
      const std::size_t n = std::min<std::size_t>(o.batch, samples - start);
      const std::span<const std::size_t> batch(order.data() + start, n);
      const unsigned used_workers = static_cast<unsigned>(std::min<std::size_t>(threads, n));
      parallel_slices(n, used_workers, [&](std::size_t b, std::size_t e, unsigned t) {
        run_slice(workers[t], data.train, train_count, negatives, batch.subspan(b, e - b), o, epoch, arch.outputs);
      });

      // Average the replicas' batch-mean gradients, weighted by their share, in a fixed order.
      double batch_loss = 0;
      for (auto& g : grads) std::fill(g.begin(), g.end(), 0.0f);
      for (unsigned t = 0; t < used_workers; ++t) {
        const double share = double(n * (t + 1) / used_workers - n * t / used_workers) / double(n);
        const auto mine = weight_vectors(*workers[t].net);
        for (std::size_t k = 0; k < mine.size(); ++k) {
          const auto found = workers[t].recorder.gradients.find(mine[k]);
          if (found == workers[t].recorder.gradients.end()) throw Error("tiny-dnn reported no gradient for a layer");
          for (std::size_t i = 0; i < grads[k].size(); ++i) grads[k][i] += float(share * found->second[i]);
        }
        batch_loss += workers[t].loss;
      }

      if (!std::isfinite(batch_loss) || !all_finite(grads)) {
        // Diverged: go back to the last epoch's weights and optimizer state, and take smaller steps.
        if (++result.recoveries > 5) throw Error("training diverged (non-finite loss) five times; try a smaller --learning-rate");
        for (std::size_t k = 0; k < params.size(); ++k) *params[k] = last_good[k];
        adam.restore(last_good_adam);
        lr_factor *= 0.5;
      } else {
        const double progress = double(step) / total_steps;
        const double warm = std::min(1.0, double(step + 1) / warmup_steps);
        const double lr = o.learning_rate * lr_factor * warm * (0.03 + 0.97 * 0.5 * (1 + std::cos(std::numbers::pi * progress)));
        if (epoch_lr == 0) epoch_lr = lr;
        adam.step(params, grads, lr, o.weight_decay);
        epoch_loss += batch_loss;
        seen += n;
      }
      for (std::size_t t = 1; t < workers.size(); ++t) copy_weights(*workers[0].net, *workers[t].net);
      ++step;
      if (o.on_batch) o.on_batch(epoch, start + n, samples, seen ? epoch_loss / double(seen) : 0.0);
    }
    if (seen == 0) break;  // interrupted before a single step of this epoch

    Model model = export_model(*workers[0].net, arch);
    const Evaluation val = evaluate(model, validation, threads);
    EpochRecord record{epoch, epoch_loss / double(seen), val.accuracy(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count(), epoch_lr};
    result.history.push_back(record);
    if (o.on_epoch) o.on_epoch(record);
    // A partial (interrupted) epoch still counts: it may be all there is.
    if (result.kept_epoch == 0 || o.keep == TrainOptions::Keep::last || record.val_accuracy > result.kept_val_accuracy) {
      result.kept_epoch = epoch;
      result.kept_val_accuracy = record.val_accuracy;
      result.model = std::move(model);
    }
    for (std::size_t k = 0; k < params.size(); ++k) last_good[k] = *params[k];
    last_good_adam = adam.save();
  }
  if (result.kept_epoch == 0) throw Error("stopped before the first training step: no model to save");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

std::vector<std::array<float, 10>> tiny_dnn_probabilities(const Model& model, std::span<const Crop> crops) {
  auto net = import_model(model);
  std::vector<std::array<float, 10>> out;
  tdnn::vec_t input(crop_pixels);
  for (const Crop& crop : crops) {
    for (std::size_t p = 0; p < crop_pixels; ++p) input[p] = crop[p] * model.input_scale + model.input_offset;
    const tdnn::vec_t logits = net->predict(input);
    // Over the digits only: with an 11th output, the probabilities given that it is a digit.
    std::array<float, 10> p{};
    const float top = *std::max_element(logits.begin(), logits.begin() + 10);
    double sum = 0;
    for (int d = 0; d < 10; ++d) sum += (p[d] = std::exp(logits[d] - top));
    for (auto& v : p) v = static_cast<float>(v / sum);
    out.push_back(p);
  }
  return out;
}

}  // namespace digits
