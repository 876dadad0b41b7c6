// digits-classify as a user runs it, with the shipped model, on images made from MNIST test digits.

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "io/dataset.hpp"
#include "png_writer.hpp"
#include "support.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <sstream>

using namespace digits;
using nlohmann::json;

namespace {

std::string shipped_model() { return (test::source_dir / "models" / "digits-cnn.model").string(); }
std::string mnist(const char* file) { return (test::source_dir / "data" / "mnist" / file).string(); }

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

// Images of `cls` made by our generator from MNIST test digits, with their truth (truth.jsonl).
std::vector<json> generate(const fs::path& dir, const std::string& cls, int count, int seed) {
  const auto r = run_process({(test::bin_dir / "digits-gen-images").string(), "--mnist",
                              (test::source_dir / "data" / "mnist").string(), "--out", dir.string(), "--class", cls,
                              "--count", std::to_string(count), "--seed", std::to_string(seed)});
  REQUIRE(r.exit_code == 0);
  return json_lines(read_file(dir / "truth.jsonl"));
}

// A picture of three lines of digits (the generator's "multiline" class makes two to four) and its
// truth, whose text joins the lines with "\n" as digits-classify does.
std::pair<std::string, json> three_line_image(const fs::path& dir) {
  for (const auto& t : generate(dir, "multiline", 6, 3))
    if (t["lines"].back() == 2) return {(dir / t["image"].get<std::string>()).string(), t};
  FAIL("no three-line image among the generated ones");
  return {};
}

// The text a record's digits make, rebuilt here from their lines, as docs/FORMATS.md states it.
std::string text_from_digits(const json& record) {
  std::string text;
  int line = -1;
  for (const auto& d : record["digits"]) {
    if (line >= 0 && d["line"] != line) text += '\n';
    line = d["line"].get<int>();
    text += d.contains("uncertain") ? '?' : static_cast<char>('0' + d["digit"].get<int>());
  }
  return text;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

}  // namespace

TEST_SUITE("classify-cli") {
  TEST_CASE("MNIST test accuracy through --idx --labels equals the model card's figure") {
    const auto r = test::run_binary("digits-classify", {"--model", shipped_model(), "--idx", mnist("t10k-images-idx3-ubyte"),
                                                        "--labels", mnist("t10k-labels-idx1-ubyte")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json summary = json::parse(r.out);
    const json card = json::parse(read_file(test::source_dir / "models" / "digits-cnn.json"));
    CHECK(summary["samples"] == 10000);
    CHECK(summary["accuracy"].get<double>() == doctest::Approx(card["test_accuracy"].get<double>()).epsilon(1e-5));
    CHECK(summary["confusion"] == card["test"]["confusion"]);
    CHECK(summary["accuracy"].get<double>() >= 0.994);

    const auto plain = test::run_binary("digits-classify", {"--model", shipped_model(), "--idx", mnist("t10k-images-idx3-ubyte")});
    REQUIRE(plain.exit_code == 0);
    CHECK(test::line_count(plain.out) == 10000);
    CHECK(json::parse(plain.out.substr(0, plain.out.find('\n')))["index"] == 0);
  }

  TEST_CASE("generated multi-digit images read right and the pipeline equals the direct path") {
    const TempDir tmp;
    const auto truth = generate(tmp.path(), "clean", 20, 11);
    std::vector<std::string> images;
    for (const auto& t : truth) images.push_back((tmp.path() / t["image"].get<std::string>()).string());

    std::vector<std::string> args{"--model", shipped_model()};
    args.insert(args.end(), images.begin(), images.end());
    const auto direct = test::run_binary("digits-classify", args);
    REQUIRE(direct.exit_code == 0);
    const auto records = json_lines(direct.out);
    REQUIRE(records.size() == truth.size());
    int right = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      CHECK(records[i]["image"] == images[i]);  // input order
      right += records[i]["text"] == truth[i]["text"];
      for (const auto& d : records[i]["digits"]) {
        CHECK(d["alternatives"].size() == 3);
        CHECK(d["alternatives"][0]["digit"] == d["digit"]);
        CHECK(d["probability"].get<double>() > 0);
        CHECK_FALSE(d.contains("pixels"));  // only with --pixels
      }
    }
    CAPTURE(right);
    CHECK(right >= 18);  // whole strings of up to 10 digits, exactly right

    const auto segmented = test::run_binary("digits-segment", images);
    REQUIRE(segmented.exit_code == 0);
    const auto piped = test::run_binary("digits-classify", {"--model", shipped_model()}, segmented.out);
    REQUIRE(piped.exit_code == 0);
    CHECK(piped.out == direct.out);

    auto one_job = args;
    one_job.insert(one_job.begin(), {"--jobs", "1"});
    CHECK(test::run_binary("digits-classify", one_job).out == direct.out);
  }

  TEST_CASE("MNIST images as files read as well light on dark as dark on light at 28 and 112 px") {
    // MNIST's own form, 28x28 white on black, is what many users have in a folder, and a digit
    // drawn on a dark canvas is the same enlarged: such a picture is mostly ink around its middle,
    // and a bright thick 0 or 8 could pass for a sheet of paper on a desk.
    const auto data = load_dataset(test::source_dir / "data" / "mnist");
    constexpr int count = 500;
    for (const int side : {28, 112}) {
      CAPTURE(side);
      const TempDir tmp;
      for (const char* dir : {"light", "dark"}) fs::create_directories(tmp.path() / dir);
      for (std::size_t i = 0; i < count; ++i) {
        const auto pixels = data.test.images.image(i);
        cv::Mat light(28, 28, CV_8U, const_cast<std::uint8_t*>(pixels.data()));
        if (side != 28) cv::resize(light.clone(), light, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
        const std::string name = fmt::format("{:04d}.png", i);
        cv::imwrite((tmp.path() / "light" / name).string(), light);
        cv::imwrite((tmp.path() / "dark" / name).string(), 255 - light);
      }
      std::array<std::vector<std::string>, 2> texts;
      for (int k = 0; k < 2; ++k) {
        const auto r = test::run_binary("digits-classify", {"--format", "text", (tmp.path() / (k == 0 ? "light" : "dark")).string()});
        REQUIRE(r.exit_code == 0);
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);) texts[k].push_back(line.substr(line.find('\t') + 1));
        REQUIRE(texts[k].size() == count);
      }
      int right[2] = {0, 0}, differ = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const std::string truth(1, static_cast<char>('0' + data.test.labels.labels[i]));
        for (int k = 0; k < 2; ++k) right[k] += texts[k][i] == truth ? 1 : 0;
        differ += texts[0][i] != texts[1][i] ? 1 : 0;
      }
      MESSAGE(side << " px: light on dark " << right[0] << ", dark on light " << right[1] << ", differ " << differ << " of " << count);
      CHECK(right[0] >= 0.99 * count);
      CHECK(right[1] >= 0.99 * count);
      CHECK(differ <= 1);
    }
  }

