#pragma once
// Small random networks for tests, and a plain reference forward pass to check the real one against.

#include "recognise/inference.hpp"
#include "recognise/model.hpp"

#include <random>

namespace digits::test {

// conv5x5(pad) x c1 - relu - pool2 - conv5x5 x c2 - relu - pool2 - dense h - relu - dense 10 - softmax.
inline Model random_model(unsigned seed, int c1 = 4, int c2 = 6, int hidden = 16, int pad = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  const auto fill = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = normal(rng);
    return v;
  };
  const auto conv = [&](int in, int out) {
    Layer l;
    l.kind = Layer::Kind::conv;
    l.in_channels = in;
    l.out_channels = out;
    l.kernel = 5;
    l.pad = pad;
    l.weights = fill(std::size_t(in) * out * 25);
    l.bias = fill(std::size_t(out));
    return l;
  };
  const auto dense = [&](int in, int out) {
    Layer l;
    l.kind = Layer::Kind::dense;
    l.inputs = in;
    l.outputs = out;
    l.weights = fill(std::size_t(in) * out);
    l.bias = fill(std::size_t(out));
    return l;
  };
  const auto simple = [](Layer::Kind k, int size = 0) {
    Layer l;
    l.kind = k;
    l.size = size;
    return l;
  };
  const int side = pad == 2 ? 7 : 4;
  Model m;
  m.architecture = "test-net";
  m.layers = {conv(1, c1), simple(Layer::Kind::relu), simple(Layer::Kind::maxpool, 2),
              conv(c1, c2), simple(Layer::Kind::relu), simple(Layer::Kind::maxpool, 2),
              dense(c2 * side * side, hidden), simple(Layer::Kind::relu), dense(hidden, 10),
              simple(Layer::Kind::softmax)};
  m.info = {{"note", "random weights"}};
  return m;
}

// The forward pass written as plainly as possible, in double precision.
inline std::vector<double> reference_forward(const Model& m, const Crop& crop) {
  std::vector<double> x(crop.size());
  for (std::size_t i = 0; i < crop.size(); ++i) x[i] = crop[i] * double(m.input_scale) + m.input_offset;
  int c = 1, h = 28, w = 28;
  for (const auto& l : m.layers) {
    switch (l.kind) {
      case Layer::Kind::conv: {
        const int oh = h + 2 * l.pad - l.kernel + 1, ow = w + 2 * l.pad - l.kernel + 1;
        std::vector<double> y(std::size_t(l.out_channels) * oh * ow);
        for (int o = 0; o < l.out_channels; ++o)
          for (int yy = 0; yy < oh; ++yy)
            for (int xx = 0; xx < ow; ++xx) {
              double sum = l.bias[o];
              for (int i = 0; i < c; ++i)
                for (int ky = 0; ky < l.kernel; ++ky)
                  for (int kx = 0; kx < l.kernel; ++kx) {
                    const int sy = yy + ky - l.pad, sx = xx + kx - l.pad;
                    if (sy < 0 || sx < 0 || sy >= h || sx >= w) continue;
                    sum += l.weights[((std::size_t(o) * c + i) * l.kernel + ky) * l.kernel + kx] * x[(std::size_t(i) * h + sy) * w + sx];
                  }
              y[(std::size_t(o) * oh + yy) * ow + xx] = sum;
            }
        x = std::move(y);
        c = l.out_channels, h = oh, w = ow;
        break;
      }
      case Layer::Kind::relu:
        for (auto& v : x) v = std::max(v, 0.0);
        break;
      case Layer::Kind::maxpool: {
        const int oh = h / l.size, ow = w / l.size;
        std::vector<double> y(std::size_t(c) * oh * ow, -1e300);
        for (int i = 0; i < c; ++i)
          for (int yy = 0; yy < oh * l.size; ++yy)
            for (int xx = 0; xx < ow * l.size; ++xx) {
              double& t = y[(std::size_t(i) * oh + yy / l.size) * ow + xx / l.size];
              t = std::max(t, x[(std::size_t(i) * h + yy) * w + xx]);
            }
        x = std::move(y);
        h = oh, w = ow;
        break;
      }
      case Layer::Kind::dense: {
        std::vector<double> y(std::size_t(l.outputs));
        for (int o = 0; o < l.outputs; ++o) {
          double sum = l.bias[o];
          for (int i = 0; i < l.inputs; ++i) sum += l.weights[std::size_t(o) * l.inputs + i] * x[i];
          y[o] = sum;
        }
        x = std::move(y);
        c = l.outputs, h = 1, w = 1;
        break;
      }
      case Layer::Kind::softmax: {
        const double top = *std::max_element(x.begin(), x.end());
        double total = 0;
        for (auto& v : x) total += (v = std::exp(v - top));
        for (auto& v : x) v /= total;
        break;
      }
    }
  }
  return x;
}

inline Crop random_crop(unsigned seed) {
  std::mt19937 rng(seed);
  Crop crop{};
  for (auto& p : crop) p = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() & 0xff : 0);
  return crop;
}

}  // namespace digits::test
