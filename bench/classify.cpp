// bench-classify: digits per second of the shipped model over the MNIST test set, on 1 and on N threads.
// Usage: bench-classify [--model PATH] [--mnist DIR] [--repeats N]

#include "base/system.hpp"
#include "io/dataset.hpp"
#include "recognise/classify.hpp"
#include "recognise/model.hpp"
#include "tool/cli.hpp"
#include "tool/options.hpp"

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include <chrono>
#include <thread>

int main(int argc, char** argv) {
  CLI::App app{"Digits per second of a model over the MNIST test set, on 1 and on all cores.", "bench-classify"};
  digits::cli::setup(app, digits::cli::Manual::none);
  std::string model_path;
  std::string data = "data/mnist";
  int repeats = 5;
  digits::options::add_model_option(app, model_path);
  app.add_option("--mnist", data, "MNIST directory")->option_text("DIR");
  app.add_option("--repeats", repeats, "Runs per thread count; the best is reported")->check(CLI::Range(1, 1000));
  return digits::cli::run(app, argc, argv, [&] {
    cv::setNumThreads(1);
    const auto path = digits::options::resolve_model(model_path);
    const digits::Model model = digits::load_model(path);
    const digits::Dataset mnist = digits::load_dataset(data);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    fmt::print("model {} ({}, {} parameters), {} test digits, best of {} runs\n", path, model.architecture,
               model.parameter_count(), mnist.test.count(), repeats);
    for (const unsigned threads : {1u, cores}) {
      double best = 1e9;
      std::size_t correct = 0;
      for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        const auto predictions = digits::classify_idx(model, mnist.test.images, 3, threads);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        correct = 0;
        for (std::size_t i = 0; i < predictions.size(); ++i) correct += predictions[i].digit == mnist.test.labels.labels[i];
      }
      fmt::print("{} thread{}: {:.0f} digits/s ({:.3f} s for {}), accuracy {:.4f}\n", threads, threads == 1 ? "" : "s",
                 double(mnist.test.count()) / best, best, mnist.test.count(), double(correct) / double(mnist.test.count()));
    }
    fmt::print("peak RSS {:.1f} MB\n", double(digits::peak_rss_bytes()) / (1 << 20));
    return 0;
  });
}
