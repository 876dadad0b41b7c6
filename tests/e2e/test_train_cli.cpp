// digits-train as a user runs it: files written, card contents, --evaluate, SIGINT, errors.

#include <doctest/doctest.h>

#include "base/error.hpp"
#include "base/files.hpp"
#include "recognise/model.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <csignal>
#include <thread>

using namespace digits;
using nlohmann::json;

namespace {
std::string mnist_dir() { return (test::source_dir / "data" / "mnist").string(); }
}  // namespace

// The trainings are in the suite (ctest label) `training`, which `make test-sanitize` leaves out
// (the unit suite `train` keeps short ones there, so tiny-dnn's kernels still run sanitized).
TEST_SUITE("train-cli") {
  TEST_CASE("a smoke training writes the model and a complete card and picture" * doctest::test_suite("training")) {
    const TempDir tmp;
    const auto out = tmp.path() / "smoke";
    const auto r = test::run_binary("digits-train", {"--data", mnist_dir(), "--out", out.string(), "--subset", "2000",
                                                     "--epochs", "2", "--batch", "16", "--learning-rate", "0.004", "--seed", "5"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(test::line_count(r.out) == 2);  // one JSON line per epoch
    const json epoch = json::parse(r.out.substr(0, r.out.find('\n')));
    for (const char* key : {"epoch", "loss", "val_accuracy", "seconds"}) CHECK(epoch.contains(key));

    const Model model = load_model(tmp.path() / "smoke.model");
    CHECK(model.architecture == "cnn-24-48-128");
    CHECK(fs::file_size(tmp.path() / "smoke.model") < 5u << 20);
    const json card = json::parse(read_file(tmp.path() / "smoke.json"));
    for (const char* key : {"architecture", "parameters", "command_line", "seed", "data", "training", "validation_accuracy",
                            "test_accuracy", "test", "history"})
      CHECK(card.contains(key));
    CHECK(card["seed"] == 5);
    CHECK(card["parameters"] == model.parameter_count());
    CHECK(card["data"]["sha256"]["t10k-labels-idx1-ubyte"] == "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");
    CHECK(card["test"]["confusion"].size() == 10);
    CHECK(card["test"]["confusion"][3].size() == 10);
    CHECK(card["test"]["samples"] == 10000);
    CHECK(card["test"]["most_confused"].size() == 10);
    CHECK(card["test_accuracy"].get<double>() > 0.85);
    CHECK(card["command_line"].get<std::string>().starts_with("digits-train --data"));
    const cv::Mat picture = cv::imread((tmp.path() / "smoke.png").string());
    CHECK(picture.cols > 800);
    CHECK(picture.rows > 400);

    const auto again = test::run_binary("digits-train", {"--data", mnist_dir(), "--evaluate", (tmp.path() / "smoke.model").string()});
    REQUIRE(again.exit_code == 0);
    const json figures = json::parse(again.out);
    CHECK(figures["test_accuracy"] == card["test_accuracy"]);
    CHECK(figures["confusion"] == card["test"]["confusion"]);
  }

  TEST_CASE("SIGINT mid-epoch stops and leaves a valid model" * doctest::test_suite("training")) {
    const TempDir tmp;
    const auto out = tmp.path() / "stopped";
    // SIGINT once the first step is taken (a fixed delay could end a slow start before it, and
    // leave no model), a second into the first of several long epochs.
    test::Background train({(test::bin_dir / "digits-train").string(), "--data", mnist_dir(), "--out", out.string(),
                            "--epochs", "5", "--subset", "40000"});
    REQUIRE(train.wait_for("digits-train: training: 5 epochs of", 120));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(train.pid(), SIGINT);
    const auto status = train.wait_exit(300);
    INFO(train.err());
    CHECK(status == 130);
    CHECK_NOTHROW(load_model(tmp.path() / "stopped.model"));
    const json card = json::parse(read_file(tmp.path() / "stopped.json"));
    CHECK(card["training"]["interrupted"] == true);
    CHECK(card["training"]["epochs_run"] == 1);
  }

  TEST_CASE("bad models and bad options get one error line and the right exit code") {
    const TempDir tmp;
    write_file_atomic(tmp.path() / "junk.model", "this is not a model");
    const auto bad = test::run_binary("digits-train", {"--data", mnist_dir(), "--evaluate", (tmp.path() / "junk.model").string()});
    CHECK(bad.exit_code == 1);
    CHECK(test::error_lines(bad.err, "digits-train") == 1);
    CHECK(bad.err.find("not a digits model") != std::string::npos);
    const auto arch = test::run_binary("digits-train", {"--arch", "nonsense", "--out", (tmp.path() / "x").string()});
    CHECK(arch.exit_code == 2);
    CHECK(arch.err.find("cnn-24-48-128") != std::string::npos);
    const auto nodata = test::run_binary("digits-train", {"--data", (tmp.path() / "none").string(), "--out", (tmp.path() / "x").string()});
    CHECK(nodata.exit_code == 1);
    CHECK(test::error_lines(nodata.err, "digits-train") == 1);
    CHECK_FALSE(fs::exists(tmp.path() / "x.model"));
  }
}
