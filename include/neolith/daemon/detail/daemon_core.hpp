// The socket-free heart of the daemon: decodes a frame, executes the request against the
// session registry (with the idempotency window) and returns the answer text. The connection
// coroutines call it; so does the request-handler fuzzer. Thread-safe.
#ifndef NEOLITH_DAEMON_DETAIL_DAEMON_CORE_HPP
#define NEOLITH_DAEMON_DETAIL_DAEMON_CORE_HPP

#include <neolith/daemon/daemon_options.hpp>
#include <neolith/daemon/daemon_stats.hpp>
#include <neolith/daemon/detail/daemon_idempotency.hpp>
#include <neolith/daemon/detail/daemon_logger.hpp>
#include <neolith/daemon/detail/health_monitor.hpp>
#include <neolith/daemon/detail/session_registry.hpp>
#include <neolith/daemon/session_runner.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/transport/detail/ws_deflate.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace neolith::detail {

struct daemon_counters {
  std::array<std::atomic<std::uint64_t>, 18> requests{};
  std::atomic<std::uint64_t> spawns_executed{0};
  std::atomic<std::uint64_t> replays_served{0};
  std::atomic<std::uint64_t> decode_errors{0};
  std::atomic<std::uint64_t> binary_frames{0};
  std::atomic<std::uint64_t> heartbeats_sent{0};
  std::atomic<std::uint64_t> heartbeat_timeouts{0};
  std::atomic<std::uint64_t> session_updates_sent{0};
  std::atomic<std::uint64_t> responses_too_large{0};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> http_refused{0};
  std::atomic<std::uint64_t> tls_handshakes_failed{0};
  deflate_counters deflate;
  std::atomic<std::size_t> connections{0};
};

class daemon_core {
 public:
  using clock = std::chrono::steady_clock;

  /// `opts` must be valid (see validate()); `runner` runs the sessions.
  daemon_core(const daemon_options& opts, std::shared_ptr<session_runner> runner);

  /// The answer to one text frame (empty when it gets none, e.g. a client's heartbeat_ack).
  std::string handle_text(decoder& d, std::string_view text);
  /// The answer to a decoded message.
  std::string handle_message(const message& m);
  /// The answer to a binary frame: `invalid_message`, without requestId.
  std::string binary_answer();

  /// The daemon's periodic push: {"type":"heartbeat","timestamp":...,"health":...}.
  std::string heartbeat_text();
  /// The push for a session that changed status on its own; empty when it cannot be sent
  /// (larger than the maximum message size).
  std::string session_updated_text(const session& s);

  node_health health() const;
  node_capabilities capabilities() const;
  std::string node_id() const;
  void set_node_id(std::string id);

  session_registry& registry() noexcept { return *registry_; }
  const std::shared_ptr<session_registry>& registry_ptr() const noexcept { return registry_; }
  machine_sampler& sampler() noexcept { return sampler_; }
  response_times& times() noexcept { return times_; }
  daemon_counters& counters() noexcept { return counters_; }
  const daemon_options& options() const noexcept { return opts_; }
  const daemon_logger& logger() const noexcept { return logger_; }
  /// Writes `r` with this node's id (when its level is enabled: test `logger().enabled()`
  /// before building an event that costs anything).
  void log(log_record r) const;
  /// Logs a session's new status (`session_state`).
  void log_session(std::string_view id, session_status st, std::string_view request_id = {}) const;

  /// Fills the counters part of `s`.
  void fill_stats(daemon_stats& s) const;

 private:
  std::string finish(const message& answer, const std::optional<std::string>& request_id,
                     std::string_view request_type);
  std::string error_text(const std::optional<std::string>& request_id, std::string_view request_type,
                         const error_info& e);
  template <class Request, class Exec>
  std::string mutating(const Request& r, message_type t, Exec&& exec);

  const daemon_options opts_;
  const daemon_logger logger_{opts_};
  const clock::time_point started_ = clock::now();
  std::shared_ptr<session_registry> registry_;
  machine_sampler sampler_;
  response_times times_;
  daemon_counters counters_;

  mutable std::mutex id_mu_;
  std::string node_id_;

  std::mutex mutate_mu_;  ///< serializes spawn/terminate/restore with the idempotency window
  idempotency_window idempotency_;
};

}  // namespace neolith::detail

#endif  // NEOLITH_DAEMON_DETAIL_DAEMON_CORE_HPP
