// The options of a daemon_node. Every number the behaviour depends on is here, with the seed's
// defaults; tests scale them down to milliseconds.
#ifndef NEOLITH_CLIENT_NODE_OPTIONS_HPP
#define NEOLITH_CLIENT_NODE_OPTIONS_HPP

#include <neolith/protocol/messages.hpp>
#include <neolith/transport/tls_options.hpp>

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

  /// The deadline of a request when the call gives none, counted from the call. It covers the
  /// whole life of the request: the time it waits in the queue and any re-sends after a
  /// reconnect.
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

  /// Offer permessage-deflate (RFC 7692) on the upgrade. When the daemon agrees, it may send
  /// compressed messages and the node compresses those of its own that are at least
  /// `deflate_threshold` bytes long. For slow links: off by default, since a compressing
  /// connection holds about 140 KiB of zlib state (allocated at its first compressed message,
  /// per connection) and spends CPU on every message it compresses.
  bool permessage_deflate = false;
  /// Messages shorter than this are sent uncompressed (RFC 7692 lets each message choose).
  std::size_t deflate_threshold = 1024;
  /// zlib's compression level, 1 (fastest) to 9 (smallest); other values are clamped.
  /// 1 by default: on JSON text it compresses at about 75 MB/s to a third or a quarter of the
  /// size, where 6 runs at about 12 MB/s for a fifth (bench/compression_bench,
  /// docs/performance.md).
  int deflate_level = 1;

  /// When set, sent as `Authorization: Bearer <token>` on the WebSocket upgrade.
  std::optional<std::string> bearer_token;

  /// TLS settings for wss:// endpoints (ignored for ws://). Default: the daemon's certificate
  /// is verified against the system's CA store and the endpoint's host name; no client
  /// certificate.
  node_tls_options tls;

  /// An OpenSSL context of your own for wss:// endpoints (advanced: e.g. one context shared by
  /// many nodes, or settings `tls` has no field for). When set, `tls.ca_file`, `ca_directory`,
  /// `certificate_file` and `private_key_file` are ignored; `verify_peer` and `server_name`
  /// still apply to each connection. Default null: the node makes its own context from `tls`,
  /// once.
  std::shared_ptr<boost::asio::ssl::context> tls_context;

  /// Events kept for each subscription that is not keeping up; beyond it the oldest are
  /// dropped (and counted), so a slow consumer never stalls the node nor grows its memory.
  std::size_t event_queue_capacity = 1024;
};

/// Checks what a node cannot work with: a timeout or interval that is zero or negative, a
/// negative backoff or one whose base exceeds its max, `max_attempts` below 0, `jitter`
/// outside 0 to 1, a zero `queue_max` or `event_queue_capacity`, `max_message_bytes` below 1024, an empty
/// bearer token.
/// Fails with `error::invalid_options` and a message naming the option. A node made with such
/// options fails `connect()` at once with that error, and starts nothing.
result<void> validate(const node_options& o);

}  // namespace neolith

#endif  // NEOLITH_CLIENT_NODE_OPTIONS_HPP
