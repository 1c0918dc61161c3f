// The decisions of the Redis connection's run loop, as a plain state machine: no socket, no
// clock. The loop feeds it what happened and does what it says.
#ifndef NEOLITH_CLUSTER_DETAIL_REDIS_RUN_FSM_HPP
#define NEOLITH_CLUSTER_DETAIL_REDIS_RUN_FSM_HPP

#include <neolith/core/detail/backoff.hpp>

#include <chrono>
#include <cstdint>

namespace neolith::cluster::detail {

/// What the run loop does next.
struct redis_run_action {
  enum class kind : std::uint8_t {
    connect,  ///< open a connection (resolve, connect, SELECT)
    run,      ///< the connection is up: serve requests until it breaks
    wait,     ///< sleep `delay`, then report `on_wait_done()`
    stop,     ///< leave the loop (stopped, or no reconnection attempt left)
  };
  kind what = kind::stop;
  std::chrono::milliseconds delay{0};
};

/// States: idle -> connecting -> connected -> waiting -> connecting ... -> stopped.
/// Requests are accepted only while `connected`; in every other state they fail fast.
class redis_run_fsm {
 public:
  enum class state : std::uint8_t { idle, connecting, connected, waiting, stopped };

  explicit redis_run_fsm(neolith::detail::backoff_policy backoff) noexcept : backoff_(backoff) {}

  /// The loop starts: connect.
  redis_run_action start() noexcept;
  /// The connection attempt ended; `ok` when it is up. `unit_random` in [0, 1) jitters the delay.
  redis_run_action on_connect_result(bool ok, double unit_random = 0.0) noexcept;
  /// The established connection broke (read/write error, protocol error, peer closed).
  redis_run_action on_connection_lost(double unit_random = 0.0) noexcept;
  /// The backoff delay passed.
  redis_run_action on_wait_done() noexcept;
  /// Stop was asked: from now on every event gives `stop`.
  redis_run_action on_stop() noexcept;

  state current() const noexcept { return state_; }
  bool accepting_requests() const noexcept { return state_ == state::connected; }
  /// Connections established since start (the first one included).
  std::uint64_t connections() const noexcept { return connections_; }

 private:
  redis_run_action retry(double unit_random) noexcept;

  neolith::detail::backoff_policy backoff_;
  state state_ = state::idle;
  std::uint64_t connections_ = 0;
};

}  // namespace neolith::cluster::detail

#endif  // NEOLITH_CLUSTER_DETAIL_REDIS_RUN_FSM_HPP
