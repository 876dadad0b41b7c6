// Segmentation's tuned numbers by name: every name in the table sets its own field and reads it
// back, a bad name or value is an error, and a number set reaches the stage that uses it.

#include <doctest/doctest.h>

#include "base/error.hpp"
#include "segment/blobs.hpp"
#include "segment/segment.hpp"
#include "segment/tuning.hpp"

#include <opencv2/imgproc.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>

using namespace digits;

namespace {

std::map<std::string, std::string> values(const Tuning& tuning) {
  std::map<std::string, std::string> out;
  for (const auto& v : tuning_values(tuning)) out[v.name] = v.value;
  return out;
}

// What the error says, or "" when there is none.
std::string error_of(std::string_view assignment) {
  Tuning tuning;
  try {
    set_tuning(tuning, assignment);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("segment") {
  TEST_CASE("every tuned number is named once, sets its own field and reads back") {
    const auto defaults = tuning_values(default_tuning());
    REQUIRE(defaults.size() > 100);
    std::set<std::string> names;
    for (const auto& v : defaults) {
      CAPTURE(v.name);
      CHECK(names.insert(v.name).second);
      CHECK(v.name.find('.') != std::string::npos);
      CHECK_FALSE(v.origin.empty());
    }
    const auto before = values(default_tuning());
    for (const auto& v : defaults) {
      CAPTURE(v.name);
      // 7 is a valid value of every field's type; 9 where the default is 7.
      const std::string other = v.value == "7" ? "9" : "7";
      Tuning tuning;
      set_tuning(tuning, v.name + "=" + other);
      auto after = values(tuning);
      CHECK(after[v.name] == other);
      after[v.name] = v.value;
      CHECK(after == before);  // no other field moved
      // The value as listed sets the default again.
      set_tuning(tuning, v.name + "=" + v.value);
      CHECK(values(tuning) == before);
    }
  }

  TEST_CASE("an unknown tuned number or a bad value is an error that says what there is") {
    CHECK(error_of("blobs.min_digit_height=12").empty());
    CHECK(error_of("binarise.lowest_floor=36.5").empty());
    const std::string field = error_of("blobs.min_digit_heigth=12");
    CHECK(field.find("blobs.min_digit_height") != std::string::npos);  // the stage's names listed
    const std::string stage = error_of("blob.min_digit_height=12");
    CHECK(stage.find("binarise") != std::string::npos);  // the stages listed
    CHECK(stage.find("reading") != std::string::npos);
    CHECK_FALSE(error_of("blobs.min_digit_height").empty());      // no value
    CHECK_FALSE(error_of("blobs.min_digit_height=8.5").empty());  // an int
    CHECK_FALSE(error_of("blobs.min_digit_height=").empty());
    CHECK_FALSE(error_of("reading.max_blobs=-1").empty());        // a count
    CHECK_FALSE(error_of("binarise.lowest_floor=forty").empty());
    CHECK_FALSE(error_of("binarise.lowest_floor=inf").empty());
    CHECK_FALSE(error_of("binarise.lowest_floor=40 ").empty());
  }

  TEST_CASE("a tuned number set reaches the stage that uses it") {
    // Three digits 60 px tall on a page; a digit must be 80 px tall to count.
    cv::Mat page(200, 400, CV_8U, cv::Scalar(235));
    cv::putText(page, "305", {40, 140}, cv::FONT_HERSHEY_SIMPLEX, 3, cv::Scalar(30), 8);
    REQUIRE(segment_image(page).digits.size() == 3);
    Tuning tuning;
    set_tuning(tuning, "blobs.min_digit_height=80");
    SegmentOptions options;
    options.tuning = std::make_shared<const Tuning>(tuning);
    CHECK(segment_image(page, options).digits.empty());
    // The stage alone, with the same number.
    cv::Mat mask = cv::Mat::zeros(200, 400, CV_8U);
    cv::rectangle(mask, cv::Rect(50, 50, 40, 60), cv::Scalar(255), 6);
    const auto blobs = find_blobs(mask);
    CHECK(drop_marks(blobs, 60).size() == 1);
    CHECK(drop_marks(blobs, 60, tuning.blobs).empty());
  }
}
