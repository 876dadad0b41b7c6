#pragma once
// What every digits-* main shares: the same --version, the same error line, the same exit codes.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace digits::cli {

// Whether a program has a man page its help can point to: the binaries in cmd/ and tools/ do;
// benchmarks are described in docs/BENCHMARKS.md.
enum class Manual { page, none };

// Adds --version and the common footer to a binary's CLI11 app.
void setup(CLI::App& app, Manual manual = Manual::page);

// Parses the command line and runs `body`, turning any exception into one line
// `NAME: error: MESSAGE` on stderr and the documented exit code
// (0 ok, 1 bad input or runtime failure, 2 bad usage).
int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

// Prints `NAME: MESSAGE` on stderr; for progress and warnings, never data.
void note(const std::string& name, const std::string& message);

// True when stderr is a terminal, so live progress lines are worth drawing.
bool stderr_is_terminal();

}  // namespace digits::cli
