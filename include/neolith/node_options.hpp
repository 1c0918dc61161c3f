// The options of a daemon_node. Every number the behaviour depends on is here, with the seed's
// defaults; tests scale them down to milliseconds.
#ifndef NEOLITH_NODE_OPTIONS_HPP
#define NEOLITH_NODE_OPTIONS_HPP

#include <neolith/protocol.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace neolith {

struct node_options {
  using ms = std::chrono::milliseconds;

  /// One connection attempt (resolve, TCP connect, TLS, WebSocket upgrade) may take this long;
  /// then it fails with `error::connect_timeout`.
  ms connect_timeout{10'000};

  /// The deadline of a request when the call gives none. A deadline is absolute: it covers
  /// the time the request waits in the queue and any re-sends after a reconnect.
  ms request_timeout{30'000};

  /// The deadline of `get_health()` when the call gives none.
  ms health_timeout{5'000};

  /// A `heartbeat` is sent every interval while connected.
  ms heartbeat_interval{10'000};

  /// A connection on which nothing at all has arrived for this long is declared dead
  /// (`error::heartbeat_timeout`) and reconnected.
  ms heartbeat_timeout{60'000};

  /// Reconnection backoff: attempt n waits min(backoff_base * 2^(n-1), backoff_max).
  ms backoff_base{1'000};
  ms backoff_max{60'000};

  /// Reconnection attempts after a loss (or a failed first connection) before the node is
  /// `failed`. The count starts over once a connection is established.
  int max_attempts = 10;

  /// The fraction (0 to 1) of each backoff delay that is randomised; 0 turns jitter off.
  double jitter = 0.0;

  /// How many requests may wait while the node is connecting or reconnecting; one more fails
  /// at once with `error::queue_full`.
  std::size_t queue_max = 1000;

  /// Frames above this size are refused both ways: a request that encodes larger fails with
  /// `error::message_too_large` without being sent; a larger incoming frame breaks the
  /// connection (close code 1009), which is then reconnected.
  std::size_t max_message_bytes = default_max_message_bytes;

  /// When set, sent as `Authorization: Bearer <token>` on the WebSocket upgrade.
  std::optional<std::string> bearer_token;

  /// The TLS context for wss:// endpoints. When null, a default client context is made that
  /// verifies the peer against the system's certificate store.
  std::shared_ptr<boost::asio::ssl::context> tls_context;

  /// Events kept for each subscription that is not keeping up; beyond it the oldest are
  /// dropped (and counted), so a slow consumer never stalls the node nor grows its memory.
  std::size_t event_queue_capacity = 1024;
};

}  // namespace neolith

#endif  // NEOLITH_NODE_OPTIONS_HPP
