#include <doctest/doctest.h>

#include "base/error.hpp"
#include "base/files.hpp"
#include "model_fixtures.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"

#include <cmath>

using namespace digits;

namespace {
Probabilities run(const Model& m, const Crop& c) { return Recogniser(m).probabilities(c); }
}  // namespace

TEST_SUITE("model") {
  TEST_CASE("inference matches a plain reference forward pass within 1e-5") {
    for (const int pad : {0, 2}) {
      const Model m = test::random_model(7, 4, 6, 16, pad);
      Recogniser r(m);
      std::vector<Crop> crops;
      for (unsigned i = 0; i < 300; ++i) crops.push_back(test::random_crop(i));  // more than one batch
      std::vector<Probabilities> out(crops.size());
      r.probabilities(crops, out);
      double worst = 0;
      for (std::size_t i = 0; i < crops.size(); ++i) {
        const auto expected = test::reference_forward(m, crops[i]);
        for (int d = 0; d < 10; ++d) worst = std::max(worst, std::abs(expected[d] - out[i][d]));
      }
      CAPTURE(pad);
      CHECK(worst < 1e-5);
    }
  }

  TEST_CASE("save then load gives bit-identical predictions and the same description") {
    const TempDir tmp;
    const Model m = test::random_model(3);
    save_model(tmp.path() / "m.bin", m);
    const Model back = load_model(tmp.path() / "m.bin");
    CHECK(back.architecture == m.architecture);
    CHECK(back.info == m.info);
    CHECK(back.parameter_count() == m.parameter_count());
    for (unsigned i = 0; i < 20; ++i) {
      const Crop c = test::random_crop(100 + i);
      CHECK(run(back, c) == run(m, c));
    }
    CHECK(encode_model(back) == encode_model(m));
  }

  TEST_CASE("damaged and foreign files are refused with a clear message") {
    const std::string good = encode_model(test::random_model(5));
    const auto refused = [](std::string_view bytes, std::string_view expected) {
      CAPTURE(expected);
      try {
        decode_model(bytes, "m.bin");
        FAIL("accepted a bad model file");
      } catch (const Error& e) {
        CHECK(std::string(e.what()).find("m.bin: ") == 0);
        CHECK(std::string(e.what()).find(expected) != std::string::npos);
      }
    };
    refused("", "not a digits model");
    refused("\x89PNG\r\n\x1a\n0000000000000000000000000000000000000000000000000", "not a digits model");
    refused(good.substr(0, good.size() / 2), "checksum mismatch");
    refused(good.substr(0, 20), "truncated");
    std::string flipped = good;
    flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 1);
    refused(flipped, "checksum mismatch");
    std::string future = good;
    future[8] = 9;
    refused(future, "version 9");
    refused(good + "x", "checksum mismatch");
  }

  TEST_CASE("layers that do not fit together are refused before use") {
    Model m = test::random_model(1);
    m.layers[3].in_channels = 5;
    CHECK_THROWS_AS(encode_model(m), Error);
    CHECK_THROWS_AS(Recogniser{m}, Error);
    Model no_softmax = test::random_model(1);
    no_softmax.layers.pop_back();
    CHECK_THROWS_WITH_AS(no_softmax.shapes(), doctest::Contains("softmax"), Error);
    Model short_weights = test::random_model(1);
    short_weights.layers[0].weights.pop_back();
    CHECK_THROWS_AS(short_weights.shapes(), Error);
  }

  TEST_CASE("a model cannot ask inference for unbounded memory") {
    // A forged file once passed every check with a pad of 307,314: gigabytes per crop.
    Model padded = test::random_model(1);
    padded.layers[0].pad = 6;
    CHECK_THROWS_WITH_AS(padded.shapes(), doctest::Contains("padding 6 wider than the kernel 5"), Error);
    CHECK_NOTHROW(test::random_model(1, 4, 6, 16, 2).shapes());
    // 500 channels of 24x24 is over the per-layer bound; 400 is not.
    CHECK_THROWS_WITH_AS(test::random_model(1, 500).shapes(), doctest::Contains("over the limit"), Error);
    CHECK_NOTHROW(test::random_model(1, 400).shapes());
  }

  TEST_CASE("probabilities sum to one") {
    const Model m = test::random_model(9);
    const auto p = run(m, test::random_crop(1));
    double total = 0;
    for (const float v : p) total += v;
    CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
  }
}
