// digits-train: train the CNN on an MNIST-style data set; write the model, its card and picture.

#include "base/error.hpp"
#include "base/system.hpp"
#include "tool/cli.hpp"
#include "tool/progress.hpp"
#include "train/training.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>

int main(int argc, char** argv) {
  CLI::App app{"Train the digit CNN with tiny-dnn; write OUT.model, its card OUT.json and picture OUT.png.",
               "digits-train"};
  digits::cli::setup(app);
  digits::TrainingJob job;
  digits::TrainOptions& o = job.options;
  std::string data = job.data.string(), out = job.out.string(), evaluate, augment = "on", keep = "last";
  bool quiet = false;
  std::vector<std::string> arch_names;
  for (const auto& a : digits::architectures()) arch_names.push_back(a.name);

  app.add_option("--data", data, "Data set directory with the four IDX files (default: data/mnist)")->option_text("DIR");
  app.add_option("--out", out, "Write OUT.model, OUT.json and OUT.png (default: models/digits-cnn)")->option_text("OUT");
  app.add_option("--epochs", o.epochs, fmt::format("Training epochs (default: {})", o.epochs))
      ->check(CLI::Range(1, 100000))->option_text("N");
  app.add_option("--batch", o.batch, fmt::format("Samples per step (default: {})", o.batch))
      ->check(CLI::Range(1, 4096))->option_text("B");
  app.add_option("--seed", o.seed, fmt::format("Random seed (default: {}); same seed and threads, same model", o.seed))
      ->option_text("S");
  app.add_option("--arch", o.architecture, fmt::format("Architecture: {} (default: {})", fmt::join(arch_names, ", "), o.architecture))
      ->check(CLI::IsMember(arch_names))->option_text("NAME");
  app.add_option("--keep", keep,
                 "Keep the weights of the last epoch, or of the one best on the validation digits (default: last)")
      ->check(CLI::IsMember({"last", "best"}))->option_text("last|best");
  app.add_option("--augment", augment, "Distort training digits on the fly: on or off (default: on)")
      ->check(CLI::IsMember({"on", "off"}))->option_text("on|off");
  app.add_option("--augment-probability", o.augmentation.probability,
                 fmt::format("Share of samples distorted (default: {})", o.augmentation.probability))
      ->check(CLI::Range(0.0, 1.0))->option_text("P");
  app.add_option("--not-digits", o.not_digits,
                 fmt::format("Samples that are not one digit (touching pairs, a digit with part of its neighbour) "
                             "per training digit, learnt as an 11th output; 0 for the 10 digits only (default: {})",
                             o.not_digits))
      ->check(CLI::Range(0.0, 1.0))->option_text("SHARE");
  app.add_option("--cut-parts", o.cut_parts,
                 fmt::format("Parts of composed touching pairs, cut where segmentation would cut them, per training "
                             "digit: learnt as the digit whose ink they are or as not one digit (default: {})",
                             o.cut_parts))
      ->check(CLI::Range(0.0, 1.0))->option_text("SHARE");
  app.add_option("--subset", o.subset, "Train on the first N training samples only (default: all)")->option_text("N");
  app.add_option("--validation", o.validation,
                 fmt::format("Samples held out from the end of the training set (default: {}, at most a sixth)", o.validation))
      ->option_text("N");
  app.add_option("--learning-rate", o.learning_rate, fmt::format("Adam's initial step (default: {})", o.learning_rate))
      ->option_text("R");
  app.add_option("--threads", o.threads, "Worker threads (default: all cores)")->option_text("N");
  app.add_option("--evaluate", evaluate, "Only score an existing MODEL on the test set of --data and print the figures")
      ->option_text("MODEL");
  app.add_flag("-q,--quiet", quiet, "No progress on stderr");

  return digits::cli::run(app, argc, argv, [&] {
    job.data = data;
    job.out = out;
    if (!evaluate.empty()) {
      fmt::print("{}\n", digits::evaluate_model_file(evaluate, job.data, o.threads).dump());
      return 0;
    }
    o.augment = augment == "on";
    o.keep = keep == "best" ? digits::TrainOptions::Keep::best : digits::TrainOptions::Keep::last;
    job.command_line = digits::command_line(argc, argv);
    o.stop = &digits::stop_on_signals();

    const bool live = !quiet && digits::cli::stderr_is_terminal();
    std::optional<digits::Progress> bar;
    int bar_epoch = 0;
    bool started = false;
    o.on_batch = [&](int epoch, std::size_t done, std::size_t total, double loss) {
      // Without a progress bar (a log, a pipe), one line once the first step is taken says that
      // training runs and how much there is: an epoch's figures come only when it ends.
      if (!live) {
        if (!quiet && !started)
          digits::cli::note("digits-train", fmt::format("training: {} epoch{} of {} samples", o.epochs, o.epochs == 1 ? "" : "s", total));
        started = true;
        return;
      }
      if (epoch != bar_epoch) bar.emplace(fmt::format("epoch {}/{}", epoch, o.epochs), total, true), bar_epoch = epoch;
      bar->update(done, fmt::format("loss {:.4f}", loss));
    };
    o.on_epoch = [&](const digits::EpochRecord& e) {
      if (bar) bar->finish();
      fmt::print("{}\n", e.to_json().dump());
      std::fflush(stdout);
      if (!quiet)
        digits::cli::note("digits-train", fmt::format("epoch {}: loss {:.4f}, validation accuracy {:.2f}%, {:.1f} s", e.epoch,
                                                      e.loss, e.val_accuracy * 100, e.seconds));
    };
    const auto outcome = digits::run_training(job);
    if (!quiet) {
      digits::cli::note("digits-train",
                        fmt::format("{}kept epoch {} (validation {:.2f}%), test accuracy {:.2f}%; wrote {}, {}, {}",
                                    outcome.result.interrupted ? "interrupted; " : "", outcome.result.kept_epoch,
                                    outcome.result.kept_val_accuracy * 100, outcome.test.accuracy() * 100,
                                    outcome.model_path.string(), outcome.card_path.string(), outcome.picture_path.string()));
    }
    return outcome.result.interrupted ? 130 : 0;
  });
}
