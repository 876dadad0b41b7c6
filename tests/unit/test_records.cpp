#include <doctest/doctest.h>

#include "error.hpp"
#include "records.hpp"

#include <nlohmann/json.hpp>

using namespace digits;
using json = nlohmann::ordered_json;

namespace {
ImageRecord sample_record(bool classified) {
  ImageRecord r;
  r.image = "scans/a b.png";
  r.width = 640;
  r.height = 480;
  for (int i = 0; i < 3; ++i) {
    DigitRecord d;
    d.box = {10 + 40 * i, 20, 30, 45};
    d.line = i / 2;
    for (std::size_t p = 0; p < crop_pixels; ++p) d.pixels[p] = static_cast<std::uint8_t>((p * 7 + i) & 0xff);
    if (classified) {
      d.digit = i + 1;
      d.probability = 0.9876;
      d.alternatives = {{i + 1, 0.9876}, {7, 0.01}, {0, 0.0012}};
      d.uncertain = i == 2;
    }
    r.digits.push_back(d);
  }
  if (classified) r.text = "12?";
  return r;
}
}  // namespace

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
    CHECK(j["text"] == "12?");
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
    CHECK(message(R"({"image":"a","width":1,"height":1,"digits":[{"box":[1,2,3],"line":0,"pixels":""}]})")
              .find("box") != std::string::npos);
    CHECK(message(R"({"image":"a","width":1,"height":1,"digits":[{"box":[1,2,3,4],"line":0,"pixels":"AAAA"}]})")
              .find("784") != std::string::npos);
  }

  TEST_CASE("the server response has the seed's shape in reading order") {
    const json j = server_response(sample_record(true), 2);
    CHECK(j["success"] == true);
    REQUIRE(j["predictions"].size() == 3);
    CHECK(j["predictions"][0]["digit"] == 1);
    CHECK(j["predictions"][0]["box"] == json::array({10, 20, 30, 45}));
    CHECK(j["predictions"][0]["alternatives"].size() == 2);
    CHECK(j["predictions"][2]["uncertain"] == true);
    CHECK(j["text"] == "12?");
    CHECK_FALSE(server_response(sample_record(true))["predictions"][0].contains("alternatives"));
    CHECK(server_error("no file") == json{{"success", false}, {"error", "no file"}});
  }
}
