// Errors and results of neolith: the `neolith::error` enum in its own
// boost::system error category, the `error_info` payload (a code plus the human-readable
// text, e.g. the remote daemon's), and `neolith::result<T>`.
#ifndef NEOLITH_CORE_ERROR_HPP
#define NEOLITH_CORE_ERROR_HPP

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace neolith {

namespace outcome = boost::outcome_v2;
using boost::system::error_code;

/// Every error neolith reports. Each value has a message (`error_category().message()`) and a
/// stable snake_case name (`to_string()`) that the CLI, the JSONL mode and logs use; the names
/// never change once released. Value 0 is not used (it means success in boost::system).
enum class error : int {
  // --- Decoding (protocol codec); each maps to a wire code, see `wire_code()`. -------------
  invalid_json = 1,        ///< not JSON at all (wire: invalid_json)
  nesting_too_deep,        ///< JSON nested deeper than the limit (wire: invalid_json)
  not_an_object,           ///< JSON, but not an object (wire: invalid_message)
  missing_field,           ///< a required field is absent (wire: invalid_message)
  wrong_field_type,        ///< a field has the wrong JSON type (wire: invalid_message)
  invalid_enum_value,      ///< a string outside its enumeration (wire: invalid_message)
  invalid_date,            ///< a date that is not valid ISO-8601 (wire: invalid_message)
  number_out_of_range,     ///< a number outside its type's range (wire: invalid_message)
  unknown_type,            ///< `type` names no message of the protocol (wire: unknown_type)
  message_too_large,       ///< a frame above the maximum message size (close code 1009)
  invalid_utf8,            ///< a text frame that is not UTF-8 (close code 1007)

  // --- Codes the daemon sends in `error` answers (protocol-v1.md, "Errors"). -------------
  invalid_message,          ///< remote `invalid_message`, or a binary frame
  unsupported_session_type, ///< remote or local: the node does not run this session type
  capacity_exceeded,        ///< the node is at maxConcurrentSessions
  response_too_large,       ///< the answer would exceed the maximum message size
  rate_limited,             ///< the daemon refused the request for load
  internal,                 ///< the daemon failed internally
  remote_error,             ///< an `error` answer whose code this version does not know

  // --- Client (daemon_node). -----------------------------------------------------------
  timeout,                 ///< the request's deadline passed
  cancelled,               ///< the caller cancelled the operation
  queue_full,              ///< the bounded queue of waiting requests is full
  not_connected,           ///< the node is disconnected or has failed
  spawn_not_supported,     ///< the node's capabilities say it cannot spawn sessions
  connect_failed,          ///< one connection attempt failed (resolve, TCP, TLS, upgrade)
  connect_timeout,         ///< one connection attempt took longer than the connect timeout
  connection_lost,         ///< the connection broke
  heartbeat_timeout,       ///< nothing arrived from the peer within the heartbeat timeout
  reconnect_failed,        ///< every reconnection attempt failed; the node is `failed`
  unexpected_response,     ///< an answer of the wrong type for its request
  unauthorized,            ///< the daemon refused the upgrade with HTTP 401
  invalid_endpoint,        ///< the endpoint URL cannot be used (scheme, host, port)
  shutting_down,           ///< the node or server is stopping
  invalid_request,         ///< a malformed request given to the CLI / JSONL mode
  invalid_argument,        ///< a bad argument given to an API call
  session_not_found,       ///< an operation on a session id the node does not know

  // --- TLS (wss://, client and daemon). -------------------------------------------------
  tls_config,              ///< a TLS setting cannot be used (unreadable or invalid certificate, key, CA)
  tls_handshake_failed,    ///< the TLS handshake failed (peer not trusted, host name mismatch, not TLS)

  // --- Cluster: the location registry (include/neolith/cluster/). ----------------------
  registry_unavailable,    ///< the registry's store (Redis) cannot be reached now; nothing was written
  location_exists,         ///< a claim for a session id the registry already records
  location_conflict,       ///< a compare-and-set whose expected (node, epoch) is not the current one
  registry_protocol,       ///< the registry's store answered something that is not a valid reply

  // --- Configuration. ------------------------------------------------------------------
  invalid_options,         ///< a `node_options` value cannot be used (zero interval, zero queue...)
};

/// The error category of neolith (`name()` is "neolith").
const boost::system::error_category& error_category() noexcept;

/// Builds an `error_code` in neolith's category. Found by ADL, so `error_code ec = error::timeout`
/// works.
inline error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The stable snake_case name of `e`, e.g. "queue_full". Unknown values give "unknown".
std::string_view to_string(error e) noexcept;

/// The `error` whose stable name is `name`, if any.
std::optional<error> error_from_string(std::string_view name) noexcept;

/// The protocol's machine-readable code (`error.code` on the wire) for `e`:
/// "invalid_json", "invalid_message", "unknown_type", "unsupported_session_type",
/// "capacity_exceeded", "response_too_large", "rate_limited", "internal".
/// Errors that are never sent on the wire map to "internal".
std::string_view wire_code(error e) noexcept;

/// The `error` a daemon's `code` stands for; an unknown code gives `error::remote_error`
/// (the code text then stays in `error_info::message`).
error error_from_wire_code(std::string_view code) noexcept;

/// The stable name of any error code: ours by `to_string`, others as
/// "<category>:<value>" (e.g. "system:111").
std::string error_code_name(const error_code& ec);

/// For a request that failed without an answer (`timeout`, `cancelled`, `not_connected`,
/// `shutting_down`, `queue_full`...): whether it could have run on the daemon. A router
/// deciding whether it may retry a `spawn_session` elsewhere reads it.
enum class send_state : unsigned char {
  unknown,            ///< not a request's failure (a connection error, a daemon's answer, ...)
  never_sent,         ///< the request was never written to a connection: it did not run
  may_have_executed,  ///< it was written at least once: the daemon may have run it
};

/// "unknown", "never_sent", "may_have_executed".
std::string_view to_string(send_state s) noexcept;

/// The error payload of neolith's results: the code (always set for a failure) and the
/// human-readable detail, such as the daemon's own text for a remote error or the path of the
/// offending field for a decoding error. `message` may be empty; `what()` never is. `sent`
/// says whether a request that failed without an answer may have run (see `send_state`).
struct error_info {
  error_code code;
  std::string message;
  send_state sent = send_state::unknown;

  error_info() = default;
  error_info(error_code c) : code(c) {}  // NOLINT: implicit by design
  error_info(error e) : code(make_error_code(e)) {}  // NOLINT: implicit by design
  error_info(error_code c, std::string msg) : code(c), message(std::move(msg)) {}
  error_info(error e, std::string msg) : code(make_error_code(e)), message(std::move(msg)) {}

  /// "message (name)" or the category's message when `message` is empty.
  std::string what() const;

  friend bool operator==(const error_info& a, const error_info& b) noexcept { return a.code == b.code; }
  friend bool operator==(const error_info& a, error e) noexcept { return a.code == make_error_code(e); }
  friend bool operator==(const error_info& a, const error_code& c) noexcept { return a.code == c; }
};

/// Writes the stable name of `e` ("queue_full").
std::ostream& operator<<(std::ostream& os, error e);
/// Writes `e.what()`.
std::ostream& operator<<(std::ostream& os, const error_info& e);

/// Outcome hooks: an `error_info` is an error code with a payload.
inline const error_code& make_error_code(const error_info& e) noexcept { return e.code; }
[[noreturn]] void outcome_throw_as_system_error_with_payload(const error_info& e);

/// The result of every neolith operation: a `T` or an `error_info`. `.value()` on a failure
/// throws `boost::system::system_error` carrying the code and the message.
template <class T>
using result = outcome::result<T, error_info>;

}  // namespace neolith

namespace boost::system {
template <>
struct is_error_code_enum<neolith::error> : std::true_type {};
}  // namespace boost::system

#endif  // NEOLITH_CORE_ERROR_HPP
