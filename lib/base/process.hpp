#pragma once
// Running another program (npm, or our own binaries in tests) without a shell in between.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace digits {

struct ProcessResult {
  int exit_code = -1;       // -1 when killed by a signal or the time limit
  bool timed_out = false;
  std::string out;          // everything the program wrote on stdout
  std::string err;          // and on stderr
};

struct ProcessOptions {
  std::optional<std::filesystem::path> cwd;
  std::string input;                              // written to the program's stdin, then closed
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

// Looks `program` up on PATH unless it contains a slash. Throws Error when it cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Where `program` would be found on PATH, if anywhere.
std::optional<std::filesystem::path> find_on_path(const std::string& program);

}  // namespace digits
