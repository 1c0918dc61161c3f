// Heartbeat and liveness decisions of one connection, as a plain class fed with time points:
// no I/O, no timers. The connection's heartbeat coroutine asks it what to do and when.
#ifndef NEOLITH_CLIENT_DETAIL_LIVENESS_HPP
#define NEOLITH_CLIENT_DETAIL_LIVENESS_HPP

#include <algorithm>
#include <chrono>

namespace neolith::detail {

/// Rules: a heartbeat is due every `interval` after the connection opened; the peer is dead
/// when nothing at all (any frame) has arrived for `timeout`.
template <class Clock = std::chrono::steady_clock>
class liveness_monitor {
 public:
  using time_point = typename Clock::time_point;
  using duration = typename Clock::duration;

  enum class action { none, send_heartbeat, peer_dead };

  liveness_monitor(duration interval, duration timeout, time_point opened) noexcept
      : interval_(std::max(interval, duration(1))),
        timeout_(timeout),
        last_received_(opened),
        next_heartbeat_(opened + interval_) {}

  /// A frame (of any kind) arrived at `now`.
  void on_received(time_point now) noexcept { last_received_ = std::max(last_received_, now); }

  /// What is due at `now`. `send_heartbeat` also schedules the next one.
  action poll(time_point now) noexcept {
    if (now - last_received_ >= timeout_) return action::peer_dead;
    if (now >= next_heartbeat_) {
      // Skip the beats missed (e.g. after a long stall of the event loop): one is enough.
      while (next_heartbeat_ <= now) next_heartbeat_ += interval_;
      return action::send_heartbeat;
    }
    return action::none;
  }

  /// When `poll` should be called next.
  time_point next_wakeup() const noexcept { return std::min(next_heartbeat_, last_received_ + timeout_); }

  time_point last_received() const noexcept { return last_received_; }

 private:
  duration interval_;
  duration timeout_;
  time_point last_received_;
  time_point next_heartbeat_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_CLIENT_DETAIL_LIVENESS_HPP
