#include "base/process.hpp"

#include "base/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace digits {

namespace {

// Owns one pipe end; closing twice is harmless.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct Pipe {
  Fd read, write;
  Pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    read.fd = fds[0];
    write.fd = fds[1];
  }
};

// posix_spawn's file actions, released on every path out.
struct FileActions {
  posix_spawn_file_actions_t actions{};
  FileActions() { posix_spawn_file_actions_init(&actions); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

}  // namespace

std::optional<std::filesystem::path> find_on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0) return std::filesystem::path(program);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = (dir.empty() ? std::filesystem::current_path() : std::filesystem::path(dir)) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
  }
  return std::nullopt;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) throw Error("run_process: no program given");
  const auto program = find_on_path(argv.front());
  if (!program) throw Error(fmt::format("{}: command not found", argv.front()));

  Pipe in, out, err;
  FileActions fa;
  posix_spawn_file_actions_adddup2(&fa.actions, in.read.fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa.actions, out.write.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa.actions, err.write.fd, STDERR_FILENO);
  if (options.cwd) posix_spawn_file_actions_addchdir_np(&fa.actions, options.cwd->c_str());

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  if (const int rc = posix_spawn(&pid, program->c_str(), &fa.actions, nullptr, args.data(), environ); rc != 0)
    throw Error(fmt::format("cannot run {}: {}", argv.front(), std::strerror(rc)));
  in.read.close();
  out.write.close();
  err.write.close();
  if (options.input.empty()) {
    in.write.close();
  } else {
    // A child that exits without reading all its input must not kill us with SIGPIPE.
    static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
    (void)sigpipe_ignored;
  }

  ProcessResult result;
  std::size_t written = 0;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::array<char, 65536> buffer{};
  while (out.read.fd >= 0 || err.read.fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds{{{out.read.fd, POLLIN, 0}, {err.read.fd, POLLIN, 0}, {in.write.fd, POLLOUT, 0}}};
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      Fd& fd = i == 0 ? out.read : err.read;
      const ssize_t n = ::read(fd.fd, buffer.data(), buffer.size());
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.close();
      }
    }
    if (fds[2].revents != 0) {
      const ssize_t n = (fds[2].revents & POLLOUT) != 0
                            ? ::write(in.write.fd, options.input.data() + written, options.input.size() - written)
                            : -1;
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == options.input.size()) in.write.close();
    }
  }
  in.write.close();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && !result.timed_out) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace digits
