// How a classified record prints in each format: the lines of its text in JSON, text and CSV, and
// the crops only when asked for.

#include <doctest/doctest.h>

#include "tool/output.hpp"

#include <nlohmann/json.hpp>

using namespace digits;
using json = nlohmann::ordered_json;

namespace {
// "12" on the top line and "3?" (its 4 doubtful) below it, as classify_record leaves them.
ImageRecord two_lines() {
  ImageRecord r;
  r.image = "scans/page 1.png";
  r.width = 400;
  r.height = 200;
  const int lines[] = {0, 0, 1, 1};
  for (int i = 0; i < 4; ++i) {
    DigitRecord d;
    d.box = {10 + 50 * (i % 2), 20 + 80 * lines[i], 30, 45};
    d.line = lines[i];
    d.pixels.fill(static_cast<std::uint8_t>(i));
    d.digit = i + 1;
    d.probability = i == 3 ? 0.4 : 0.99;
    d.alternatives = {{i + 1, *d.probability}};
    d.uncertain = i == 3;
    r.digits.push_back(d);
  }
  r.text = record_text(r.digits);
  return r;
}
}  // namespace

TEST_SUITE("output") {
  TEST_CASE("JSON keeps the text's newline and drops the crops unless kept") {
    const ImageRecord r = two_lines();
    const std::string line = format_record(r, OutputFormat::json, Pixels::drop);
    REQUIRE(line.ends_with("\n"));
    CHECK(line.find('\n') == line.size() - 1);  // still one line: the newline inside is escaped
    const json j = json::parse(line);
    CHECK(j["text"] == "12\n3?");
    CHECK_FALSE(j["digits"][0].contains("pixels"));
    CHECK(json::parse(format_record(r, OutputFormat::json, Pixels::keep))["digits"][0].contains("pixels"));
  }

  TEST_CASE("text is one row per image, the lines separated by a space") {
    CHECK(format_record(two_lines(), OutputFormat::text, Pixels::drop) == "scans/page 1.png\t12 3?\n");
    ImageRecord one = two_lines();
    one.digits.resize(2);
    one.text = record_text(one.digits);
    CHECK(format_record(one, OutputFormat::text, Pixels::drop) == "scans/page 1.png\t12\n");
    ImageRecord none = two_lines();
    none.digits.clear();
    none.text = record_text(none.digits);
    CHECK(format_record(none, OutputFormat::text, Pixels::drop) == "scans/page 1.png\t\n");
    // A name with a newline, a tab or a backslash stays on its row, escaped as C would write it.
    ImageRecord odd = one;
    odd.image = "a\nb\tc\\d\x01.png";
    CHECK(format_record(odd, OutputFormat::text, Pixels::drop) == "a\\nb\\tc\\\\d\\x01.png\t12\n");
  }

  TEST_CASE("CSV has a row per digit with its line, '?' for a doubtful digit") {
    CHECK(csv_header() == "file,index,line,digit,probability,x,y,w,h\n");
    CHECK(format_record(two_lines(), OutputFormat::csv, Pixels::drop) ==
          "scans/page 1.png,0,0,1,0.9900,10,20,30,45\n"
          "scans/page 1.png,1,0,2,0.9900,60,20,30,45\n"
          "scans/page 1.png,2,1,3,0.9900,10,100,30,45\n"
          "scans/page 1.png,3,1,?,0.4000,60,100,30,45\n");
    CHECK(csv_field("a,b.png") == "\"a,b.png\"");
    CHECK(csv_field("say \"7\".png") == "\"say \"\"7\"\".png\"");
  }

  TEST_CASE("an error record prints only in JSON") {
    ImageRecord r;
    r.image = "broken.png";
    r.error = "cannot decode image";
    CHECK(format_record(r, OutputFormat::json, Pixels::drop) == "{\"image\":\"broken.png\",\"error\":\"cannot decode image\"}\n");
    CHECK(format_record(r, OutputFormat::text, Pixels::drop).empty());
    CHECK(format_record(r, OutputFormat::csv, Pixels::drop).empty());
  }
}
