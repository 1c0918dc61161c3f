#include <neolith/cluster/circuit_breaker.hpp>

namespace neolith {

bool counts_as_node_failure(const error_info& e) noexcept {
  if (e.code.category() != error_category()) return true;  // a system error from below
  switch (static_cast<error>(e.code.value())) {
    case error::timeout:
    case error::not_connected:
    case error::connect_failed:
    case error::connect_timeout:
    case error::connection_lost:
    case error::heartbeat_timeout:
    case error::reconnect_failed:
    case error::rate_limited:
    case error::internal:
    case error::remote_error:
    case error::unexpected_response:
    case error::queue_full:
    case error::invalid_json:
    case error::nesting_too_deep:
    case error::not_an_object:
    case error::missing_field:
    case error::wrong_field_type:
    case error::invalid_enum_value:
    case error::invalid_date:
    case error::number_out_of_range:
    case error::unknown_type:
    case error::invalid_utf8:
      return true;
    default:
      return false;
  }
}

}  // namespace neolith
