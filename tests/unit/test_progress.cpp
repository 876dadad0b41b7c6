// The progress line as a function of counts and time: no rate until one means something.

#include <doctest/doctest.h>

#include "tool/progress.hpp"

using namespace digits;

TEST_SUITE("progress") {
  TEST_CASE("no rate before a second has been measured or before an item is done") {
    // digits-train's first bar came right after a batch: 16 samples in 15 microseconds.
    CHECK_FALSE(shown_rate(16, 15e-6));
    CHECK_FALSE(shown_rate(5000, 0.999));
    CHECK_FALSE(shown_rate(0, 30.0));  // a slow first item: nothing to say yet
    CHECK_FALSE(shown_rate(10, -1.0));
    REQUIRE(shown_rate(1000, rate_after_seconds));
    CHECK(*shown_rate(1000, 1.0) == doctest::Approx(1000));
    CHECK(*shown_rate(3, 12.0) == doctest::Approx(0.25));
  }

  TEST_CASE("the line shows count, then rate and time left once there is a rate") {
    CHECK(progress_text("epoch 1/5", 16, 54000, shown_rate(16, 15e-6), "loss 2.3021") ==
          "epoch 1/5 [                        ] 16/54000 loss 2.3021");
    CHECK(progress_text("epoch 1/5", 27000, 54000, shown_rate(27000 - 16, 30.0), "loss 0.1000") ==
          "epoch 1/5 [############            ] 27000/54000 899/s ETA 0:30 loss 0.1000");
    // Unknown total: a count, and a rate, never a time left.
    CHECK(progress_text("classify", 7, 0, std::nullopt, "") == "classify 7");
    CHECK(progress_text("classify", 120, 0, shown_rate(120, 2.0), "") == "classify 120 60/s");
    // Slow items keep their figure instead of rounding to 0/s.
    CHECK(progress_text("classify", 3, 10, shown_rate(2, 8.0), "") == "classify [#######                 ] 3/10 0.25/s ETA 0:28");
    // Done: no time left.
    CHECK(progress_text("classify", 10, 10, shown_rate(9, 9.0), "") == "classify [########################] 10/10 1/s");
  }

  TEST_CASE("durations read as minutes and seconds, hours when there are any") {
    CHECK(format_duration(0) == "0:00");
    CHECK(format_duration(123.4) == "2:03");
    CHECK(format_duration(3723) == "1:02:03");
  }
}
