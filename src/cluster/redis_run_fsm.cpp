#include <neolith/cluster/detail/redis_run_fsm.hpp>

namespace neolith::cluster::detail {

using kind = redis_run_action::kind;

redis_run_action redis_run_fsm::start() noexcept {
  if (state_ != state::idle) return {state_ == state::stopped ? kind::stop : kind::connect, {}};
  state_ = state::connecting;
  return {kind::connect, {}};
}

redis_run_action redis_run_fsm::retry(double unit_random) noexcept {
  const auto delay = backoff_.next_delay(unit_random);
  if (!delay) {
    state_ = state::stopped;
    return {kind::stop, {}};
  }
  state_ = state::waiting;
  return {kind::wait, *delay};
}

redis_run_action redis_run_fsm::on_connect_result(bool ok, double unit_random) noexcept {
  if (state_ != state::connecting) return {kind::stop, {}};
  if (!ok) return retry(unit_random);
  backoff_.reset();
  ++connections_;
  state_ = state::connected;
  return {kind::run, {}};
}

redis_run_action redis_run_fsm::on_connection_lost(double unit_random) noexcept {
  if (state_ != state::connected) return {kind::stop, {}};
  return retry(unit_random);
}

redis_run_action redis_run_fsm::on_wait_done() noexcept {
  if (state_ != state::waiting) return {kind::stop, {}};
  state_ = state::connecting;
  return {kind::connect, {}};
}

redis_run_action redis_run_fsm::on_stop() noexcept {
  state_ = state::stopped;
  return {kind::stop, {}};
}

}  // namespace neolith::cluster::detail
