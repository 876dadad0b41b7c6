// digits-serve: the web page and POST /api/digit_recognize over the same library as digits-classify.

#include "base/parallel.hpp"
#include "base/system.hpp"
#include "recognise/classify.hpp"
#include "serve/server.hpp"
#include "tool/cli.hpp"
#include "tool/options.hpp"

#include <fmt/format.h>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"Serve the digit recogniser over HTTP: a page to upload or draw digits, and POST /api/digit_recognize.",
               "digits-serve"};
  digits::cli::setup(app);
  digits::ServerOptions server;
  std::string model_option;
  unsigned max_upload_mb = 10;
  unsigned memory_budget_mb = 1024;
  double min_probability = 0;
  double work_timeout = digits::ServiceOptions{}.work_timeout_seconds;
  digits::options::SegmentFlags segment;
  bool quiet = false;
  app.add_option("--host", server.host, "Address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)")
      ->option_text("ADDR");
  app.add_option("--port", server.port, "TCP port (default: 5000; 0 picks a free one)")->check(CLI::Range(0, 65535))
      ->option_text("PORT");
  digits::options::add_model_option(app, model_option);
  app.add_option("--threads", server.threads, "Request threads, each with its own network (default: all cores)")
      ->check(CLI::Range(1u, 64u))->option_text("N");
  app.add_option("--max-upload-mb", max_upload_mb, "Largest accepted upload in MB (default: 10)")
      ->check(CLI::Range(1u, 1024u))->option_text("MB");
  app.add_option("--memory-budget-mb", memory_budget_mb,
                 "Memory the pictures being read may take together; more waits, then 503 (default: 1024)")
      ->check(CLI::Range(64u, 1u << 20))->option_text("MB");
  app.add_option("--header-timeout", server.header_timeout_seconds,
                 "Seconds a request's headers may take from the connection or the previous answer (default: 10)")
      ->check(CLI::Range(1u, 3600u))->option_text("S");
  app.add_option("--upload-timeout", server.upload_timeout_seconds,
                 "Seconds an upload's body may take after its headers; later is answered 408 (default: 60)")
      ->check(CLI::Range(1u, 3600u))->option_text("S");
  app.add_option("--work-timeout", work_timeout,
                 "CPU seconds reading one picture may take; more is answered 413 (default: 10)")
      ->check(CLI::Range(0.1, 3600.0))->option_text("S");
  app.add_option("--min-probability", min_probability,
                 "Default for the min_probability query: digits below it are marked uncertain (default: 0)")
      ->check(CLI::Range(0.0, 1.0))->option_text("P");
  digits::options::add_segment_options(app, segment);
  app.add_flag("-q,--quiet", quiet, "No request log on stderr");

  return digits::cli::run(app, argc, argv, [&] {
    digits::configure_opencv(digits::KernelThreads::caller);  // request threads are the parallelism
    digits::keep_freed_memory();
    const std::string model_path = digits::options::resolve_model(model_option);
    digits::Model model = digits::load_model(model_path);
    server.max_upload_bytes = std::size_t{max_upload_mb} << 20;
    if (!quiet) server.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };

    digits::ServiceOptions service_options;
    service_options.segment = segment.resolve();
    service_options.classify.min_probability = min_probability;
    service_options.recognisers = digits::worker_count(server.threads);
    service_options.memory_budget_bytes = std::size_t{memory_budget_mb} << 20;
    service_options.work_timeout_seconds = work_timeout;
    digits::Service service(std::move(model), service_options);
    const auto& stop = digits::stop_on_signals();
    digits::Server http(service, server);
    const std::string host = server.host.find(':') != std::string::npos ? "[" + server.host + "]" : server.host;
    digits::cli::note("digits-serve", fmt::format("serving {} on http://{}:{}/ (Ctrl-C stops)", model_path, host, http.port()));
    http.run_until(stop);
    digits::cli::note("digits-serve", "stopped");
    return 0;
  });
}
