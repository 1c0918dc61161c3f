// The process session runner: one `/bin/sh -c COMMAND` per session, in its own process group,
// started with posix_spawn (safe in a multi-threaded process) and reaped through a pidfd
// watched by Asio (a timer-driven WNOHANG poll where pidfds are unavailable).
#include <neolith/core/detail/fd_io.hpp>
#include <neolith/daemon/session_runner.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace neolith {

namespace {

namespace asio = boost::asio;
using detail::write_all;

constexpr std::size_t max_env_value = 64 * 1024;

/// An environment value: NUL bytes removed, at most `max_env_value` bytes (cut on a UTF-8
/// character boundary).
std::string env_value(std::string_view v) {
  std::string out;
  out.reserve(std::min(v.size(), max_env_value));
  for (char c : v)
    if (c != '\0') out.push_back(c);
  if (out.size() > max_env_value) {
    std::size_t n = max_env_value;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;
    out.resize(n);
  }
  return out;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

class process_runner final : public session_runner,
                             public std::enable_shared_from_this<process_runner> {
 public:
  process_runner(asio::any_io_executor ex, process_runner_options opts)
      : strand_(asio::make_strand(ex)), opts_(std::move(opts)) {}

  ~process_runner() override {
    // Last resort (the server normally shut us down): no child outlives the runner, none is
    // left a zombie. SIGKILLed children exit at once, so the waits are short.
    std::lock_guard lock(mu_);
    for (auto& [id, c] : children_) {
      ::kill(-c.pid, SIGKILL);
      int st = 0;
      while (::waitpid(c.pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (!c.snapshot_path.empty()) ::unlink(c.snapshot_path.c_str());
    }
    children_.clear();
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }

  std::string_view name() const noexcept override { return "process"; }

  result<void> start(const run_request& r, end_handler on_end) override {
    if (!r.session) return error_info(error::invalid_argument, "no session");
    const session& s = *r.session;
    // The command of the type as spelled, else of another spelling of the same kind
    // (a "ruflo" session runs claude-flow's command).
    auto cmd_it = opts_.exec.find(s.type);
    if (cmd_it == opts_.exec.end())
      cmd_it = std::find_if(opts_.exec.begin(), opts_.exec.end(), [&](const auto& e) { return same_kind(e.first, s.type); });
    if (cmd_it == opts_.exec.end())
      return error_info(error::unsupported_session_type,
                        "no command for session type " + std::string(to_string(s.type)));

    std::lock_guard lock(mu_);
    if (shutting_down_) return error_info(error::shutting_down, "the runner is shutting down");

    // The task, as JSON, on stdin: an in-memory file, so a child that never reads it cannot
    // block us and no SIGPIPE can arise.
    fd_guard task_fd;
    task_fd.fd = ::memfd_create("neolith-task", MFD_CLOEXEC);
    if (task_fd.fd < 0) return sys_error("memfd_create");
    const std::string task_json = boost::json::serialize(boost::json::value_from(s.task));
    if (!write_all(task_fd.fd, task_json) || ::lseek(task_fd.fd, 0, SEEK_SET) < 0)
      return sys_error("writing the task");

    std::string snapshot_path;
    if (r.snapshot) {
      auto p = write_snapshot(r.run_id, *r.snapshot);
      if (!p) return p.error();
      snapshot_path = std::move(p).value();
    }

    // Environment: ours, minus the variables we set.
    std::vector<std::string> env_strings;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      if (kv.starts_with("NEOLITH_SESSION_ID=") || kv.starts_with("NEOLITH_TASK_ID=") ||
          kv.starts_with("NEOLITH_TASK_DESCRIPTION=") || kv.starts_with("NEOLITH_MEMORY_SNAPSHOT=") ||
          kv.starts_with("NEOLITH_SESSION_TYPE=") || kv.starts_with("NEOLITH_ORCHESTRATOR_ID=") ||
          kv.starts_with("NEOLITH_MEMORY_PROFILE="))
        continue;
      env_strings.emplace_back(kv);
    }
    env_strings.push_back("NEOLITH_SESSION_ID=" + env_value(s.id));
    env_strings.push_back("NEOLITH_SESSION_TYPE=" + std::string(to_string(s.type)));
    env_strings.push_back("NEOLITH_ORCHESTRATOR_ID=" + env_value(s.orchestrator_id));
    env_strings.push_back("NEOLITH_TASK_ID=" + env_value(s.task.id));
    env_strings.push_back("NEOLITH_TASK_DESCRIPTION=" + env_value(s.task.description));
    if (!r.memory_profile.empty()) env_strings.push_back("NEOLITH_MEMORY_PROFILE=" + env_value(r.memory_profile));
    if (!snapshot_path.empty()) env_strings.push_back("NEOLITH_MEMORY_SNAPSHOT=" + snapshot_path);
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);

    std::string command = cmd_it->second;
    char sh[] = "/bin/sh";
    char dash_c[] = "-c";
    char* argv[] = {sh, dash_c, command.data(), nullptr};

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_adddup2(&fa, task_fd.fd, 0);
    ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    // Sockets and other descriptors of the daemon must not leak into sessions (a child
    // holding a client's socket would keep that connection open).
    ::posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    ::posix_spawnattr_setpgroup(&attr, 0);
    sigset_t mask;
    sigemptyset(&mask);
    ::posix_spawnattr_setsigmask(&attr, &mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
      sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp.data());
    ::posix_spawn_file_actions_destroy(&fa);
    ::posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      if (!snapshot_path.empty()) ::unlink(snapshot_path.c_str());
      return error_info(error_code(rc, boost::system::system_category()), "posix_spawn /bin/sh");
    }

    child c;
    c.run_id = r.run_id;
    c.pid = pid;
    c.on_end = std::move(on_end);
    c.snapshot_path = std::move(snapshot_path);
    const int pidfd = open_pidfd(pid);
    if (pidfd >= 0) {
      c.pidfd = std::make_unique<asio::posix::stream_descriptor>(strand_, pidfd);
    } else {
      c.poll = std::make_unique<asio::steady_timer>(strand_);
    }
    auto [it, inserted] = children_.emplace(r.run_id, std::move(c));
    (void)inserted;
    watch(it->second);
    log("session " + s.id + ": started process " + std::to_string(pid));
    return outcome::success();
  }

  void terminate(std::uint64_t run_id) override {
    std::lock_guard lock(mu_);
    auto it = children_.find(run_id);
    if (it == children_.end()) return;
    terminate_locked(it->second, false);
  }

  void shutdown(bool immediate, std::function<void()> done) override {
    bool now = false;
    {
      std::lock_guard lock(mu_);
      shutting_down_ = true;
      for (auto& [id, c] : children_) terminate_locked(c, immediate);
      if (children_.empty())
        now = true;
      else if (done)
        shutdown_done_.push_back(std::move(done));
    }
    if (now && done) done();
  }

  std::size_t active_runs() const override {
    std::lock_guard lock(mu_);
    return children_.size();
  }

 private:
  struct child {
    std::uint64_t run_id = 0;
    pid_t pid = -1;
    end_handler on_end;
    bool terminated = false;
    bool killed = false;
    std::string snapshot_path;
    std::unique_ptr<asio::posix::stream_descriptor> pidfd;
    std::unique_ptr<asio::steady_timer> poll;       // only without pidfd
    std::unique_ptr<asio::steady_timer> kill_timer;  // SIGKILL after the grace period
  };

  error_info sys_error(const char* what) const {
    return error_info(error_code(errno, boost::system::system_category()), what);
  }

  void log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }

