// The messages of the wire protocol (protocol-v1.md) and their codec.
//
// `message` is a std::variant of one struct per message type. Every struct carries the
// envelope's optional `request_id`. `encode()` writes the exact JSON the TypeScript client
// sends or expects; `decoder::decode()` validates strictly and never throws.
#ifndef NEOLITH_PROTOCOL_MESSAGES_HPP
#define NEOLITH_PROTOCOL_MESSAGES_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace neolith {

/// The protocol version this library speaks (`node_info.protocolVersion`).
inline constexpr int protocol_version = 1;

/// The default maximum size of one message, both ways: 1 MiB.
inline constexpr std::size_t default_max_message_bytes = 1024 * 1024;

/// The deepest JSON nesting a decoder accepts (deeper: `error::nesting_too_deep`).
inline constexpr std::size_t max_json_depth = 64;

namespace msg {

// ----- Requests (client to daemon) ----------------------------------------------------
struct spawn_session {
  std::optional<std::string> request_id;
  session_spawn_request request;
  friend bool operator==(const spawn_session&, const spawn_session&) = default;
};
struct get_session {
  std::optional<std::string> request_id;
  std::string session_id;
  friend bool operator==(const get_session&, const get_session&) = default;
};
struct terminate_session {
  std::optional<std::string> request_id;
  std::string session_id;
  friend bool operator==(const terminate_session&, const terminate_session&) = default;
};
struct restore_session {
  std::optional<std::string> request_id;
  serialized_session serialized;  ///< serializedSession
  friend bool operator==(const restore_session&, const restore_session&) = default;
};
struct get_health {
  std::optional<std::string> request_id;
  friend bool operator==(const get_health&, const get_health&) = default;
};
struct get_sessions {
  std::optional<std::string> request_id;
  friend bool operator==(const get_sessions&, const get_sessions&) = default;
};
struct get_node_info {
  std::optional<std::string> request_id;
  friend bool operator==(const get_node_info&, const get_node_info&) = default;
};
/// Both ways: a client's keep-alive (fields optional, not interpreted by the daemon) and the
/// daemon's periodic push (both fields present).
struct heartbeat {
  std::optional<std::string> request_id;
  std::optional<timestamp> time;           ///< timestamp? (ms since the epoch, a number on the wire; a date string is read too)
  std::optional<node_health> health;
  friend bool operator==(const heartbeat&, const heartbeat&) = default;
};

// ----- Answers (daemon to client) and pushes --------------------------------------------
struct session_spawned {
  std::optional<std::string> request_id;
  std::string session_id;
  neolith::session session;
  friend bool operator==(const session_spawned&, const session_spawned&) = default;
};
struct session_state {
  std::optional<std::string> request_id;
  std::string session_id;
  std::optional<neolith::session> session;  ///< `null` on the wire when unknown
  friend bool operator==(const session_state&, const session_state&) = default;
};
struct session_terminated {
  std::optional<std::string> request_id;
  std::string session_id;
  bool success = false;
  friend bool operator==(const session_terminated&, const session_terminated&) = default;
};
struct session_restored {
  std::optional<std::string> request_id;
  std::string session_id;
  bool success = false;
  friend bool operator==(const session_restored&, const session_restored&) = default;
};
struct health_response {
  std::optional<std::string> request_id;
  node_health health;
  friend bool operator==(const health_response&, const health_response&) = default;
};
struct sessions_response {
  std::optional<std::string> request_id;
  std::vector<neolith::session> sessions;
  friend bool operator==(const sessions_response&, const sessions_response&) = default;
};
struct heartbeat_ack {
  std::optional<std::string> request_id;
  std::int64_t time = 0;  ///< timestamp: milliseconds since the epoch (a number on the wire)
  friend bool operator==(const heartbeat_ack&, const heartbeat_ack&) = default;
};
struct node_info {
  std::optional<std::string> request_id;
  std::string node_id;
  std::string version;
  int protocol = protocol_version;  ///< protocolVersion
  node_capabilities capabilities;
  friend bool operator==(const node_info&, const node_info&) = default;
};
/// Daemon push: a session changed status on its own.
struct session_updated {
  std::optional<std::string> request_id;
  std::string session_id;
  neolith::session session;
  friend bool operator==(const session_updated&, const session_updated&) = default;
};
/// An error answer. `code` is the wire code (see `wire_code()`); `text` the `error` field.
struct error {
  std::optional<std::string> request_id;
  std::string text;                         ///< error
  std::optional<std::string> request_type;  ///< requestType?
  std::string code;
  friend bool operator==(const error&, const error&) = default;
};

}  // namespace msg

