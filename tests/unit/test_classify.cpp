// Reading crops with the shipped model: how sure it is, and of what.

#include <doctest/doctest.h>

#include "io/idx.hpp"
#include "recognise/classify.hpp"
#include "recognise/model.hpp"
#include "support.hpp"
#include "train/augment.hpp"

using namespace digits;

TEST_SUITE("classify") {
  TEST_CASE("two digits in one crop come out doubtful and single digits sure") {
    const auto images = read_idx_images(test::source_dir / "data/mnist/t10k-images-idx3-ubyte");
    Recogniser recogniser(load_model(test::source_dir / "models/digits-cnn.model"));
    ImageRecord singles, pairs;
    for (std::size_t i = 0; i < 100; ++i) {
      DigitRecord d;
      std::ranges::copy(images.image(i), d.pixels.begin());
      singles.digits.push_back(d);
      auto rng = sample_rng(17, 1, i);
      d.pixels = compose_not_digit(images.image(i), images.image(i + 100), rng);
      pairs.digits.push_back(d);
    }
    ClassifyOptions options;
    options.min_probability = 0.5;
    classify_record(singles, recogniser, options);
    classify_record(pairs, recogniser, options);
    const auto doubtful = [](const ImageRecord& r) {
      return std::ranges::count_if(r.digits, [](const DigitRecord& d) { return d.uncertain; });
    };
    MESSAGE("doubtful: " << doubtful(singles) << " of 100 digits, " << doubtful(pairs) << " of 100 pairs");
    CHECK(doubtful(singles) <= 2);
    CHECK(doubtful(pairs) >= 80);
    REQUIRE(pairs.text);
    CHECK(std::ranges::count(*pairs.text, '?') == doubtful(pairs));
    // The alternatives are probabilities of the same kind, best first.
    for (const auto& d : pairs.digits) {
      REQUIRE(d.probability);
      CHECK(d.alternatives.front().probability == doctest::Approx(*d.probability));
      CHECK(d.alternatives.front().probability >= d.alternatives.back().probability);
    }
  }
}
