// digits-segment as a user runs it, on images from digits-gen-images (MNIST test digits).

#include <doctest/doctest.h>

#include "base/files.hpp"
#include "io/records.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <sstream>

using namespace digits;
using nlohmann::json;

namespace {

const std::string seg = "digits-segment";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<json> generate(const fs::path& dir, const std::string& kind, int count, const std::vector<std::string>& more = {},
                           int seed = 11) {
  std::vector<std::string> argv{(test::bin_dir / "digits-gen-images").string(), "--mnist",
                                (test::source_dir / "data/mnist").string(), "--out", dir.string(), "--class", kind,
                                "--count", std::to_string(count), "--seed", std::to_string(seed)};
  argv.insert(argv.end(), more.begin(), more.end());
  const auto r = run_process(argv);
  REQUIRE(r.exit_code == 0);
  std::vector<json> truths;
  for (const auto& line : lines_of(read_file(dir / "truth.jsonl"))) truths.push_back(json::parse(line));
  REQUIRE(truths.size() == static_cast<std::size_t>(count));
  return truths;
}

double iou(const Box& a, const json& b) {
  const int x0 = std::max(a.x, b[0].get<int>()), y0 = std::max(a.y, b[1].get<int>());
  const int x1 = std::min(a.x + a.w, b[0].get<int>() + b[2].get<int>());
  const int y1 = std::min(a.y + a.h, b[1].get<int>() + b[3].get<int>());
  const double inter = std::max(0, x1 - x0) * static_cast<double>(std::max(0, y1 - y0));
  return inter / (a.w * a.h + b[2].get<double>() * b[3].get<double>() - inter);
}

// The share of images whose digits are all found, in order, on the right lines, boxes IoU >= 0.5.
double share_right(const std::string& kind, int count) {
  const TempDir tmp;
  const auto truths = generate(tmp.path(), kind, count);
  std::vector<std::string> args;
  for (const auto& t : truths) args.push_back((tmp.path() / t["image"].get<std::string>()).string());
  const auto r = test::run_binary(seg, args);
  CHECK(r.exit_code == 0);
  const auto out = lines_of(r.out);
  REQUIRE(out.size() == truths.size());
  int right = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const ImageRecord record = parse_image_record(out[i]);
    CHECK(record.image == args[i]);
    CHECK(record.width == truths[i]["width"].get<int>());
    const auto& boxes = truths[i]["boxes"];
    bool ok = record.digits.size() == boxes.size();
    for (std::size_t d = 0; ok && d < boxes.size(); ++d)
      ok = iou(record.digits[d].box, boxes[d]) >= 0.5 && record.digits[d].line == truths[i]["lines"][d].get<int>();
    right += ok ? 1 : 0;
  }
  const double share = static_cast<double>(right) / count;
  MESSAGE(kind << ": " << right << "/" << count);
  return share;
}

std::string png(const cv::Mat& img) {
  std::vector<std::uint8_t> bytes;
  cv::imencode(".png", img, bytes);
  return {bytes.begin(), bytes.end()};
}

cv::Mat written(const std::string& text) {
  cv::Mat img(200, 500, CV_8U, cv::Scalar(240));
  cv::putText(img, text, {30, 140}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(20), 10);
  return img;
}

// Each of `count` framed 4000x3000 photos of `kind` reads the same with the polarity detected as
// told with `--invert told`.
void reads_as_told(const std::string& kind, int count, int seed, const std::string& told) {
  const TempDir tmp;
  const auto truths = generate(tmp.path(), kind, count, {"--frame", "4000", "3000"}, seed);
  std::vector<std::string> args;
  for (const auto& t : truths) args.push_back((tmp.path() / t["image"].get<std::string>()).string());
  const auto automatic = test::run_binary(seg, args);
  args.insert(args.begin(), {"--invert", told});
  const auto as_told = test::run_binary(seg, args);
  REQUIRE(automatic.exit_code == 0);
  REQUIRE(as_told.exit_code == 0);
  const auto a = lines_of(automatic.out), t = lines_of(as_told.out);
  REQUIRE(a.size() == truths.size());
  REQUIRE(t.size() == truths.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(truths[i]["image"]);
    CHECK(a[i] == t[i]);
  }
}

}  // namespace

