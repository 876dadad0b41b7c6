#include <doctest/doctest.h>

#include "base/error.hpp"
#include "io/records.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

using namespace digits;
using json = nlohmann::ordered_json;

using test::sample_record;

TEST_SUITE("records") {
  TEST_CASE("segment and classification records survive a round trip through one JSON line") {
    for (const bool classified : {false, true}) {
      const ImageRecord r = sample_record(classified);
      const std::string line = to_json_line(r);
      CHECK(line.find('\n') == std::string::npos);
      CHECK(parse_image_record(line) == r);
    }
  }

  TEST_CASE("the fields are named and shaped as docs/FORMATS.md says") {
    const json j = json::parse(to_json_line(sample_record(true)));
    std::vector<std::string> keys;
    for (const auto& [key, value] : j.items()) keys.push_back(key);
    CHECK(keys == std::vector<std::string>{"image", "width", "height", "digits", "text"});
    const auto& d = j["digits"][0];
    CHECK(d["box"] == json::array({10, 20, 30, 45}));
    CHECK(d["line"] == 0);
    CHECK(d["pixels"].get<std::string>().size() == 1048);  // base64 of 784 bytes
    CHECK(d["digit"] == 1);
    CHECK(d["probability"] == doctest::Approx(0.9876));
    CHECK(d["alternatives"].size() == 3);
    CHECK(d["alternatives"][1] == json{{"digit", 7}, {"probability", 0.01}});
    CHECK_FALSE(d.contains("uncertain"));
    CHECK(j["digits"][2]["uncertain"] == true);
    CHECK(j["text"] == "12\n?");
  }

  TEST_CASE("the text is the digits in reading order, its lines joined by one newline") {
    const auto digits_on = [](const std::vector<std::pair<int, int>>& line_and_digit) {
      std::vector<DigitRecord> out;
      for (const auto& [line, digit] : line_and_digit) {
        DigitRecord d;
        d.line = line;
        d.digit = digit;
        out.push_back(d);
      }
      return out;
    };
    CHECK(record_text({}) == "");
    CHECK(record_text(digits_on({{0, 4}, {0, 2}})) == "42");  // one line: no newline at all
    // "557", "3035?", "8867548": three lines, the uncertain digit a '?', no newline at the end.
    auto page = digits_on({{0, 5}, {0, 5}, {0, 7}, {1, 3}, {1, 0}, {1, 3}, {1, 5}, {1, 9},
                           {2, 8}, {2, 8}, {2, 6}, {2, 7}, {2, 5}, {2, 4}, {2, 8}});
    page[7].uncertain = true;
    CHECK(record_text(page) == "557\n3035?\n8867548");
    // A line that starts with an uncertain digit, and lines numbered with gaps: still one newline each.
    CHECK(record_text(digits_on({{0, 1}, {2, 2}, {5, 3}})) == "1\n2\n3");
    auto doubtful = digits_on({{0, 1}, {1, 2}});
    doubtful[1].uncertain = true;
    CHECK(record_text(doubtful) == "1\n?");
    // A digit not yet classified has nothing to show but a '?'.
    CHECK(record_text(std::vector<DigitRecord>(1)) == "?");
  }

  TEST_CASE("classified records leave the crops out unless asked to keep them") {
    const ImageRecord r = sample_record(true);
    const json kept = json::parse(to_json_line(r, Pixels::keep));
    const json dropped = json::parse(to_json_line(r, Pixels::drop));
    CHECK(kept["digits"][0].contains("pixels"));
    for (const auto& d : dropped["digits"]) {
      CHECK_FALSE(d.contains("pixels"));
      CHECK(d.contains("digit"));
    }
    // Everything else is the same, field for field.
    json without = kept;
    for (auto& d : without["digits"]) d.erase("pixels");
    CHECK(without == dropped);
    CHECK(to_json_line(r) == to_json_line(r, Pixels::keep));  // a segment record always has them
    // A record without crops cannot be classified again, and the error says how to keep them.
    try {
      parse_image_record(to_json_line(r, Pixels::drop));
      FAIL("a record without pixels was accepted");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("\"pixels\"") != std::string::npos);
      CHECK(std::string(e.what()).find("--pixels") != std::string::npos);
    }
  }

  TEST_CASE("an image with no digits is a valid record with an empty array") {
    ImageRecord r;
    r.image = "blank.png";
    r.width = 10;
    r.height = 10;
    const json j = json::parse(to_json_line(r));
    CHECK(j["digits"] == json::array());
    CHECK(parse_image_record(to_json_line(r)) == r);
  }

  TEST_CASE("an error record carries only the image and the error") {
    ImageRecord r;
    r.image = "broken.png";
    r.error = "cannot decode image";
    const json j = json::parse(to_json_line(r));
    CHECK(j == json{{"image", "broken.png"}, {"error", "cannot decode image"}});
    CHECK(parse_image_record(to_json_line(r)) == r);
  }

  TEST_CASE("malformed records are errors that name the problem") {
    const auto message = [](std::string_view line) {
      try {
        parse_image_record(line);
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    CHECK(message("{not json").find("not a JSON record") != std::string::npos);
    CHECK(message("[1,2]").find("JSON object") != std::string::npos);
    CHECK(message(R"({"image":"a","width":1,"height":1})").find("\"digits\"") != std::string::npos);
    CHECK(message(R"({"image":"a","width":"x","height":1,"digits":[]})").find("\"width\"") != std::string::npos);
    // Numbers that do not fit: past a double (nlohmann's out_of_range), past an int, not whole.
    CHECK(message(R"({"image":"a","width":1e600,"height":1,"digits":[]})").find("not a JSON record") != std::string::npos);
    CHECK(message(R"({"image":"a","width":1e300,"height":1,"digits":[]})").find("whole number") != std::string::npos);
    CHECK(message(R"({"image":"a","width":3000000000,"height":1,"digits":[]})").find("whole number") != std::string::npos);
    CHECK(message(R"({"image":"a","width":-3000000000,"height":1,"digits":[]})").find("whole number") != std::string::npos);
    CHECK(message(R"({"image":"a","width":2.5,"height":1,"digits":[]})").find("whole number") != std::string::npos);
    CHECK(message(R"({"image":"a","width":1,"height":1,"digits":[{"box":[1,2,3],"line":0,"pixels":""}]})")
              .find("box") != std::string::npos);
    // A probability outside [0, 1]: 1e305 was once read, then written as null (found by fuzzing).
    const std::string crop = "\"pixels\":\"" + std::string(1046, 'A') + "==\"";  // 784 zero bytes
    for (const std::string p : {"1e305", "-0.5", "1.0001"}) {
      CAPTURE(p);
      CHECK(message(R"({"image":"a","width":1,"height":1,"digits":[{"box":[1,2,3,4],"line":0,)" + crop +
                    R"(,"probability":)" + p + "}]}")
                .find("not between 0 and 1") != std::string::npos);
      CHECK(message(R"({"image":"a","width":1,"height":1,"digits":[{"box":[1,2,3,4],"line":0,)" + crop +
                    R"(,"alternatives":[{"digit":1,"probability":)" + p + "}]}]}")
                .find("not between 0 and 1") != std::string::npos);
    }
    CHECK(message(R"({"image":"a","width":1,"height":1,"digits":[{"box":[1,2,3,4],"line":0,"pixels":"AAAA"}]})")
              .find("784") != std::string::npos);
  }
}
