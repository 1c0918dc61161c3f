// The pluggable part of a daemon that actually runs sessions. The daemon's session registry
// owns the protocol state of every session (status, dates, metrics); a runner only starts
// and stops the work behind a session and reports when that work ends on its own.
//
// Two runners ship: `make_inproc_runner()` (sessions live in memory until terminated) and
// `make_process_runner()` (one child process per session, see process_runner_options).
#ifndef NEOLITH_DAEMON_SESSION_RUNNER_HPP
#define NEOLITH_DAEMON_SESSION_RUNNER_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace neolith {

/// How the work of a session ended on its own.
struct run_outcome {
  bool success = false;   ///< true: the session is `completed`; false: `failed`
  int exit_code = -1;     ///< the process's exit status, or -1 (e.g. killed by a signal)
  int signal = 0;         ///< the signal that ended the process, or 0
};

/// What a runner gets to start a session.
struct run_request {
  std::uint64_t run_id = 0;          ///< unique per start (a restored session gets a new one)
  const neolith::session* session = nullptr;     ///< the session as the registry holds it
  const boost::json::object* snapshot = nullptr; ///< restore: the opaque memorySnapshot; else null
  std::string memory_profile;        ///< spawn: SessionSpawnRequest.memoryProfile, if any
};

/// Runs the work behind sessions. Implementations must be thread-safe: the registry calls
/// `start`/`terminate` from any thread (under its own lock, so they must not block and must
/// never call `on_end` synchronously).
class session_runner {
 public:
  using end_handler = std::function<void(run_outcome)>;

  virtual ~session_runner() = default;

  /// "inproc", "process", ...
  virtual std::string_view name() const noexcept = 0;

  /// Starts the work of a session. `on_end` is called at most once, later, from any thread,
  /// when the work ended on its own; it is not called after `terminate(run_id)`.
  /// A failure refuses the session (the client gets an `internal` error).
  virtual result<void> start(const run_request& r, end_handler on_end) = 0;

  /// Ends the work of a run (the registry already marked the session `terminated`).
  /// Unknown or finished run ids are ignored.
  virtual void terminate(std::uint64_t run_id) = 0;

  /// Ends every run and calls `done` (once, from any thread) when every resource is released
  /// (all child processes reaped). With `immediate`, processes are killed without grace.
  virtual void shutdown(bool immediate, std::function<void()> done) = 0;

  /// How many runs still hold resources (e.g. child processes not yet reaped).
  virtual std::size_t active_runs() const = 0;
};

/// The in-memory runner: a session runs until it is terminated.
std::shared_ptr<session_runner> make_inproc_runner();

/// Settings of the process runner.
struct process_runner_options {
  /// The command per session type, run as `/bin/sh -c COMMAND` in its own process group, with
  /// the session's Task as JSON on stdin and in its environment NEOLITH_SESSION_ID,
  /// NEOLITH_SESSION_TYPE, NEOLITH_ORCHESTRATOR_ID, NEOLITH_TASK_ID, NEOLITH_TASK_DESCRIPTION
  /// (at most 64 KiB of it), NEOLITH_MEMORY_PROFILE (when given) and, for a restored session,
  /// NEOLITH_MEMORY_SNAPSHOT (the path of a JSON file holding the memorySnapshot, removed when
  /// the session ends). stdout goes to /dev/null, stderr is the daemon's.
  std::map<session_type, std::string> exec;
  /// terminate: SIGTERM to the process group, SIGKILL after this grace period.
  std::chrono::milliseconds terminate_grace{2'000};
  /// Where snapshot files go; empty: $TMPDIR or /tmp.
  std::string work_dir;
  /// Log sink (may be empty).
  std::function<void(std::string_view)> log;
};

/// The process runner. Children are reaped through pidfds watched by `ex` (never a blocking
/// wait on an io thread). Exit status 0: completed, else failed. When a session's command
/// exits, whatever it left in its process group is killed.
std::shared_ptr<session_runner> make_process_runner(boost::asio::any_io_executor ex,
                                                    process_runner_options opts);

}  // namespace neolith

#endif  // NEOLITH_DAEMON_SESSION_RUNNER_HPP
