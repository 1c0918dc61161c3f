#include <neolith/client/node_events.hpp>

#include <array>

namespace neolith {

std::string_view to_string(connection_state s) noexcept {
  switch (s) {
    case connection_state::disconnected: return "disconnected";
    case connection_state::connecting: return "connecting";
    case connection_state::connected: return "connected";
    case connection_state::reconnecting: return "reconnecting";
    case connection_state::failed: return "failed";
  }
  return "unknown";
}

std::string_view event_name(const node_event& e) noexcept {
  static constexpr std::array<std::string_view, std::variant_size_v<node_event>> names{
      "connecting",       "connected",          "disconnected",     "reconnecting", "reconnect-failed",
      "session-spawned",  "session-terminated", "session-restored", "error",        "message"};
  return names[e.index()];
}

namespace event {

std::string_view message::type_name() const noexcept {
  if (unknown) {
    if (const auto it = unknown->find("type"); it != unknown->end()) {
      if (const auto* s = it->value().if_string()) return *s;
    }
    return {};
  }
  return to_string(type_of(message));
}

}  // namespace event

}  // namespace neolith
