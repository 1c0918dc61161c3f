// What a daemon_node tells its listeners: the seed's events, as a variant of small structs.
#ifndef NEOLITH_CLIENT_NODE_EVENTS_HPP
#define NEOLITH_CLIENT_NODE_EVENTS_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace neolith {

/// The connection states of a daemon_node.
enum class connection_state { disconnected, connecting, connected, reconnecting, failed };

/// "disconnected", "connecting", ...
std::string_view to_string(connection_state s) noexcept;

namespace event {

/// A connection attempt starts (`attempt` 0 for the first one after `connect()`, then the
/// reconnection attempt's number).
struct connecting {
  int attempt = 0;
};
/// A connection is established.
struct connected {};
/// The connection ended: lost (`reason` says why) or closed by `disconnect()`.
struct disconnected {
  error_info reason;
};
/// A reconnection attempt is scheduled after `delay` (the delay actually waited).
struct reconnecting {
  int attempt = 0;
  std::chrono::milliseconds delay{0};
};
/// Every reconnection attempt failed; the node is now `failed`.
struct reconnect_failed {
  int attempts = 0;
};
/// `spawn_session` succeeded.
struct session_spawned {
  neolith::session session;
};
/// `terminate_session` ended a session.
struct session_terminated {
  std::string session_id;
};
/// `restore_session` recreated a session.
struct session_restored {
  std::string session_id;
};
/// Something went wrong that no caller is waiting for (a garbage frame, a failed attempt...).
struct error {
  error_info error;
};
/// A message from the daemon that answers no request (`session_updated`, ...).
///
/// A well-formed message whose `type` this library does not know (a newer daemon's push)
/// is passed on too: `unknown` then holds the object as received and `message` holds no
/// meaning (a default value); `type_name()` gives the wire `type` either way.
struct message {
  neolith::message message;
  std::optional<boost::json::object> unknown;

  /// The message's wire `type` ("session_updated", "custom_push", ...).
  std::string_view type_name() const noexcept;
};

}  // namespace event

using node_event = std::variant<event::connecting, event::connected, event::disconnected, event::reconnecting,
                                event::reconnect_failed, event::session_spawned, event::session_terminated,
                                event::session_restored, event::error, event::message>;

/// The seed's name of an event: "connecting", "connected", "disconnected", "reconnecting",
/// "reconnect-failed", "session-spawned", "session-terminated", "session-restored", "error",
/// "message".
std::string_view event_name(const node_event& e) noexcept;

}  // namespace neolith

#endif  // NEOLITH_CLIENT_NODE_EVENTS_HPP
