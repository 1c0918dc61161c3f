// Runs the `neolith` executable (NEOLITH_EXE) as a child process for CLI tests: stdout and
// stderr captured through pipes, bounded waits for a line and for the exit, signals.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace neolith::test {

class child_process {
 public:
  /// Starts `exe args...` with stdin from /dev/null. The test fails if it cannot start.
  child_process(const std::string& exe, const std::vector<std::string>& args);
  /// Kills (SIGKILL) and reaps the child if it is still running.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of stdout (without its newline), waiting at most `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Sends a signal.
  void signal(int sig);
  /// Waits for the exit; its exit code (128+N for a signal N), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// Everything read from stdout / stderr so far (drained up to the exit by wait_exit).
  const std::string& out() const noexcept { return out_; }
  const std::string& err() const noexcept { return err_; }
  pid_t pid() const noexcept { return pid_; }

 private:
  /// Reads what is available from both pipes, waiting at most `timeout` for something.
  void pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
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
