// A circuit breaker for failing nodes (the seed's "Circuit Breaker" enhancement): an
// orchestrator keeps one per daemon_node and stops sending work to a node that keeps failing,
// then probes it again after a cool-down. A plain class with an injectable clock; not
// thread-safe (keep it with the router's state).
#ifndef NEOLITH_CLUSTER_CIRCUIT_BREAKER_HPP
#define NEOLITH_CLUSTER_CIRCUIT_BREAKER_HPP

#include <neolith/core/error.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace neolith {

struct circuit_breaker_options {
  /// Consecutive failures that open the circuit.
  int failure_threshold = 5;
  /// How long the circuit stays open before one probe request is let through (half-open).
  std::chrono::milliseconds open_duration{30'000};
  /// Successes in half-open state that close the circuit again.
  int success_threshold = 1;
};

enum class circuit_state { closed, open, half_open };

constexpr std::string_view to_string(circuit_state s) noexcept {
  switch (s) {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half_open";
  }
  return "unknown";
}

/// True for the errors that say something about the node's health (it did not answer, the link
/// failed, it refused for load or failed internally); false for the caller's own doing
/// (cancellation, a bad request, a refused session type) and for local refusals.
bool counts_as_node_failure(const error_info& e) noexcept;

template <class Clock = std::chrono::steady_clock>
class basic_circuit_breaker {
 public:
  using time_point = typename Clock::time_point;

  explicit basic_circuit_breaker(circuit_breaker_options o = {}) noexcept : opts_(o) {}

  /// Whether a request may be sent now. In half-open state one probe at a time is let through.
  bool allow(time_point now = Clock::now()) noexcept {
    switch (state_) {
      case circuit_state::closed: return true;
      case circuit_state::open:
        if (now - opened_at_ < opts_.open_duration) return false;
        state_ = circuit_state::half_open;
        probing_ = false;
        successes_ = 0;
        [[fallthrough]];
      case circuit_state::half_open:
        if (probing_) return false;
        probing_ = true;
        return true;
    }
    return false;
  }

  /// The outcome of a request that `allow()` let through.
  void on_success() noexcept {
    failures_ = 0;
    if (state_ == circuit_state::half_open) {
      probing_ = false;
      if (++successes_ >= std::max(1, opts_.success_threshold)) state_ = circuit_state::closed;
    }
  }

  void on_failure(time_point now = Clock::now()) noexcept {
    ++total_failures_;
    if (state_ == circuit_state::half_open) return open(now);
    if (++failures_ >= std::max(1, opts_.failure_threshold)) open(now);
  }

  /// Records a result: failures that `counts_as_node_failure` are failures, every success a
  /// success, anything else neither.
  template <class T>
  void record(const result<T>& r, time_point now = Clock::now()) noexcept {
    if (r) on_success();
    else if (counts_as_node_failure(r.error())) on_failure(now);
    else if (state_ == circuit_state::half_open) probing_ = false;  // the probe proved nothing
  }

  circuit_state state() const noexcept { return state_; }
  int consecutive_failures() const noexcept { return failures_; }
  std::uint64_t total_failures() const noexcept { return total_failures_; }
  std::uint64_t times_opened() const noexcept { return opened_; }

 private:
  void open(time_point now) noexcept {
    state_ = circuit_state::open;
    opened_at_ = now;
    failures_ = 0;
    probing_ = false;
    ++opened_;
  }

  circuit_breaker_options opts_;
  circuit_state state_ = circuit_state::closed;
  int failures_ = 0;
  int successes_ = 0;
  bool probing_ = false;
  time_point opened_at_{};
  std::uint64_t total_failures_ = 0;
  std::uint64_t opened_ = 0;
};

using circuit_breaker = basic_circuit_breaker<>;

}  // namespace neolith

#endif  // NEOLITH_CLUSTER_CIRCUIT_BREAKER_HPP