// Floors are the measured rates at seed 11 less a margin; the targets (99/97/95%) are
// measured by bench-segment on 1000 images per class.
TEST_SUITE("segment-cli") {
  TEST_CASE("clean single lines are segmented") { CHECK(share_right("clean", 60) >= 0.95); }
  TEST_CASE("touching digits are segmented") { CHECK(share_right("touching", 60) >= 0.85); }
  TEST_CASE("photo-like images are segmented") { CHECK(share_right("photo", 60) >= 0.88); }
  TEST_CASE("several lines are segmented in reading order") { CHECK(share_right("multiline", 60) >= 0.88); }
  TEST_CASE("ruled paper is segmented") { CHECK(share_right("ruled", 60) >= 0.9); }
  TEST_CASE("grid paper is segmented") { CHECK(share_right("grid", 60) >= 0.85); }
  TEST_CASE("light ink on dark is segmented") { CHECK(share_right("inverted", 60) >= 0.93); }
  TEST_CASE("transparent canvas drawings are segmented") { CHECK(share_right("canvas", 60) >= 0.93); }
  TEST_CASE("a sheet photographed on a desk is segmented") { CHECK(share_right("desk", 60) >= 0.8); }
  TEST_CASE("a fine pen's thin strokes are segmented") { CHECK(share_right("pen", 60) >= 0.9); }
  TEST_CASE("a photo in dim light (faint ink and strong sensor noise) is segmented") {
    CHECK(share_right("dim", 60) >= 0.75);
  }
  TEST_CASE("drawings from the page's pad are segmented") { CHECK(share_right("pad", 60) >= 0.95); }  // 60/60

  TEST_CASE("dark writing in a large photo with light falling across it is read as dark on light") {
    // A 12 MP phone photo where one line of writing fills a small part of the frame: the patches of
    // light and shade are far more of the picture than the ink.
    reads_as_told("pen", 12, 11, "no");
  }

  TEST_CASE("light writing small in a large dark photo is read as light on dark") {
    // A blackboard photographed whole: at the 75 px the polarity was judged at, the chalk of a line
    // 20 px tall vanished (images 24, 27 and 33 of seed 7).
    reads_as_told("inverted", 34, 7, "yes");
  }

  TEST_CASE("the generator lists the classes above for bench-segment") {
    const auto r = run_process({(test::bin_dir / "digits-gen-images").string(), "--list-classes"});
    REQUIRE(r.exit_code == 0);
    // A new class must get a floor here too.
    CHECK(lines_of(r.out) == std::vector<std::string>{"clean", "touching", "photo", "multiline", "ruled", "grid",
                                                      "inverted", "canvas", "desk", "pen", "dim", "pad"});
  }

  TEST_CASE("bad inputs give error records and the batch goes on") {
    const TempDir tmp;
    const auto put = [&](const std::string& name, const std::string& bytes) {
      write_file_atomic(tmp.path() / name, bytes);
      return (tmp.path() / name).string();
    };
    std::string huge = png(written("1")).substr(0, 33);
    for (int i = 16; i < 24; ++i) huge[static_cast<std::size_t>(i)] = "\x00\x00\x75\x30\x00\x00\x75\x30"[i - 16];  // 30000x30000
    const std::vector<std::string> bad{put("empty.png", ""), put("text.png", "just some text\n"),
                                       put("cut.png", png(written("42")).substr(0, 300)),
                                       put("dot.png", png(cv::Mat(1, 1, CV_8U, cv::Scalar(0)))),
                                       put("huge.png", huge + std::string(100, '\0')),
                                       (tmp.path() / "missing.png").string()};
    const std::string good = put("good.png", png(written("42")));
    for (const auto& path : bad) {
      CAPTURE(path);
      const auto r = test::run_binary(seg, {good, path, good});
      CHECK(r.exit_code == 1);
      const auto out = lines_of(r.out);
      REQUIRE(out.size() == 3);
      const json error = json::parse(out[1]);
      CHECK(error["image"] == path);
      CHECK_FALSE(error["error"].get<std::string>().empty());
      CHECK(json::parse(out[0])["digits"].size() == 2);
      CHECK(json::parse(out[2])["digits"].size() == 2);
      CHECK(test::error_lines(r.err, seg) == 1);
      CHECK(r.err.find(path + ": ") != std::string::npos);
    }
  }

  TEST_CASE("standard input and a blank picture") {
    const auto r = test::run_binary(seg, {"-"}, png(written("7 0 3")));
    CHECK(r.exit_code == 0);
    const json record = json::parse(r.out);
    CHECK(record["image"] == "-");
    CHECK(record["digits"].size() == 3);
    CHECK(record["digits"][0]["pixels"].get<std::string>().size() == 1048);  // base64 of 784 bytes
    const auto blank = test::run_binary(seg, {"-"}, png(cv::Mat(300, 300, CV_8U, cv::Scalar(200))));
    CHECK(blank.exit_code == 0);
    CHECK(json::parse(blank.out)["digits"] == json::array());
  }

  TEST_CASE("--debug writes an overlay and a contact sheet") {
    const TempDir tmp;
    write_file_atomic(tmp.path() / "in.png", png(written("51")));
    const auto r = test::run_binary(seg, {"--debug", (tmp.path() / "dbg").string(), (tmp.path() / "in.png").string()});
    CHECK(r.exit_code == 0);
    const cv::Mat overlay = cv::imread((tmp.path() / "dbg/in.overlay.png").string());
    const cv::Mat sheet = cv::imread((tmp.path() / "dbg/in.crops.png").string());
    CHECK(overlay.size() == cv::Size(500, 200));
    CHECK(sheet.cols > 2 * 28);
  }

  TEST_CASE("option values are checked") {
    CHECK(test::run_binary(seg, {"--invert", "maybe", "x.png"}).exit_code == 2);
    CHECK(test::run_binary(seg, {}).exit_code == 2);
    CHECK(test::run_binary(seg, {"-", "-"}).exit_code == 2);
    const auto limited = test::run_binary(seg, {"--max-pixels", "1000", "-"}, png(written("1")));
    CHECK(limited.exit_code == 1);
    CHECK(limited.out.find("limit") != std::string::npos);
    const auto inverted = test::run_binary(seg, {"--invert", "no", "-"}, png(written("8")));
    CHECK(json::parse(inverted.out)["digits"].size() == 1);
    // The model judges touching digits, so a missing one is an error before any image is read.
    const auto no_model = test::run_binary(seg, {"--model", "/nonexistent/m.model", "-"}, png(written("8")));
    CHECK(no_model.exit_code == 1);
    CHECK(test::error_lines(no_model.err, seg) == 1);
    CHECK(no_model.out.empty());
  }
}
