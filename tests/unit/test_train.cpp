#include <doctest/doctest.h>

#include "base/error.hpp"
#include "io/dataset.hpp"
#include "model_fixtures.hpp"
#include "recognise/evaluate.hpp"
#include "recognise/inference.hpp"
#include "recognise/model.hpp"
#include "support.hpp"
#include "train/augment.hpp"
#include "train/cut_samples.hpp"
#include "train/network.hpp"

#include <atomic>

using namespace digits;

namespace {

const Dataset& mnist() {
  static const Dataset data = load_dataset(test::source_dir / "data" / "mnist");
  return data;
}

Split first(const Split& from, std::size_t n) {
  Split s;
  s.images.rows = s.images.cols = 28;
  s.images.pixels.assign(from.images.pixels.begin(), from.images.pixels.begin() + n * 784);
  s.labels.labels.assign(from.labels.labels.begin(), from.labels.labels.begin() + n);
  return s;
}

TrainOptions smoke_options() {
  TrainOptions o;
  o.subset = 2000;
  o.epochs = 1;
  o.batch = 16;
  o.learning_rate = 0.004;  // one short epoch: big steps
  o.threads = 2;
  return o;
}

}  // namespace

// The long trainings are in the suite (ctest label) `training`, which `make test-sanitize` leaves
// out; the short ones stay, so tiny-dnn's kernels still run under the sanitizers.
TEST_SUITE("train") {
  TEST_CASE("a one-epoch smoke training on 2000 digits beats 85 percent on 1000 test digits" * doctest::test_suite("training")) {
    const TrainResult r = train(mnist(), smoke_options());
    REQUIRE(r.history.size() == 1);
    CHECK(r.kept_epoch == 1);
    CHECK(r.history[0].val_accuracy > 0.8);
    const double accuracy = evaluate(r.model, first(mnist().test, 1000)).accuracy();
    CAPTURE(accuracy);
    CHECK(accuracy > 0.85);
  }

  TEST_CASE("the same seed and thread count give the same model and another seed does not" * doctest::test_suite("training")) {
    TrainOptions o = smoke_options();
    o.subset = 600;
    const std::string a = encode_model(train(mnist(), o).model);
    CHECK(encode_model(train(mnist(), o).model) == a);
    o.seed = 2;
    CHECK(encode_model(train(mnist(), o).model) != a);
  }

  TEST_CASE("our inference gives tiny-dnn's probabilities within 1e-5") {
    TrainOptions o = smoke_options();
    o.subset = 600;
    o.architecture = "cnn-same-16-32-128";
    for (const Model& m : {train(mnist(), smoke_options()).model, train(mnist(), o).model, test::random_model(3, 4, 6, 16, 0)}) {
      CAPTURE(m.architecture);
      const Split digits = first(mnist().test, 200);
      std::vector<Crop> crops(200);
      for (std::size_t i = 0; i < crops.size(); ++i) std::ranges::copy(digits.images.image(i), crops[i].begin());
      const auto expected = tiny_dnn_probabilities(m, crops);
      std::vector<Probabilities> ours(crops.size());
      Recogniser(m).probabilities(crops, ours);
      double worst = 0;
      for (std::size_t i = 0; i < crops.size(); ++i)
        for (int d = 0; d < 10; ++d) worst = std::max(worst, double(std::abs(expected[i][d] - ours[i][d])));
      CHECK(worst < 1e-5);
    }
  }

  TEST_CASE("a stop request mid-epoch still yields a valid model of the work done") {
    std::atomic<bool> stop{false};
    TrainOptions o = smoke_options();
    o.epochs = 3;
    o.stop = &stop;
    o.on_batch = [&](int, std::size_t done, std::size_t, double) {
      if (done >= 800) stop = true;
    };
    const TrainResult r = train(mnist(), o);
    CHECK(r.interrupted);
    REQUIRE(r.history.size() == 1);
    CHECK_NOTHROW(r.model.shapes());
    CHECK(r.history[0].val_accuracy > 0.3);
  }

  TEST_CASE("bad training requests are refused") {
    TrainOptions o = smoke_options();
    o.architecture = "resnet-152";
    CHECK_THROWS_AS(train(mnist(), o), UsageError);
    o = smoke_options();
    o.epochs = 0;
    CHECK_THROWS_AS(train(mnist(), o), UsageError);
    o = smoke_options();
    o.cut_parts = 1.5;
    CHECK_THROWS_AS(train(mnist(), o), UsageError);
    o = smoke_options();
    o.subset = 10;
    CHECK_THROWS_AS(train(mnist(), o), Error);
    Dataset wrong;
    wrong.train = first(mnist().train, 100);
    wrong.train.labels.labels[5] = 12;
    CHECK_THROWS_WITH_AS(train(wrong, smoke_options()), doctest::Contains("label 12"), Error);
  }

  TEST_CASE("augmentation is deterministic per sample and stays a normalised digit") {
    const auto digit = mnist().test.images.image(0);
    AugmentOptions always;
    always.probability = 1.0;
    for (int i = 0; i < 50; ++i) {
      auto rng1 = sample_rng(7, 1, i), rng2 = sample_rng(7, 1, i);
      const Crop a = augment_digit(digit, always, rng1);
      CHECK(a == augment_digit(digit, always, rng2));
      int ink = 0, border = 0;  // centring by mass plus jitter may touch the edge; clipping would cover it
      for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) {
          ink += a[y * 28 + x] > 128;
          if (y == 0 || x == 0 || y == 27 || x == 27) border += a[y * 28 + x] > 128;
        }
      CHECK(ink > 15);
      CHECK(border <= 4);
    }
  }

  TEST_CASE("samples that are not one digit hold two digits' ink side by side") {
    const auto a = mnist().test.images.image(0), b = mnist().test.images.image(1);
    const auto ink_of = [](std::span<const std::uint8_t> img) {
      return std::ranges::count_if(img, [](std::uint8_t v) { return v > 128; });
    };
    for (int i = 0; i < 30; ++i) {
      auto rng1 = sample_rng(3, 2, i), rng2 = sample_rng(3, 2, i);
      const Crop c = compose_not_digit(a, b, rng1);
      CHECK(c == compose_not_digit(a, b, rng2));
      // Two digits, or one and a part, squeezed into 20 px: wide, with ink on both halves.
      int left = 0, right = 0, lo = 28, hi = -1, top = 28, bottom = -1;
      for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x)
          if (c[std::size_t(y * 28 + x)] > 128) {
            (x < 14 ? left : right) += 1;
            lo = std::min(lo, x), hi = std::max(hi, x), top = std::min(top, y), bottom = std::max(bottom, y);
          }
      CHECK(left > 5);
      CHECK(right > 5);
      CHECK(hi - lo >= 0.7 * (bottom - top));
      CHECK(ink_of(c) > 20);
    }
  }

  TEST_CASE("the last epoch's weights are kept unless the best validation epoch's are asked for" * doctest::test_suite("training")) {
    TrainOptions o = smoke_options();
    o.subset = 1200;
    o.epochs = 3;
    const TrainResult last = train(mnist(), o);
    REQUIRE(last.history.size() == 3);
    CHECK(last.kept_epoch == 3);
    CHECK(last.kept_val_accuracy == last.history.back().val_accuracy);
    o.keep = TrainOptions::Keep::best;
    const TrainResult best = train(mnist(), o);
    const auto top = std::ranges::max_element(best.history, [](const auto& a, const auto& b) { return a.val_accuracy < b.val_accuracy; });
    CHECK(best.kept_epoch == top->epoch);
    CHECK(best.kept_val_accuracy == top->val_accuracy);
    // The same seed runs the same epochs: the model kept scores on validation what its epoch did.
    const Split validation = [&] {
      Split v;
      v.images.rows = v.images.cols = 28;
      v.images.pixels.assign(mnist().train.images.pixels.begin() + 1000 * 784, mnist().train.images.pixels.begin() + 1200 * 784);
      v.labels.labels.assign(mnist().train.labels.labels.begin() + 1000, mnist().train.labels.labels.begin() + 1200);
      return v;
    }();
    CHECK(evaluate(best.model, validation).accuracy() == doctest::Approx(top->val_accuracy));
    CHECK(evaluate(last.model, validation).accuracy() == doctest::Approx(last.history.back().val_accuracy));
  }

  TEST_CASE("parts cut from touching pairs are labelled by whose ink they hold") {
    // The shipped model reads MNIST digits; the parts labelled a digit must read as that digit to
    // it far more often than chance, and the ones labelled not one digit rarely as a sure digit.
    Recogniser reader(load_model(test::source_dir / "models/digits-cnn.model"));
    const auto& test = mnist().test;
    int digits = 0, read_as_label = 0, others = 0, none = 0;
    std::vector<Crop> crops;
    std::vector<int> labels;
    for (std::size_t i = 0; i < 300; ++i) {
      const std::size_t a = i, b = 300 + i;
      if (test.labels.labels[a] == test.labels.labels[b]) continue;
      auto rng1 = sample_rng(9, 1, i), rng2 = sample_rng(9, 1, i);
      const auto s = cut_sample(test.images.image(a), test.labels.labels[a], test.images.image(b), test.labels.labels[b], rng1);
      const auto again = cut_sample(test.images.image(a), test.labels.labels[a], test.images.image(b), test.labels.labels[b], rng2);
      REQUIRE(s.has_value() == again.has_value());
      if (!s) {
        ++none;
        continue;
      }
      CHECK(s->crop == again->crop);
      CHECK((s->label == test.labels.labels[a] || s->label == test.labels.labels[b] || s->label == not_digit_class));
      crops.push_back(s->crop);
      labels.push_back(s->label);
    }
    std::vector<Probabilities> p(crops.size());
    std::vector<float> other(crops.size());
    reader.probabilities(crops, p, other);
    int sure_digit_of_others = 0;
    for (std::size_t k = 0; k < crops.size(); ++k) {
      const auto best = static_cast<int>(std::ranges::max_element(p[k]) - p[k].begin());
      if (labels[k] == not_digit_class) {
        ++others;
        sure_digit_of_others += other[k] < 0.1f && p[k][static_cast<std::size_t>(best)] > 0.95f;
      } else {
        ++digits;
        read_as_label += best == labels[k];
      }
    }
    MESSAGE(digits << " parts labelled a digit (" << read_as_label << " read so), " << others << " not one digit ("
                   << sure_digit_of_others << " read as a sure digit), " << none << " pairs gave none");
    CHECK(digits >= 30);
    CHECK(others >= 30);
    CHECK(read_as_label >= 0.8 * digits);
    CHECK(sure_digit_of_others <= 0.5 * others);
  }

  TEST_CASE("a digit with no neighbour to touch gives no cut sample") {
    const auto a = mnist().test.images.image(0);
    const std::vector<std::uint8_t> blank(784, 0);
    auto rng = sample_rng(1, 1, 0);
    CHECK_FALSE(cut_sample(a, mnist().test.labels.labels[0], blank, 3, rng).has_value());
  }

  TEST_CASE("without samples that are not one digit the network has the ten digits' outputs only" * doctest::test_suite("training")) {
    TrainOptions o = smoke_options();
    o.not_digits = 0;  // cut parts stay at their default share: they need the 11th output, so none
    const TrainResult r = train(mnist(), o);
    CHECK(r.model.outputs() == 10);
    CHECK(r.history.size() == 1);
  }

  TEST_CASE("an 11-output model reports digits given a digit and the rest as not one digit" * doctest::test_suite("training")) {
    TrainOptions o = smoke_options();
    o.not_digits = 0.3;
    const TrainResult r = train(mnist(), o);
    REQUIRE(r.model.outputs() == 11);
    Recogniser rec(r.model);
    std::vector<Crop> crops;
    for (std::size_t i = 0; i < 20; ++i) std::ranges::copy(mnist().test.images.image(i), crops.emplace_back().begin());
    for (int i = 0; i < 20; ++i) {
      auto rng = sample_rng(5, 1, static_cast<std::size_t>(i));
      crops.push_back(compose_not_digit(mnist().test.images.image(i), mnist().test.images.image(i + 20), rng));
    }
    std::vector<Probabilities> p(crops.size());
    std::vector<float> other(crops.size());
    rec.probabilities(crops, p, other);
    double digits_other = 0, pairs_other = 0;
    for (std::size_t k = 0; k < crops.size(); ++k) {
      double sum = 0;
      for (const float v : p[k]) sum += v;
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
      (k < 20 ? digits_other : pairs_other) += other[k] / 20.0;
    }
    // Even one short epoch tells a lone digit from two.
    CHECK(pairs_other > digits_other + 0.3);
    // The yardstick agrees on the digits' probabilities.
    const auto reference = tiny_dnn_probabilities(r.model, crops);
    for (std::size_t k = 0; k < crops.size(); ++k)
      for (int d = 0; d < 10; ++d) CHECK(p[k][std::size_t(d)] == doctest::Approx(reference[k][std::size_t(d)]).epsilon(1e-3));
  }
}
