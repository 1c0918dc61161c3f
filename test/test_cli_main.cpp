// The `neolith` executable's top level: --help, --version, bad usage. Runs the real executable
// (NEOLITH_EXE) as a child process with a bounded wait.
#define BOOST_TEST_MODULE cli_main
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/core/version.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

struct run_result {
  int exit_code = -1;  ///< the exit status, or -1 when the child did not exit normally
  bool timed_out = false;
  std::string out;
  std::string err;
};

std::string exe_path() {
  const char* exe = std::getenv("NEOLITH_EXE");
  BOOST_TEST_REQUIRE(exe != nullptr, "NEOLITH_EXE is not set (run through ctest)");
  BOOST_TEST_REQUIRE(::access(exe, X_OK) == 0, "NEOLITH_EXE=" << exe << " is not executable");
  return exe;
}

/// Runs `exe` with `args`, stdin from /dev/null, collecting stdout and stderr; kills it when it
/// has not exited within `limit`.
run_result run_program(const std::string& exe, std::initializer_list<const char*> args,
                       std::chrono::milliseconds limit) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const char* a : args) argv.push_back(const_cast<char*>(a));
  argv.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  BOOST_TEST_REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  BOOST_TEST_REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    BOOST_TEST_REQUIRE(spawned == 0, "posix_spawn " << exe << ": " << std::strerror(spawned));
  }

  run_result r;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);

  // Both pipes are closed: the child has exited or is about to. Past the deadline, kill it
  // (SIGKILL cannot be ignored, so the wait after it is short).
  int status = 0;
  if (r.timed_out) ::kill(pid, SIGKILL);
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno == EINTR) continue;
    BOOST_TEST_REQUIRE(w >= 0, "waitpid: " << std::strerror(errno));
    if (!r.timed_out && std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
    }
    ::usleep(1000);
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

/// Runs NEOLITH_EXE with `args`.
run_result run(std::initializer_list<const char*> args) {
  return run_program(exe_path(), args, std::chrono::seconds(10));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(help_prints_usage_and_exits_0) {
  for (const char* flag : {"--help", "-h", "help"}) {
    BOOST_TEST_CONTEXT("neolith " << flag) {
      const run_result r = run({flag});
      BOOST_TEST_REQUIRE(!r.timed_out);
      BOOST_TEST(r.exit_code == 0);
      BOOST_TEST(contains(r.out, "usage: neolith <command>"), "stdout: " << r.out);
      for (const char* cmd : {"daemon", "node", "demo"}) BOOST_TEST(contains(r.out, cmd), "no '" << cmd << "' in: " << r.out);
      BOOST_TEST(r.err.empty(), "stderr: " << r.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(version_prints_library_and_protocol_versions) {
  const run_result r = run({"--version"});
  BOOST_TEST_REQUIRE(!r.timed_out);
  BOOST_TEST(r.exit_code == 0);
  const std::string expected = std::string("neolith ") + neolith::version_string + " (protocol " +
                               std::to_string(neolith::version_protocol) + ")\n";
  BOOST_TEST(r.out == expected);
  BOOST_TEST(r.err.empty(), "stderr: " << r.err);
}

BOOST_AUTO_TEST_CASE(no_command_is_bad_usage) {
  const run_result r = run({});
  BOOST_TEST_REQUIRE(!r.timed_out);
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(contains(r.err, "usage: neolith <command>"), "stderr: " << r.err);
  BOOST_TEST(r.out.empty(), "stdout: " << r.out);
}

BOOST_AUTO_TEST_CASE(unknown_command_is_bad_usage) {
  for (const char* cmd : {"frobnicate", "--frobnicate", "DAEMON", ""}) {
    BOOST_TEST_CONTEXT("neolith '" << cmd << "'") {
      const run_result r = run({cmd, "--help"});
      BOOST_TEST_REQUIRE(!r.timed_out);
      BOOST_TEST(r.exit_code == 2);
      BOOST_TEST(contains(r.err, std::string("unknown command '") + cmd + "'"), "stderr: " << r.err);
      BOOST_TEST(r.out.empty(), "stdout: " << r.out);
    }
  }
}

// The runner itself: a child that outlives its limit is killed and reported, not waited for.
BOOST_AUTO_TEST_CASE(runner_kills_a_child_past_its_limit) {
  const auto start = std::chrono::steady_clock::now();
  const run_result r = run_program("/bin/sleep", {"30"}, std::chrono::milliseconds(200));
  BOOST_TEST(r.timed_out);
  BOOST_TEST(r.exit_code == -1);  // killed by SIGKILL: no exit status
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(10)));
}
