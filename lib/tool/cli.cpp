#include "tool/cli.hpp"

#include "base/error.hpp"
#include "base/version.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <exception>

namespace digits::cli {

void setup(CLI::App& app, Manual manual) {
  app.set_version_flag("--version", fmt::format("{} {}", app.get_name(), digits::version));
  const bool has_man_page = manual == Manual::page;
  app.footer("Exit status: 0 success, 1 bad input or runtime failure, 2 bad usage." +
             (has_man_page ? "\nSee man " + app.get_name() + " for formats and examples." : std::string()));
}

namespace {
void print_error(const std::string& name, const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "{}: error: {}\n", name, message);
}
}  // namespace

int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  const std::string name = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {  // a flag that did all its work while parsing
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(name, fmt::format("{} (see {} --help)", e.what(), name));
    return exit_usage;
  }
  try {
    return body();
  } catch (const UsageError& e) {
    print_error(name, fmt::format("{} (see {} --help)", e.what(), name));
    return exit_usage;
  } catch (const std::bad_alloc&) {
    print_error(name, "out of memory");
    return exit_failure;
  } catch (const std::exception& e) {
    print_error(name, e.what());
    return exit_failure;
  }
}

void note(const std::string& name, const std::string& message) {
  fmt::print(stderr, "{}: {}\n", name, message);
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace digits::cli
