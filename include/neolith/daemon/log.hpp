// The daemon's log: structured events (what happened, to which node, connection, session and
// request), filtered by level and written as text or JSON lines (`--log-format`, `--log-level`).
#ifndef NEOLITH_DAEMON_LOG_HPP
#define NEOLITH_DAEMON_LOG_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace neolith {

/// Severity of a log event; `off` filters everything.
enum class log_level : std::uint8_t { debug, info, warning, error, off };

/// "debug" / "info" / "warning" / "error" / "off".
std::string_view to_string(log_level l) noexcept;
/// Also accepts "warn".
std::optional<log_level> parse_log_level(std::string_view s) noexcept;

/// How a log line is written.
enum class log_format : std::uint8_t {
  text,  ///< `<ts> <level> <event> key=value... : message`
  json,  ///< one JSON object per line: ts, level, event, then the fields that are set
};

std::string_view to_string(log_format f) noexcept;
std::optional<log_format> parse_log_format(std::string_view s) noexcept;

/// One event. Views only: building one costs nothing; empty fields (0 for `connection` and
/// `code`) are left out of the line.
struct log_record {
  log_level level = log_level::info;
  std::string_view event;       ///< e.g. "connection_opened", "session_state", "request_refused"
  std::string_view message;     ///< free text
  std::string_view node;        ///< the node id
  std::uint64_t connection = 0; ///< the daemon's number of the connection (from 1)
  std::string_view session;     ///< session id
  std::string_view request_id;  ///< the request's requestId
  std::string_view status;      ///< a session's new status
  std::string_view error;       ///< a refused request's wire error code
  int code = 0;                 ///< an HTTP status or a WebSocket close code
  std::string_view reason;      ///< a close reason
  std::string_view peer;        ///< the client's address
};

/// The line of `r` (no trailing newline), stamped `ts` (ISO-8601 UTC with milliseconds).
std::string format_log_line(const log_record& r, log_format f, std::chrono::system_clock::time_point ts);

}  // namespace neolith

#endif  // NEOLITH_DAEMON_LOG_HPP
