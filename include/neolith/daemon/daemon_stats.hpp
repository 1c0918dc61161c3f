// The counters of a daemon.
#ifndef NEOLITH_DAEMON_DAEMON_STATS_HPP
#define NEOLITH_DAEMON_DAEMON_STATS_HPP

#include <neolith/protocol/messages.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace neolith {

/// Counters of a daemon since it started.
struct daemon_stats {
  std::size_t connections = 0;                ///< open WebSocket connections now
  std::uint64_t connections_accepted = 0;     ///< upgraded connections in total
  std::uint64_t http_refused = 0;             ///< non-upgrade (426) and unauthorized (401) requests
  std::uint64_t tls_handshakes_failed = 0;    ///< wss:// only: TLS handshakes that failed or stalled
  std::size_t live_sessions = 0;              ///< sessions not ended
  std::size_t listed_sessions = 0;            ///< live + retained ended sessions
  std::size_t active_runs = 0;                ///< runner resources held (e.g. unreaped children)
  /// Requests executed, by message type (index: `message_type`); replays are not counted.
  std::array<std::uint64_t, 18> requests{};
  std::uint64_t spawns_executed = 0;          ///< spawn_session requests that created a session
  std::uint64_t replays_served = 0;           ///< answers replayed from the idempotency window
  std::uint64_t decode_errors = 0;            ///< text frames answered with invalid_json/... errors
  std::uint64_t binary_frames = 0;            ///< binary frames refused
  std::uint64_t heartbeats_sent = 0;          ///< daemon heartbeats pushed (all clients)
  std::uint64_t heartbeat_timeouts = 0;       ///< clients closed for silence
  std::uint64_t session_updates_sent = 0;     ///< session_updated pushes (all clients)
  std::uint64_t responses_too_large = 0;      ///< answers replaced by response_too_large
  /// permessage-deflate: frames sent compressed (all clients), and the bytes of their messages
  /// before and after compression.
  std::uint64_t frames_compressed = 0;
  std::uint64_t deflate_input_bytes = 0;
  std::uint64_t deflate_output_bytes = 0;

  std::uint64_t requests_of(message_type t) const noexcept {
    return requests[static_cast<std::size_t>(t)];
  }
};

}  // namespace neolith

#endif  // NEOLITH_DAEMON_DAEMON_STATS_HPP
