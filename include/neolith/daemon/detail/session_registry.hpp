// The daemon's session registry: the protocol state of every session of the node (live and
// recently ended), the capacity and session-type checks, and the link to the session runner.
// Thread-safe (one mutex); the runner is called under it, its end callbacks come from any
// thread.
#ifndef NEOLITH_DAEMON_DETAIL_SESSION_REGISTRY_HPP
#define NEOLITH_DAEMON_DETAIL_SESSION_REGISTRY_HPP

#include <neolith/core/error.hpp>
#include <neolith/daemon/session_runner.hpp>
#include <neolith/protocol/types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace neolith::detail {

class session_journal;
struct journal_record;

struct session_registry_limits {
  std::size_t max_live = 100;
  std::vector<session_type> types{session_type::claude_code, session_type::claude_flow};
  std::chrono::milliseconds ended_retention{std::chrono::minutes(10)};
  std::size_t max_ended = 1000;
};

class session_registry : public std::enable_shared_from_this<session_registry> {
 public:
  using clock = std::chrono::steady_clock;
  /// Called (outside the registry's lock, from any thread) when a session ended on its own.
  using update_handler = std::function<void(const session&)>;

  session_registry(session_registry_limits limits, std::shared_ptr<session_runner> runner);

  /// Must be set before sessions run (not thread-safe against concurrent updates).
  void set_update_handler(update_handler h) { on_update_ = std::move(h); }

  /// Every change of a session from now on is appended to `j` (under the registry's lock, so
  /// the journal's order is the registry's). Set before sessions run.
  void set_journal(std::shared_ptr<session_journal> j) { journal_ = std::move(j); }
  const std::shared_ptr<session_journal>& journal() const noexcept { return journal_; }

  /// What recover() did.
  struct recovery {
    std::size_t ended = 0;      ///< ended sessions listed again as they were
    std::size_t restarted = 0;  ///< live sessions running again (`restart_live`)
    std::vector<session> failed;  ///< live sessions now `failed` (their work died with the daemon)
  };
  /// Lists the sessions of a journal read at start (before any other session): ended ones as
  /// they were; live ones running again with their snapshot when `restart_live` (the
  /// in-process runner), else `failed` with `reason` (journaled).
  recovery recover(const std::vector<journal_record>& records, bool restart_live, const std::string& reason);

  /// Whether `id` is listed (live or retained).
  bool contains(std::string_view id) const;

  /// A new session, `running`. Errors: unsupported_session_type, capacity_exceeded,
  /// shutting_down (after close()), internal (the runner failed).
  result<session> spawn(const session_spawn_request& req);

  /// The session `id` (live or retained), with its current duration.
  std::optional<session> get(std::string_view id);

  /// Ends a live session (`terminated`); false when unknown or already ended.
  bool terminate(std::string_view id);

  /// Recreates `s.session` under its id, `running`, handing the snapshot to the runner.
  /// false when a live session with that id exists. Errors as spawn, plus invalid_message
  /// for an empty id.
  result<bool> restore(const serialized_session& s);

  /// Live and retained ended sessions, oldest start first.
  std::vector<session> list();

  std::size_t live_count() const;
  std::size_t listed_count() const;

  /// Refuses new sessions from now on and terminates every live one.
  void close();

  /// Drops ended sessions older than the retention or beyond the maximum count.
  void prune();

  const session_registry_limits& limits() const noexcept { return limits_; }
  session_runner& runner() noexcept { return *runner_; }

 private:
  struct entry {
    neolith::session s;
    std::uint64_t run_id = 0;
    clock::time_point run_started{};
    double base_duration = 0;  ///< ms accumulated before this run (restored sessions)
    clock::time_point ended{};
  };
  struct ended_ref {
    clock::time_point when;
    std::string id;
    std::uint64_t run_id;
  };

  bool supports(session_type t) const noexcept;
  std::string new_id();
  session snapshot_of(const entry& e, clock::time_point now) const;
  void end_locked(entry& e, session_status st, clock::time_point now);
  void prune_locked(clock::time_point now);
  result<void> start_run_locked(entry& e, const boost::json::object* snapshot,
                                std::string memory_profile);
  void on_run_end(const std::string& id, std::uint64_t run_id, run_outcome o);
  /// Appends the session's state to the journal, if any.
  void journal_locked(const entry& e, clock::time_point now, const boost::json::object* snapshot = nullptr,
                      std::string reason = {});

  const session_registry_limits limits_;
  std::shared_ptr<session_runner> runner_;
  update_handler on_update_;
  std::shared_ptr<session_journal> journal_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> sessions_;
  std::deque<ended_ref> ended_;  ///< in order of ending (may hold stale refs)
  std::size_t live_ = 0;
  std::size_t ended_count_ = 0;
  std::uint64_t next_run_id_ = 1;
  bool closed_ = false;
  std::mt19937_64 rng_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_SESSION_REGISTRY_HPP