  result<std::string> write_snapshot(std::uint64_t run_id, const boost::json::object& snapshot) {
    if (dir_.empty()) {
      std::string base = opts_.work_dir;
      if (base.empty()) {
        const char* t = std::getenv("TMPDIR");
        base = (t && *t) ? t : "/tmp";
      }
      std::string templ = base + "/neolith-XXXXXX";
      if (!::mkdtemp(templ.data())) return sys_error("mkdtemp for snapshots");
      dir_ = templ;
    }
    std::string path = dir_ + "/snapshot-" + std::to_string(run_id) + ".json";
    fd_guard fd;
    fd.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd.fd < 0) return sys_error("creating the snapshot file");
    if (!write_all(fd.fd, boost::json::serialize(snapshot))) {
      ::unlink(path.c_str());
      return sys_error("writing the snapshot file");
    }
    return path;
  }

  // Under mu_.
  void terminate_locked(child& c, bool immediate) {
    c.on_end = nullptr;
    if (immediate) {
      if (!c.killed) ::kill(-c.pid, SIGKILL);
      c.killed = true;
      c.terminated = true;
      if (c.kill_timer) c.kill_timer->cancel();
      return;
    }
    if (c.terminated) return;
    c.terminated = true;
    ::kill(-c.pid, SIGTERM);
    c.kill_timer = std::make_unique<asio::steady_timer>(strand_, opts_.terminate_grace);
    std::weak_ptr<process_runner> weak = weak_from_this();
    c.kill_timer->async_wait([weak, run_id = c.run_id](error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self) return;
      std::lock_guard lock(self->mu_);
      auto it = self->children_.find(run_id);
      // Still in the table: not reaped, so the pid (and its group) is still ours.
      if (it != self->children_.end() && !it->second.killed) {
        ::kill(-it->second.pid, SIGKILL);
        it->second.killed = true;
        self->log("process " + std::to_string(it->second.pid) + " ignored SIGTERM: killed");
      }
    });
  }

  // Under mu_.
  void watch(child& c) {
    std::weak_ptr<process_runner> weak = weak_from_this();
    auto on_ready = [weak, run_id = c.run_id](error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      if (auto self = weak.lock()) self->on_ready(run_id);
    };
    if (c.pidfd) {
      c.pidfd->async_wait(asio::posix::stream_descriptor::wait_read, std::move(on_ready));
    } else {
      c.poll->expires_after(std::chrono::milliseconds(20));
      c.poll->async_wait(std::move(on_ready));
    }
  }

  void on_ready(std::uint64_t run_id) {
    end_handler on_end;
    run_outcome out;
    std::vector<std::function<void()>> done;
    {
      std::lock_guard lock(mu_);
      auto it = children_.find(run_id);
      if (it == children_.end()) return;
      child& c = it->second;
      siginfo_t info{};
      // Peek first (WNOWAIT): the zombie keeps the pid and the group id ours while the group's
      // leftovers are killed.
      const int rc = ::waitid(P_PID, static_cast<id_t>(c.pid), &info, WEXITED | WNOHANG | WNOWAIT);
      if ((rc == 0 && info.si_pid == 0) || (rc != 0 && errno == EINTR)) {
        watch(c);  // not exited yet (a poll tick, or a spurious wake-up)
        return;
      }
      if (rc != 0) {
        out.success = false;  // ECHILD: reaped by someone else (should not happen)
      } else {
        ::kill(-c.pid, SIGKILL);
        siginfo_t reaped{};
        while (::waitid(P_PID, static_cast<id_t>(c.pid), &reaped, WEXITED) != 0 && errno == EINTR) {
        }
        if (info.si_code == CLD_EXITED) {
          out.exit_code = info.si_status;
          out.success = info.si_status == 0;
        } else {
          out.signal = info.si_status;
          out.success = false;
        }
      }
      log("process " + std::to_string(c.pid) +
          (out.signal ? " killed by signal " + std::to_string(out.signal) : " exited with " + std::to_string(out.exit_code)));
      if (!c.snapshot_path.empty()) ::unlink(c.snapshot_path.c_str());
      if (c.kill_timer) c.kill_timer->cancel();
      if (!c.terminated) on_end = std::move(c.on_end);
      children_.erase(it);
      if (children_.empty() && shutting_down_) done.swap(shutdown_done_);
    }
    if (on_end) on_end(out);
    for (auto& f : done) f();
  }

  asio::strand<asio::any_io_executor> strand_;
  const process_runner_options opts_;
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, child> children_;
  bool shutting_down_ = false;
  std::vector<std::function<void()>> shutdown_done_;
  std::string dir_;
};

}  // namespace

std::shared_ptr<session_runner> make_process_runner(asio::any_io_executor ex, process_runner_options opts) {
  return std::make_shared<process_runner>(std::move(ex), std::move(opts));
}

}  // namespace neolith
