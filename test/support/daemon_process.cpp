#include "support/daemon_process.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace neolith::test {

using clock_type = std::chrono::steady_clock;

std::string neolith_exe() {
  const char* exe = std::getenv("NEOLITH_EXE");
  BOOST_TEST_REQUIRE(exe != nullptr, "NEOLITH_EXE is not set (run through ctest)");
  BOOST_TEST_REQUIRE(::access(exe, X_OK) == 0, "NEOLITH_EXE=" << exe << " is not executable");
  return exe;
}

child_process::child_process(const std::string& exe, const std::vector<std::string>& args) {
  start(exe, args, false);
}

child_process::child_process(const std::string& exe, const std::vector<std::string>& args, pipe_stdin_t) {
  // A child that exits before reading all its input must not kill the test with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  start(exe, args, true);
}

void child_process::start(const std::string& exe, const std::vector<std::string>& args, bool pipe_in) {
  std::vector<std::string> storage;
  storage.push_back(exe);
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  int in_pipe[2] = {-1, -1};
  int out_pipe[2];
  int err_pipe[2];
  if (pipe_in) BOOST_TEST_REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
  BOOST_TEST_REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  BOOST_TEST_REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  if (pipe_in)
    ::posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  else
    ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  ::posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  // Nothing else of the test process leaks into the child: Asio opens sockets without
  // SOCK_CLOEXEC, and an inherited listening socket would keep an in-process daemon's port
  // listening after the daemon closed it.
  ::posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  const int rc = ::posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  if (pipe_in) {
    ::close(in_pipe[0]);
    in_fd_ = in_pipe[1];
    ::fcntl(in_fd_, F_SETFL, ::fcntl(in_fd_, F_GETFL) | O_NONBLOCK);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  BOOST_TEST_REQUIRE(rc == 0, "posix_spawn " << exe << ": " << std::strerror(rc));
}

child_process::~child_process() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (in_fd_ >= 0) ::close(in_fd_);
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool child_process::write_stdin(std::string_view data, std::chrono::milliseconds timeout) {
  if (in_fd_ < 0) return false;
  const auto deadline = clock_type::now() + timeout;
  while (!data.empty()) {
    const ssize_t w = ::write(in_fd_, data.data(), data.size());
    if (w > 0) {
      data.remove_prefix(static_cast<std::size_t>(w));
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;  // EPIPE: gone
    if (clock_type::now() >= deadline) return false;
    // The pipe is full: wait until it drains (bounded), reading the child's output meanwhile.
    pollfd pfd{in_fd_, POLLOUT, 0};
    ::poll(&pfd, 1, 5);
    pump(std::chrono::milliseconds(0));
  }
  return true;
}

void child_process::close_stdin() {
  if (in_fd_ >= 0) ::close(in_fd_);
  in_fd_ = -1;
}

void child_process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (n <= 0) return;
  int* fdp[2] = {&out_fd_, &err_fd_};
  std::string* sinks[2] = {&out_, &err_};
  for (int i = 0; i < 2; ++i) {
    if (*fdp[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[4096];
    const ssize_t r = ::read(*fdp[i], buf, sizeof buf);
    if (r > 0) {
      sinks[i]->append(buf, static_cast<std::size_t>(r));
    } else if (r == 0) {
      ::close(*fdp[i]);
      *fdp[i] = -1;
    }
  }
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  for (;;) {
    const auto nl = out_.find('\n', out_pos_);
    if (nl != std::string::npos) {
      std::string line = out_.substr(out_pos_, nl - out_pos_);
      out_pos_ = nl + 1;
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0 || (out_fd_ < 0 && err_fd_ < 0)) return std::nullopt;
    if (out_fd_ < 0) return std::nullopt;
    pump(std::min(left, std::chrono::milliseconds(50)));
  }
}

void child_process::signal(int sig) {
  if (!exit_code_) ::kill(pid_, sig);
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = clock_type::now() + timeout;
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      // Drain what is left in the pipes (bounded).
      for (int i = 0; i < 100 && (out_fd_ >= 0 || err_fd_ >= 0); ++i) pump(std::chrono::milliseconds(10));
      return exit_code_;
    }
    if (clock_type::now() >= deadline) return std::nullopt;
    pump(std::chrono::milliseconds(10));
  }
}

}  // namespace neolith::test
