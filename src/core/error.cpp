#include <neolith/core/error.hpp>

#include <array>
#include <ostream>
#include <utility>

namespace neolith {
namespace {

struct error_entry {
  error value;
  std::string_view name;
  std::string_view wire;
  const char* message;
};

// One row per error: its stable name, its wire code and its message. The order follows the
// enum, which the static_assert below checks.
constexpr std::array<error_entry, 42> entries{{
    {error::invalid_json, "invalid_json", "invalid_json", "the message is not valid JSON"},
    {error::nesting_too_deep, "nesting_too_deep", "invalid_json", "the JSON is nested too deeply"},
    {error::not_an_object, "not_an_object", "invalid_message", "the message is not a JSON object"},
    {error::missing_field, "missing_field", "invalid_message", "a required field is missing"},
    {error::wrong_field_type, "wrong_field_type", "invalid_message", "a field has the wrong type"},
    {error::invalid_enum_value, "invalid_enum_value", "invalid_message", "a field has a value outside its enumeration"},
    {error::invalid_date, "invalid_date", "invalid_message", "a date is not valid ISO-8601"},
    {error::number_out_of_range, "number_out_of_range", "invalid_message", "a number is out of range"},
    {error::unknown_type, "unknown_type", "unknown_type", "the message type is unknown"},
    {error::message_too_large, "message_too_large", "invalid_message", "the message exceeds the maximum message size"},
    {error::invalid_utf8, "invalid_utf8", "invalid_message", "the text is not valid UTF-8"},
    {error::invalid_message, "invalid_message", "invalid_message", "the message is invalid"},
    {error::unsupported_session_type, "unsupported_session_type", "unsupported_session_type", "the node does not support this session type"},
    {error::capacity_exceeded, "capacity_exceeded", "capacity_exceeded", "the node is at its maximum number of sessions"},
    {error::response_too_large, "response_too_large", "response_too_large", "the response would exceed the maximum message size"},
    {error::rate_limited, "rate_limited", "rate_limited", "the daemon is rate limiting requests"},
    {error::internal, "internal", "internal", "the daemon failed internally"},
    {error::remote_error, "remote_error", "internal", "the daemon answered with an unknown error code"},
    {error::timeout, "timeout", "internal", "the request timed out"},
    {error::cancelled, "cancelled", "internal", "the operation was cancelled"},
    {error::queue_full, "queue_full", "internal", "the request queue is full"},
    {error::not_connected, "not_connected", "internal", "the node is not connected"},
    {error::spawn_not_supported, "spawn_not_supported", "internal", "the node cannot spawn sessions"},
    {error::connect_failed, "connect_failed", "internal", "the connection attempt failed"},
    {error::connect_timeout, "connect_timeout", "internal", "the connection attempt timed out"},
    {error::connection_lost, "connection_lost", "internal", "the connection was lost"},
    {error::heartbeat_timeout, "heartbeat_timeout", "internal", "nothing was received from the peer within the heartbeat timeout"},
    {error::reconnect_failed, "reconnect_failed", "internal", "every reconnection attempt failed"},
    {error::unexpected_response, "unexpected_response", "internal", "the answer does not match the request"},
    {error::unauthorized, "unauthorized", "internal", "the daemon refused the credentials"},
    {error::invalid_endpoint, "invalid_endpoint", "internal", "the endpoint is not a usable ws:// or wss:// URL"},
    {error::shutting_down, "shutting_down", "internal", "shutting down"},
    {error::invalid_request, "invalid_request", "invalid_message", "the request is malformed"},
    {error::invalid_argument, "invalid_argument", "invalid_message", "invalid argument"},
    {error::session_not_found, "session_not_found", "internal", "no such session"},
    {error::tls_config, "tls_config", "internal", "the TLS configuration cannot be used"},
    {error::tls_handshake_failed, "tls_handshake_failed", "internal", "the TLS handshake failed"},
    {error::registry_unavailable, "registry_unavailable", "internal", "the location registry is unavailable"},
    {error::location_exists, "location_exists", "internal", "the session already has a location"},
    {error::location_conflict, "location_conflict", "internal", "the session's location changed (compare-and-set conflict)"},
    {error::registry_protocol, "registry_protocol", "internal", "the registry's store sent an invalid reply"},
    {error::invalid_options, "invalid_options", "internal", "the node options cannot be used"},
}};

constexpr bool entries_in_order() {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (static_cast<std::size_t>(entries[i].value) != i + 1) return false;
  }
  return true;
}

const error_entry* find(int value) noexcept {
  if (value < 1 || static_cast<std::size_t>(value) > entries.size()) return nullptr;
  return &entries[static_cast<std::size_t>(value) - 1];
}

class category final : public boost::system::error_category {
 public:
  constexpr category() noexcept : boost::system::error_category(0x6e656f6c69746831ULL) {}
  const char* name() const noexcept override { return "neolith"; }
  std::string message(int value) const override {
    const auto* e = find(value);
    return e ? e->message : "unknown neolith error";
  }
  // Generic code recognises ours: `cancelled` is the condition of Asio's operation_aborted
  // (errc::operation_canceled), `timeout` that of timed_out.
  boost::system::error_condition default_error_condition(int value) const noexcept override {
    namespace errc = boost::system::errc;
    if (value == static_cast<int>(error::cancelled)) return errc::make_error_condition(errc::operation_canceled);
    if (value == static_cast<int>(error::timeout)) return errc::make_error_condition(errc::timed_out);
    return boost::system::error_condition(value, *this);
  }
  char const* message(int value, char* buffer, std::size_t len) const noexcept override {
    const auto* e = find(value);
    if (e) return e->message;
    return boost::system::error_category::message(value, buffer, len);
  }
};

}  // namespace

static_assert(entries_in_order(), "error table must follow the enum's order");
static_assert(entries.size() == static_cast<std::size_t>(error::invalid_options),
              "every error needs a row");

const boost::system::error_category& error_category() noexcept {
  static constexpr category instance;
  return instance;
}

std::string_view to_string(error e) noexcept {
  const auto* entry = find(static_cast<int>(e));
  return entry ? entry->name : std::string_view("unknown");
}

std::optional<error> error_from_string(std::string_view name) noexcept {
  for (const auto& e : entries) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

std::string_view wire_code(error e) noexcept {
  const auto* entry = find(static_cast<int>(e));
  return entry ? entry->wire : std::string_view("internal");
}

error error_from_wire_code(std::string_view code) noexcept {
  static constexpr std::array<error, 8> remote{
      error::invalid_json,      error::invalid_message,    error::unknown_type,
      error::unsupported_session_type, error::capacity_exceeded, error::response_too_large,
      error::rate_limited,      error::internal};
  for (auto e : remote) {
    if (to_string(e) == code) return e;
  }
  return error::remote_error;
}

std::string error_code_name(const error_code& ec) {
  if (ec.category() == error_category()) return std::string(to_string(static_cast<error>(ec.value())));
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

std::string error_info::what() const {
  std::string out = message.empty() ? code.message() : message;
  out += " (";
  out += error_code_name(code);
  out += ')';
  return out;
}

std::string_view to_string(send_state s) noexcept {
  switch (s) {
    case send_state::never_sent: return "never_sent";
    case send_state::may_have_executed: return "may_have_executed";
    case send_state::unknown: break;
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, error e) { return os << to_string(e); }

std::ostream& operator<<(std::ostream& os, const error_info& e) { return os << e.what(); }

void outcome_throw_as_system_error_with_payload(const error_info& e) {
  throw boost::system::system_error(e.code, e.message);
}

}  // namespace neolith