  TEST_CASE("folders are expanded in name order and --format text and csv print what json says") {
    const TempDir tmp;
    const auto truth = generate(tmp.path() / "scans", "clean", 4, 5);
    const std::string folder = (tmp.path() / "scans").string();
    const auto records = json_lines(test::run_binary("digits-classify", {"--model", shipped_model(), folder}).out);
    REQUIRE(records.size() == truth.size());
    const auto text = test::run_binary("digits-classify", {"--model", shipped_model(), "--format", "text", folder});
    REQUIRE(text.exit_code == 0);
    std::istringstream lines(text.out);
    std::size_t i = 0, digits_total = 0;
    for (std::string line; std::getline(lines, line); ++i) {
      REQUIRE(i < truth.size());
      const auto tab = line.find('\t');
      REQUIRE(tab != std::string::npos);
      CHECK(fs::path(line.substr(0, tab)).filename() == truth[i]["image"].get<std::string>());  // name order
      CHECK(line.substr(tab + 1) == records[i]["text"].get<std::string>());
      digits_total += records[i]["digits"].size();
    }
    CHECK(i == truth.size());

    const auto csv = test::run_binary("digits-classify", {"--model", shipped_model(), "--format", "csv", folder});
    REQUIRE(csv.exit_code == 0);
    CHECK(csv.out.starts_with("file,index,line,digit,probability,x,y,w,h\n"));
    CHECK(test::line_count(csv.out) == digits_total + 1);
    const auto& first = records[0]["digits"][0];
    CHECK(csv.out.find(fmt::format(",0,{},{},", first["line"].get<int>(), first["digit"].get<int>())) != std::string::npos);

    // Below the minimum a digit becomes '?'; at or above it, it stays (probabilities in JSON are rounded).
    const double minimum = 0.999;
    const auto unsure = test::run_binary("digits-classify", {"--model", shipped_model(), "--format", "text",
                                                             "--min-probability", "0.999", folder});
    std::istringstream unsure_lines(unsure.out);
    std::size_t r = 0, marked = 0;
    for (std::string line; std::getline(unsure_lines, line); ++r) {
      const std::string digits = line.substr(line.find('\t') + 1);
      const auto& ds = records[r]["digits"];
      REQUIRE(digits.size() == ds.size());
      for (std::size_t k = 0; k < ds.size(); ++k) {
        const double p = ds[k]["probability"].get<double>();
        if (digits[k] == '?') {
          ++marked;
          CHECK(p <= minimum);
        } else {
          CHECK(p >= minimum);
          CHECK(digits[k] - '0' == ds[k]["digit"].get<int>());
        }
      }
    }
    CHECK(r == records.size());
    const auto all = test::run_binary("digits-classify", {"--model", shipped_model(), "--min-probability", "1", folder});
    CHECK(all.out.find("\"uncertain\":true") != std::string::npos);
  }

