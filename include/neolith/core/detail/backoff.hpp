// The reconnection schedule of daemon_node, as a plain class: no I/O, no clock, no sleeping.
#ifndef NEOLITH_CORE_DETAIL_BACKOFF_HPP
#define NEOLITH_CORE_DETAIL_BACKOFF_HPP

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

namespace neolith::detail {

/// Exponential backoff: attempt n (1-based) waits min(base * 2^(n-1), max) before it, with a
/// fraction `jitter` of that delay randomised: delay * (1 - jitter) + uniform(0, delay * jitter).
/// After `max_attempts` attempts, `next_delay()` returns nullopt (the node then fails).
/// `reset()` (on every established connection) starts the schedule over.
class backoff_policy {
 public:
  using duration = std::chrono::milliseconds;

  backoff_policy(duration base, duration max, int max_attempts, double jitter = 0.0) noexcept
      : base_(std::max(base, duration(0))),
        max_(std::max(max, duration(0))),
        max_attempts_(max_attempts),
        jitter_(std::clamp(jitter, 0.0, 1.0)) {}

  /// The delay before the next attempt, and counts that attempt; nullopt when no attempt is
  /// left. `unit_random` is a number in [0, 1) (only used when jitter > 0).
  std::optional<duration> next_delay(double unit_random = 0.0) noexcept {
    if (attempts_ >= max_attempts_) return std::nullopt;
    ++attempts_;
    return delay_for(attempts_, unit_random);
  }

  /// The delay before attempt `n` (1-based) with no attempt counted.
  duration delay_for(int n, double unit_random = 0.0) const noexcept {
    // base * 2^(n-1), saturating at max without overflowing.
    std::int64_t d = base_.count();
    for (int i = 1; i < n && d < max_.count(); ++i) d *= 2;
    d = std::min<std::int64_t>(d, max_.count());
    if (jitter_ > 0.0) {
      const double r = std::clamp(unit_random, 0.0, 1.0);
      const double fixed = static_cast<double>(d) * (1.0 - jitter_);
      const double random = static_cast<double>(d) * jitter_ * r;
      d = static_cast<std::int64_t>(fixed + random);
    }
    return duration(d);
  }

  void reset() noexcept { attempts_ = 0; }
  /// Attempts counted since the last reset.
  int attempts() const noexcept { return attempts_; }
  int max_attempts() const noexcept { return max_attempts_; }
  bool exhausted() const noexcept { return attempts_ >= max_attempts_; }

 private:
  duration base_;
  duration max_;
  int max_attempts_;
  double jitter_;
  int attempts_ = 0;
};

}  // namespace neolith::detail

#endif  // NEOLITH_CORE_DETAIL_BACKOFF_HPP
