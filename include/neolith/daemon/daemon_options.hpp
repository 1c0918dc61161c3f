// The settings of a daemon node (`neolith::daemon_server`, `neolith daemon`): where it listens,
// what it runs, its limits, timings and the capabilities it announces. Every field has the
// documented default of the command (docs/daemon.md).
#ifndef NEOLITH_DAEMON_DAEMON_OPTIONS_HPP
#define NEOLITH_DAEMON_DAEMON_OPTIONS_HPP

#include <neolith/core/error.hpp>
#include <neolith/core/version.hpp>
#include <neolith/daemon/log.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>
#include <neolith/transport/tls_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neolith {

class session_runner;

/// Which session runner a daemon uses (`--runner`).
enum class runner_kind {
  inproc,   ///< sessions live in memory and run until terminated (the default)
  process,  ///< each session runs a command (`--exec TYPE=COMMAND`) through /bin/sh -c
};

/// "inproc" / "process".
std::string_view to_string(runner_kind k) noexcept;
std::optional<runner_kind> parse_runner_kind(std::string_view s) noexcept;

/// The thresholds that turn the measured figures into `NodeHealth.status`.
/// `unhealthy` when any "unhealthy" threshold is reached, else `degraded` when any "degraded"
/// threshold is reached (near capacity included), else `healthy`.
struct health_thresholds {
  double degraded_cpu = 85;           ///< machine CPU use, percent
  double unhealthy_cpu = 98;
  double degraded_memory = 90;        ///< machine memory use, percent
  double unhealthy_memory = 98;
  double degraded_session_ratio = 0.9;  ///< live sessions / maxConcurrentSessions (>=: degraded)
  double degraded_response_ms = 1000;   ///< the daemon's recent mean response time
  double unhealthy_response_ms = 10000;
};

/// Every setting of a daemon. The defaults are those of `neolith daemon`.
struct daemon_options {
  // ----- Listening (--listen HOST:PORT) ----------------------------------------------
  std::string host = "127.0.0.1";  ///< address or host name to bind
  std::uint16_t port = 0;          ///< 0: the system picks a free port

  // ----- Identity and capabilities ---------------------------------------------------
  /// `node_info.nodeId` (--node-id). Empty: "<hostname>:<port>" once bound.
  std::string node_id;
  /// `node_info.version`.
  std::string version = version_string;
  /// `maxConcurrentSessions` (--max-sessions): live sessions beyond it are refused with
  /// `capacity_exceeded`. 0 means the node cannot spawn sessions.
  std::size_t max_sessions = 100;
  /// `supportedSessionTypes` (--session-types): others are refused with
  /// `unsupported_session_type`. With the process runner every type listed needs an `exec`.
  std::vector<session_type> session_types{session_type::claude_code, session_type::claude_flow};
  bool has_gpu_access = false;   ///< `hasGPUAccess`
  bool has_high_memory = false;  ///< `hasHighMemory`
  /// `customCapabilities` (omitted on the wire when empty).
  std::map<std::string, bool> custom_capabilities;

  // ----- Authentication (--token-file F) --------------------------------------------
  /// When set, every upgrade request must carry `Authorization: Bearer <token>`; others get
  /// HTTP 401. Compared in constant time, never logged.
  std::optional<std::string> token;

  // ----- TLS (--tls-cert F --tls-key F [--tls-client-ca F]) ------------------------
  /// Set: connections are TLS (wss://), the TLS handshake first, then the upgrade (the bearer
  /// token is checked as without TLS). Unset (default): plain ws://.
  std::optional<daemon_tls_options> tls;