  TEST_CASE("a three-line image keeps its lines in JSON, text and CSV") {
    const TempDir tmp;
    const auto [image, truth] = three_line_image(tmp.path());
    const std::string expected = truth["text"].get<std::string>();
    REQUIRE(std::ranges::count(expected, '\n') == 2);

    // JSON: the lines joined by one "\n", none at the end; the line numbers say where they part.
    const auto r = test::run_binary("digits-classify", {"--model", shipped_model(), image});
    REQUIRE(r.exit_code == 0);
    const json record = json::parse(r.out);
    const std::string text = record["text"].get<std::string>();
    CHECK(text == expected);
    CHECK(text == text_from_digits(record));
    CHECK_FALSE(text.ends_with('\n'));
    const auto lines = split(text, '\n');
    REQUIRE(lines.size() == 3);
    for (const auto& line : lines) CHECK_FALSE(line.empty());
    CHECK(record["digits"].back()["line"] == 2);
    // Through a pipe the same, to the byte.
    const auto segmented = test::run_binary("digits-segment", {image});
    REQUIRE(segmented.exit_code == 0);
    CHECK(test::run_binary("digits-classify", {"--model", shipped_model()}, segmented.out).out == r.out);

    // Text: still one row for the image, the lines separated by one space.
    const auto row = test::run_binary("digits-classify", {"--model", shipped_model(), "--format", "text", image});
    REQUIRE(row.exit_code == 0);
    CHECK(row.out == fmt::format("{}\t{} {} {}\n", image, lines[0], lines[1], lines[2]));

    // CSV: a row per digit, its line in the third column, the digits of each line in order.
    const auto csv = test::run_binary("digits-classify", {"--model", shipped_model(), "--format", "csv", image});
    REQUIRE(csv.exit_code == 0);
    const auto rows = split(csv.out, '\n');
    REQUIRE(rows.size() == record["digits"].size() + 1);
    CHECK(rows[0] == "file,index,line,digit,probability,x,y,w,h");
    std::vector<std::string> csv_lines(3);
    for (std::size_t i = 1; i < rows.size(); ++i) {
      const auto columns = split(rows[i], ',');
      REQUIRE(columns.size() == 9);
      CHECK(columns[0] == image);
      CHECK(columns[1] == std::to_string(i - 1));
      const int line = std::stoi(columns[2]);
      CHECK(line == record["digits"][i - 1]["line"]);
      REQUIRE(line >= 0);
      REQUIRE(line < 3);
      csv_lines[line] += columns[3];
    }
    CHECK(csv_lines == lines);
  }

  TEST_CASE("records leave the crops out unless --pixels, which keeps digits-segment's own") {
    const TempDir tmp;
    const auto truth = generate(tmp.path(), "clean", 3, 13);
    std::vector<std::string> images;
    for (const auto& t : truth) images.push_back((tmp.path() / t["image"].get<std::string>()).string());
    const auto segmented = test::run_binary("digits-segment", images);
    REQUIRE(segmented.exit_code == 0);
    const auto segments = json_lines(segmented.out);

    std::vector<std::string> args{"--model", shipped_model()};
    args.insert(args.end(), images.begin(), images.end());
    const auto plain = test::run_binary("digits-classify", args);
    REQUIRE(plain.exit_code == 0);
    CHECK(plain.out.find("\"pixels\"") == std::string::npos);
    auto with_pixels = args;
    with_pixels.push_back("--pixels");
    const auto kept = test::run_binary("digits-classify", with_pixels);
    REQUIRE(kept.exit_code == 0);
    const auto records = json_lines(kept.out), plain_records = json_lines(plain.out);
    REQUIRE(records.size() == segments.size());
    std::size_t crops = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      REQUIRE(records[i]["digits"].size() == segments[i]["digits"].size());
      for (std::size_t k = 0; k < records[i]["digits"].size(); ++k, ++crops) {
        json digit = records[i]["digits"][k];
        CHECK(digit["pixels"] == segments[i]["digits"][k]["pixels"]);
        digit.erase("pixels");
        CHECK(digit == plain_records[i]["digits"][k]);  // nothing else differs
      }
    }
    CHECK(crops >= 3);
    CHECK(kept.out.size() > plain.out.size() + crops * 1000);

