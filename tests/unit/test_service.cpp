// The server's shared memory budget: requests hold what their picture will cost while it is
// decoded and read, and wait (or are refused) when the others hold the rest. And the bound on
// one request's work.

#include <doctest/doctest.h>

#include "serve/service.hpp"
#include "support.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <future>
#include <thread>

using namespace digits;
using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

TEST_SUITE("service") {
  TEST_CASE("the server response has the seed's shape in reading order") {
    const json j = server_response(test::sample_record(true), 2);
    CHECK(j["success"] == true);
    REQUIRE(j["predictions"].size() == 3);
    CHECK(j["predictions"][0]["digit"] == 1);
    CHECK(j["predictions"][0]["box"] == json::array({10, 20, 30, 45}));
    CHECK(j["predictions"][0]["alternatives"].size() == 2);
    CHECK(j["predictions"][2]["uncertain"] == true);
    CHECK(j["predictions"][2]["line"] == 1);
    CHECK(j["text"] == "12\n?");  // the same text as the records', lines joined by "\n"
    CHECK_FALSE(server_response(test::sample_record(true))["predictions"][0].contains("alternatives"));
    CHECK(server_error("no file") == json{{"success", false}, {"error", "no file"}});
  }

  TEST_CASE("a memory budget lets requests in while they fit, and the next in when one ends") {
    MemoryBudget budget(100);
    auto first = budget.acquire(60, 0ms);
    REQUIRE(first.has_value());
    CHECK(budget.in_use() == 60);
    CHECK_FALSE(budget.acquire(50, 20ms).has_value());  // 110 > 100: refused after waiting
    auto waiting = std::async(std::launch::async, [&] { return budget.acquire(50, 5s).has_value(); });
    std::this_thread::sleep_for(50ms);
    first.reset();  // the first request ends
    CHECK(waiting.get());
    CHECK(budget.in_use() == 0);  // the waiter's hold ended with its task
    // Larger than the whole budget: in when alone, never refused for ever.
    auto big = budget.acquire(500, 0ms);
    CHECK(big.has_value());
    CHECK_FALSE(budget.acquire(1, 0ms).has_value());
  }

  TEST_CASE("what a picture is expected to cost grows with its decoded pixels") {
    const auto encode = [](int w, int h, const char* ext) {
      std::vector<std::uint8_t> bytes;
      REQUIRE(cv::imencode(ext, cv::Mat(h, w, CV_8UC3, cv::Scalar(200, 200, 200)), bytes));
      return std::string(bytes.begin(), bytes.end());
    };
    const std::size_t small = expected_memory(encode(100, 100, ".png"), 1600);
    const std::size_t large = expected_memory(encode(4000, 3000, ".png"), 1600);
    CHECK(large - small == (std::size_t{4000} * 3000 - 100 * 100) * 8);
    // A JPEG of the same size is decoded at a quarter of its sides for a working size of 1000.
    CHECK(expected_memory(encode(4000, 3000, ".jpg"), 1000) == small + (std::size_t{1000} * 750 - 100 * 100) * 8);
    CHECK(expected_memory("not a picture", 1600) == small - std::size_t{100} * 100 * 8);
  }

  TEST_CASE("a picture needing more work than a request may have is answered 413 in JSON") {
    // Uniform noise: thousands of specks, each a candidate digit.
    cv::Mat noise(400, 500, CV_8U);
    cv::RNG(1).fill(noise, cv::RNG::UNIFORM, 0, 256);
    std::vector<std::uint8_t> png;
    REQUIRE(cv::imencode(".png", noise, png));
    HttpRequest request{"POST", "/api/digit_recognize", {}, "image/png", std::string(png.begin(), png.end()), {}};
    ServiceOptions options;
    options.work_timeout_seconds = 1e-9;  // passed by the first look at it
    Service service(load_model(test::source_dir / "models/digits-cnn.model"), options);
    const HttpResponse r = service.handle(request);
    CHECK(r.status == 413);
    const auto body = nlohmann::json::parse(r.body);
    CHECK(body["success"] == false);
    CHECK(body["error"].get<std::string>().find("CPU time") != std::string::npos);
    // Writing, with the default time, is read.
    cv::Mat writing(200, 400, CV_8U, cv::Scalar(255));
    cv::putText(writing, "3 8 1", {40, 140}, cv::FONT_HERSHEY_SIMPLEX, 4, cv::Scalar(30), 10);
    REQUIRE(cv::imencode(".png", writing, png));
    request.body.assign(png.begin(), png.end());
    Service roomy(load_model(test::source_dir / "models/digits-cnn.model"), ServiceOptions{});
    const HttpResponse read = roomy.handle(request);
    CHECK(read.status == 200);
    CHECK(nlohmann::json::parse(read.body)["text"] == "381");
  }
}
