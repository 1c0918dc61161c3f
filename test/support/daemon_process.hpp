// Runs the `neolith` executable (NEOLITH_EXE) as a child process for CLI tests: stdout and
// stderr captured through pipes, bounded waits for a line and for the exit, signals; stdin from
// /dev/null or from a pipe the test writes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace neolith::test {

class child_process {
 public:
  /// Starts `exe args...` with stdin from /dev/null. The test fails if it cannot start.
  child_process(const std::string& exe, const std::vector<std::string>& args);
  /// Starts `exe args...` with stdin a pipe: `write_stdin()` feeds it, `close_stdin()` ends it.
  struct pipe_stdin_t {};
  static constexpr pipe_stdin_t pipe_stdin{};
  child_process(const std::string& exe, const std::vector<std::string>& args, pipe_stdin_t);
  /// Kills (SIGKILL) and reaps the child if it is still running.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of stdout (without its newline), waiting at most `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Writes all of `data` to the child's stdin, reading its stdout and stderr meanwhile (a child
  /// blocked on a full stdout cannot stall the test). False when not all was written within
  /// `timeout` or the child closed its stdin.
  bool write_stdin(std::string_view data, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// Closes the child's stdin (end of input).
  void close_stdin();
  /// Sends a signal.
  void signal(int sig);
  /// Waits for the exit; its exit code (128+N for a signal N), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// Everything read from stdout / stderr so far (drained up to the exit by wait_exit).
  const std::string& out() const noexcept { return out_; }
  const std::string& err() const noexcept { return err_; }
  pid_t pid() const noexcept { return pid_; }

 private:
  void start(const std::string& exe, const std::vector<std::string>& args, bool pipe_in);
  /// Reads what is available from both pipes, waiting at most `timeout` for something.
  void pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::size_t out_pos_ = 0;  ///< start of the first line not yet returned
  std::optional<int> exit_code_;
};

/// NEOLITH_EXE (the test fails when unset).
std::string neolith_exe();

}  // namespace neolith::test