  // ----- Heartbeats (--heartbeat-interval-ms, --heartbeat-timeout-ms) ----------------
  /// The daemon pushes a `heartbeat` with its health to every client this often.
  std::chrono::milliseconds heartbeat_interval{10'000};
  /// A client from which nothing (a data frame or a ping) arrived for this long is closed
  /// with code 1000, reason "heartbeat timeout".
  std::chrono::milliseconds heartbeat_timeout{60'000};

  // ----- Threads (--threads N) --------------------------------------------------------
  /// The number of threads the command runs the io_context on (0: hardware concurrency).
  /// `daemon_server` itself runs on whatever threads the caller runs its io_context on.
  unsigned threads = 0;

  // ----- Sessions (--runner, --exec) --------------------------------------------------
  runner_kind runner = runner_kind::inproc;
  /// The process runner's command per session type (--exec TYPE=COMMAND), run through
  /// `/bin/sh -c`.
  std::map<session_type, std::string> exec;
  /// A terminated process gets SIGTERM, then SIGKILL after this grace period (its whole
  /// process group) (--terminate-grace-ms).
  std::chrono::milliseconds terminate_grace{2'000};
  /// Directory for the process runner's snapshot files; empty: $TMPDIR or /tmp.
  std::string work_dir;
  /// A runner of your own; when set it is used instead of `runner`/`exec`.
  std::shared_ptr<session_runner> custom_runner;

  /// The session journal's directory (--state-dir): every session change is appended to
  /// DIR/sessions.journal and fsynced before its request is answered; a daemon started on
  /// the same directory lists the sessions again (ended ones as they were; live ones running
  /// again with the in-process runner, else `failed`). Empty (default): nothing is kept.
  std::string state_dir;

  /// Ended sessions stay listed (get_sessions, get_session) this long...
  std::chrono::milliseconds ended_session_retention{std::chrono::minutes(10)};
  /// ...and at most this many of the most recent ones.
  std::size_t max_ended_sessions = 1000;

  // ----- Idempotency window ------------------------------------------------------------
  /// Answers of spawn/terminate/restore requests with a `requestId` are recorded and replayed
  /// for a resent request for this long...
  std::chrono::milliseconds idempotency_window{std::chrono::minutes(10)};
  /// ...for at most this many requests...
  std::size_t idempotency_max_entries = 10'000;
  /// ...and at most this many bytes of recorded answers (the oldest go first).
  std::size_t idempotency_max_bytes = 256u * 1024 * 1024;

  // ----- Messages (--max-message-bytes N) -----------------------------------------------
  /// Larger frames close the connection with 1009; larger answers become `response_too_large`.
  std::size_t max_message_bytes = default_max_message_bytes;
  /// Agree to permessage-deflate (RFC 7692) with clients that offer it (--permessage-deflate):
  /// they may then send compressed messages, and the answers and pushes of at least
  /// `deflate_threshold` bytes are sent compressed. Without it, offers are declined (the
  /// extension is not negotiated) and the connection works uncompressed. A compressing
  /// connection holds about 140 KiB of zlib state (from its first compressed message).
  bool permessage_deflate = false;
  /// Messages shorter than this are sent uncompressed (--deflate-threshold N).
  std::size_t deflate_threshold = 1024;
  /// zlib's compression level, 1 (fastest) to 9 (smallest) (--deflate-level N).
  /// 1 by default: on JSON text it compresses at about 75 MB/s to a third or a quarter of the
  /// size, where 6 runs at about 12 MB/s for a fifth (bench/compression_bench,
  /// docs/performance.md).
  int deflate_level = 1;

  // ----- Health ---------------------------------------------------------------------------
  /// How often the machine's CPU and memory use are sampled from /proc.
  std::chrono::milliseconds health_sample_interval{1'000};
  health_thresholds thresholds;

  // ----- Connections ------------------------------------------------------------------------
  /// A connection must complete its TLS handshake (with TLS) and its HTTP upgrade within this
  /// time.
  std::chrono::milliseconds handshake_timeout{10'000};
  /// A closing connection (close frame sent) is cut after this time without the peer's close.
  std::chrono::milliseconds close_timeout{1'000};
  /// Per connection: reading pauses while this many bytes of answers wait to be written.
  std::size_t max_outbound_bytes = 4u * 1024 * 1024;
  /// Per connection: a peer that lets this many bytes pile up unread is disconnected.
  std::size_t max_outbound_bytes_hard = 64u * 1024 * 1024;

  // ----- Test hooks that are real features ----------------------------------------------------
  /// Every answer is held back this long before it is sent (simulates a slow node; lets tests
  /// have requests in flight). 0: none.
  std::chrono::milliseconds response_delay{0};

  // ----- HTTP probes (--metrics-public) ------------------------------------------------------
  /// `GET /metrics`, `/healthz` and `/readyz` are answered on the daemon's port (with its TLS).
  /// With a `token` they need it too, unless this is true (--metrics-public).
  bool metrics_public = false;

  // ----- Logging (--log-level, --log-format, --quiet) ---------------------------------------
  /// Where the daemon reports what it does: one formatted line per event (`log_line_format`,
  /// timestamp included, no trailing newline), from any thread. Empty: silent. Never receives
  /// the token.
  std::function<void(std::string_view)> log;
  /// Events below this level are not written (nor built) (--log-level).
  log_level log_threshold = log_level::info;
  /// Text or JSON lines (--log-format).
  log_format log_line_format = log_format::text;
};

/// Checks the consistency of `o` (non-zero timings, a command for each session type of the
/// process runner, ...). Fails with `error::invalid_argument` and a one-line message.
result<void> validate(const daemon_options& o);

}  // namespace neolith

#endif  // NEOLITH_DAEMON_DAEMON_OPTIONS_HPP