    // The pipe reads the segment records' crops, and prints them only when asked to.
    const auto piped = test::run_binary("digits-classify", {"--model", shipped_model()}, segmented.out);
    REQUIRE(piped.exit_code == 0);
    CHECK(piped.out == plain.out);
    const auto piped_kept = test::run_binary("digits-classify", {"--model", shipped_model(), "--pixels"}, segmented.out);
    REQUIRE(piped_kept.exit_code == 0);
    CHECK(piped_kept.out == kept.out);
    // Records with their crops can be read again; without them, each is an error that says why.
    CHECK(test::run_binary("digits-classify", {"--model", shipped_model(), "--pixels"}, kept.out).out == kept.out);
    const auto again = test::run_binary("digits-classify", {"--model", shipped_model()}, plain.out);
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("--pixels") != std::string::npos);

    // Only JSON records carry crops.
    CHECK(test::run_binary("digits-classify", {"--pixels", "--format", "text", images[0]}).exit_code == 2);
    CHECK(test::run_binary("digits-classify", {"--pixels", "--idx", mnist("t10k-images-idx3-ubyte")}).exit_code == 2);
  }

  TEST_CASE("a failing input gets an error record and the batch goes on to exit 1") {
    const TempDir tmp;
    const auto truth = generate(tmp.path(), "clean", 2, 9);
    write_file_atomic(tmp.path() / "notes.png", "this is text, not a picture");
    const std::vector<std::string> inputs{(tmp.path() / truth[0]["image"].get<std::string>()).string(),
                                          (tmp.path() / "notes.png").string(), (tmp.path() / "missing.png").string(),
                                          (tmp.path() / truth[1]["image"].get<std::string>()).string()};
    std::vector<std::string> args{"--model", shipped_model()};
    args.insert(args.end(), inputs.begin(), inputs.end());
    const auto r = test::run_binary("digits-classify", args);
    CHECK(r.exit_code == 1);
    const auto records = json_lines(r.out);
    REQUIRE(records.size() == 4);
    CHECK(records[0].contains("text"));
    CHECK(records[1] == json{{"image", inputs[1]}, {"error", records[1]["error"]}});
    CHECK(records[2].contains("error"));
    CHECK(records[3]["text"].is_string());
    CHECK(records[3].contains("digits"));
    CHECK(test::line_count(r.err) == 2);
    CHECK(r.err.find("digits-classify: error: " + inputs[1] + ": ") != std::string::npos);

    const auto bad_record = test::run_binary("digits-classify", {"--model", shipped_model()}, "{\"image\":\"x\"}\nnot json\n");
    CHECK(bad_record.exit_code == 1);
    CHECK(json_lines(bad_record.out).size() == 2);
  }

  TEST_CASE("--work-timeout makes a picture that takes longer an error, and the batch goes on") {
    const TempDir tmp;
    const auto truth = generate(tmp.path(), "clean", 1, 9);
    cv::Mat noise(400, 500, CV_8U);  // 3 s of CPU to read
    cv::RNG(1).fill(noise, cv::RNG::UNIFORM, 0, 256);
    cv::imwrite((tmp.path() / "noise.png").string(), noise);
    const std::string noisy = (tmp.path() / "noise.png").string(), writing = (tmp.path() / truth[0]["image"].get<std::string>()).string();
    const auto r = test::run_binary("digits-classify", {"--model", shipped_model(), "--work-timeout", "0.5", noisy, writing});
    CHECK(r.exit_code == 1);
    const auto records = json_lines(r.out);
    REQUIRE(records.size() == 2);
    CHECK(records[0]["error"].get<std::string>().find("CPU time") != std::string::npos);
    CHECK(records[1].contains("digits"));
    CHECK(test::line_count(r.err) == 1);
  }

  TEST_CASE("damaged pictures are one line of ours on stderr and no decoder's") {
    const TempDir tmp;
    cv::Mat picture(240, 320, CV_8UC3, cv::Scalar(235, 235, 235));
    cv::putText(picture, "3 7", {40, 170}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(20, 20, 20), 10);
    std::vector<std::uint8_t> jpeg;
    REQUIRE(cv::imencode(".jpg", picture, jpeg));
    // Entropy-coded bytes changed (never into a marker): libjpeg reads past them, and once
    // printed "Corrupt JPEG data" on our stderr.
    std::string damaged(jpeg.begin(), jpeg.end());
    for (std::size_t at = damaged.size() / 2; at + 4 < damaged.size(); at += 97)
      if (static_cast<std::uint8_t>(damaged[at]) < 0xF0 && static_cast<std::uint8_t>(damaged[at - 1]) != 0xFF)
        damaged[at] = static_cast<char>(damaged[at] ^ 0x0F);
    write_file_atomic(tmp.path() / "damaged.jpg", damaged);
    const auto read_past = test::run_binary("digits-classify", {"--model", shipped_model(), (tmp.path() / "damaged.jpg").string()});
    CHECK(read_past.exit_code == 0);
    CHECK(read_past.err.empty());
    // Cut short: an error, one line.
    write_file_atomic(tmp.path() / "cut.jpg", std::string(jpeg.begin(), jpeg.begin() + static_cast<long>(jpeg.size() / 2)));
    const auto cut = test::run_binary("digits-classify", {"--model", shipped_model(), (tmp.path() / "cut.jpg").string()});
    CHECK(cut.exit_code == 1);
    CHECK(test::line_count(cut.err) == 1);
    CHECK(cut.err.find("truncated") != std::string::npos);
  }

  TEST_CASE("damaged PNGs of every kind are one line of ours on stderr and no libpng's") {
    // The kinds libpng reads (palette, 16-bit, interlaced, tRNS): through cv::imdecode, libpng
    // printed "libpng error: ..." beside our line.
    const TempDir tmp;
    using test::png_kind;
    const std::vector<test::PngKind> kinds{
        png_kind(8, PNG_COLOR_TYPE_PALETTE, false, true), png_kind(16, PNG_COLOR_TYPE_RGB),
        png_kind(8, PNG_COLOR_TYPE_RGB, true),            png_kind(8, PNG_COLOR_TYPE_GRAY, false, true),
        png_kind(16, PNG_COLOR_TYPE_GRAY_ALPHA, true),    png_kind(8, PNG_COLOR_TYPE_RGB_ALPHA)};
    std::vector<std::string> files;
    int k = 0;
    for (const test::PngKind& kind : kinds) {
      const std::string good = test::write_png(kind, 96, 64, 7);
      const auto [data, length] = test::first_idat(good);
      std::string bad_crc = good;
      bad_crc[data + length / 2] = static_cast<char>(bad_crc[data + length / 2] ^ 1);
      // A zlib header that is not one, a checksum that is wrong, the file cut short.
      for (const std::string& bytes : {test::flip_in_idat(good, 0, 0xFF), bad_crc, good.substr(0, good.size() / 2)}) {
        files.push_back((tmp.path() / fmt::format("damaged-{}.png", k++)).string());
        write_file_atomic(files.back(), bytes);
      }
    }
    for (const auto& file : files) {
      CAPTURE(file);
      const auto r = test::run_binary("digits-classify", {"--model", shipped_model(), file});
      CHECK(r.exit_code == 1);
      CHECK(test::line_count(r.err) == 1);
      CHECK(r.err.find("digits-classify: error: " + file + ": cannot decode png image") == 0);
    }
    // A sound palette picture with a damaged text chunk: libpng warns and reads it; nothing to say.
    std::string warned = test::write_png(png_kind(8, PNG_COLOR_TYPE_PALETTE), 96, 64, 9);
    const std::string text("\0\0\0\x0dtEXtComment\0hello\0\0\0\0", 25);
    warned.insert(warned.size() - 12, text);
    write_file_atomic(tmp.path() / "warned.png", warned);
    const auto read = test::run_binary("digits-classify", {"--model", shipped_model(), (tmp.path() / "warned.png").string()});
    CHECK(read.exit_code == 0);
    CHECK(read.err.empty());
  }

  TEST_CASE("usage errors and a bad model are one line with the documented exit code") {
    const TempDir tmp;
    CHECK(test::run_binary("digits-classify", {"--labels", "x"}).exit_code == 2);
    CHECK(test::run_binary("digits-classify", {"--format", "xml", "a.png"}).exit_code == 2);
    write_file_atomic(tmp.path() / "m.model", "DIGITSNN but nothing else");
    const auto r = test::run_binary("digits-classify", {"--model", (tmp.path() / "m.model").string(), "a.png"});
    CHECK(r.exit_code == 1);
    CHECK(test::error_lines(r.err, "digits-classify") == 1);
  }
}