/// Every message of the protocol. The order of the alternatives is part of the API
/// (`message_type` follows it).
using message = std::variant<
    msg::spawn_session, msg::get_session, msg::terminate_session, msg::restore_session,
    msg::get_health, msg::get_sessions, msg::get_node_info, msg::heartbeat,
    msg::session_spawned, msg::session_state, msg::session_terminated, msg::session_restored,
    msg::health_response, msg::sessions_response, msg::heartbeat_ack, msg::node_info,
    msg::session_updated, msg::error>;

/// The `type` of each message, in the order of `message`'s alternatives.
enum class message_type {
  spawn_session, get_session, terminate_session, restore_session,
  get_health, get_sessions, get_node_info, heartbeat,
  session_spawned, session_state, session_terminated, session_restored,
  health_response, sessions_response, heartbeat_ack, node_info,
  session_updated, error,
};

/// The wire name of a message type ("spawn_session", ...).
std::string_view to_string(message_type t) noexcept;
/// The message type of a wire name, if any.
std::optional<message_type> parse_message_type(std::string_view s) noexcept;
/// The type of `m`.
inline message_type type_of(const message& m) noexcept { return static_cast<message_type>(m.index()); }
/// The envelope's `requestId` of `m`, if any.
const std::optional<std::string>& request_id_of(const message& m) noexcept;
/// Sets the envelope's `requestId` of `m`.
void set_request_id(message& m, std::optional<std::string> id);

/// Encodes `m` as one JSON text: the `type` first, the fields, then `requestId` when present.
std::string encode(const message& m);
/// Appends the encoding of `m` to `out` (reuses `out`'s capacity).
void encode(const message& m, std::string& out);
/// The JSON object of `m` (the same structure `encode` serializes).
boost::json::object to_json(const message& m);

/// Limits a decoder enforces.
struct decode_options {
  std::size_t max_message_bytes = default_max_message_bytes;  ///< larger: error::message_too_large
  std::size_t max_depth = max_json_depth;                     ///< deeper: error::nesting_too_deep
  /// Read the common messages (requests of the hot path and their answers) in one pass from
  /// the parser's events, falling back to the general path for anything else. The results
  /// are the same either way; false always takes the general path (for comparisons).
  bool fast_path = true;
};

/// A reusable decoder: keeps its parser and memory between messages, so decoding a stream of
/// messages allocates little. Not thread-safe; use one per connection.
///
/// On failure, `request_id()` and `request_type()` still tell the message's `requestId` and
/// `type` when they were readable (a JSON object whose `requestId` is a string), so a daemon
/// can answer with an `error` carrying them.
class decoder {
 public:
  explicit decoder(decode_options opts = {});
  ~decoder();
  decoder(decoder&&) noexcept;
  decoder& operator=(decoder&&) noexcept;

  /// Decodes one message. Never throws (but std::bad_alloc).
  result<message> decode(std::string_view text);

  /// The `requestId` of the last decoded text, when readable, even if decoding failed.
  const std::optional<std::string>& request_id() const noexcept { return request_id_; }
  /// The `type` string of the last decoded text, when it was a string, even if decoding failed.
  const std::optional<std::string>& request_type() const noexcept { return request_type_; }

  const decode_options& options() const noexcept { return opts_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  decode_options opts_;
  std::optional<std::string> request_id_;
  std::optional<std::string> request_type_;
  std::string id_spare_, type_spare_;  // their buffers between messages: no allocation per message
};

/// One-shot decode with default options (a fresh decoder per call; prefer `decoder` in loops).
result<message> decode(std::string_view text);

/// Builds the `error` answer for a failed decode: its code is `wire_code(e.code)`, its text
/// `e.what()`, and it carries the decoder's readable `requestId` and `type`.
msg::error make_error_answer(const error_info& e, const decoder& d);

}  // namespace neolith

#endif  // NEOLITH_PROTOCOL_MESSAGES_HPP
