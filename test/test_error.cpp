// neolith::error, its category, names, wire codes, error_info and result<T>.
#define BOOST_TEST_MODULE error
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "codec_print.hpp"

#include <neolith/core/error.hpp>

#include <boost/asio/error.hpp>

#include <set>
#include <string>

using neolith::error;
using neolith::error_info;
using neolith::result;

namespace {

constexpr int first_error = static_cast<int>(error::invalid_json);
constexpr int last_error = static_cast<int>(error::invalid_options);

neolith::result<int> parse_positive(int x) {
  if (x <= 0) return error_info(error::invalid_argument, "x must be positive");
  return x;
}

// A normal (non-coroutine) function using BOOST_OUTCOME_TRY.
neolith::result<int> twice_positive(int x) {
  BOOST_OUTCOME_TRY(auto v, parse_positive(x));
  return v * 2;
}

neolith::result<void> check_positive(int x) {
  BOOST_OUTCOME_TRY(parse_positive(x));
  return neolith::outcome::success();
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_error_has_a_distinct_name_and_message) {
  std::set<std::string> names;
  std::set<std::string> messages;
  for (int v = first_error; v <= last_error; ++v) {
    const auto e = static_cast<error>(v);
    const std::string name(neolith::to_string(e));
    const std::string message = neolith::make_error_code(e).message();
    BOOST_TEST_CONTEXT("error value " << v) {
      BOOST_TEST(!name.empty());
      BOOST_TEST(name != "unknown");
      BOOST_TEST(!message.empty());
      BOOST_TEST(message != "unknown neolith error");
      BOOST_TEST(names.insert(name).second, "duplicate name " << name);
      BOOST_TEST(messages.insert(message).second, "duplicate message " << message);
    }
  }
  BOOST_TEST(names.size() == static_cast<std::size_t>(last_error - first_error + 1));
}

BOOST_AUTO_TEST_CASE(unknown_values_have_fallbacks) {
  BOOST_TEST(neolith::to_string(static_cast<error>(0)) == "unknown");
  BOOST_TEST(neolith::to_string(static_cast<error>(last_error + 1)) == "unknown");
  BOOST_TEST(neolith::wire_code(static_cast<error>(last_error + 1)) == "internal");
  BOOST_TEST(neolith::make_error_code(static_cast<error>(9999)).message() == "unknown neolith error");
  BOOST_TEST(!neolith::error_from_string("no_such_error").has_value());
  BOOST_TEST(!neolith::error_from_string("").has_value());
}

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (int v = first_error; v <= last_error; ++v) {
    const auto e = static_cast<error>(v);
    const auto back = neolith::error_from_string(neolith::to_string(e));
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(static_cast<int>(*back) == v);
  }
  BOOST_TEST(neolith::to_string(error::queue_full) == "queue_full");
  BOOST_TEST(neolith::to_string(error::nesting_too_deep) == "nesting_too_deep");
  // The TLS errors came last (values are stable: new ones are appended).
  BOOST_TEST(neolith::to_string(error::tls_config) == "tls_config");
  BOOST_TEST(neolith::to_string(error::tls_handshake_failed) == "tls_handshake_failed");
  BOOST_TEST(static_cast<int>(error::tls_config) == static_cast<int>(error::session_not_found) + 1);
  BOOST_TEST(neolith::wire_code(error::tls_config) == "internal");
  BOOST_TEST(neolith::wire_code(error::tls_handshake_failed) == "internal");
  // The registry's errors were appended after them.
  BOOST_TEST(static_cast<int>(error::registry_unavailable) == static_cast<int>(error::tls_handshake_failed) + 1);
  BOOST_TEST(neolith::to_string(error::registry_unavailable) == "registry_unavailable");
  BOOST_TEST(neolith::to_string(error::location_exists) == "location_exists");
  BOOST_TEST(neolith::to_string(error::location_conflict) == "location_conflict");
  BOOST_TEST(neolith::to_string(error::registry_protocol) == "registry_protocol");
}

BOOST_AUTO_TEST_CASE(category_and_error_code) {
  const neolith::error_code ec = error::timeout;
  BOOST_TEST(std::string(ec.category().name()) == "neolith");
  BOOST_TEST(ec.value() == static_cast<int>(error::timeout));
  BOOST_TEST(ec == error::timeout);
  BOOST_TEST(ec != error::cancelled);
  BOOST_TEST(static_cast<bool>(ec));
  BOOST_TEST(neolith::error_code_name(ec) == "timeout");
  const neolith::error_code sys(111, boost::system::system_category());
  BOOST_TEST(neolith::error_code_name(sys) == "system:111");
}

BOOST_AUTO_TEST_CASE(wire_codes) {
  using neolith::wire_code;
  BOOST_TEST(wire_code(error::invalid_json) == "invalid_json");
  BOOST_TEST(wire_code(error::nesting_too_deep) == "invalid_json");
  BOOST_TEST(wire_code(error::not_an_object) == "invalid_message");
  BOOST_TEST(wire_code(error::missing_field) == "invalid_message");
  BOOST_TEST(wire_code(error::wrong_field_type) == "invalid_message");
  BOOST_TEST(wire_code(error::invalid_enum_value) == "invalid_message");
  BOOST_TEST(wire_code(error::invalid_date) == "invalid_message");
  BOOST_TEST(wire_code(error::number_out_of_range) == "invalid_message");
  BOOST_TEST(wire_code(error::unknown_type) == "unknown_type");
  BOOST_TEST(wire_code(error::invalid_message) == "invalid_message");
  BOOST_TEST(wire_code(error::unsupported_session_type) == "unsupported_session_type");
  BOOST_TEST(wire_code(error::capacity_exceeded) == "capacity_exceeded");
  BOOST_TEST(wire_code(error::response_too_large) == "response_too_large");
  BOOST_TEST(wire_code(error::rate_limited) == "rate_limited");
  BOOST_TEST(wire_code(error::internal) == "internal");
  BOOST_TEST(wire_code(error::timeout) == "internal");
  // Every value maps to one of the eight protocol codes.
  const std::set<std::string_view> codes{"invalid_json", "invalid_message", "unknown_type",
                                         "unsupported_session_type", "capacity_exceeded",
                                         "response_too_large", "rate_limited", "internal"};
  for (int v = first_error; v <= last_error; ++v) {
    BOOST_TEST(codes.count(wire_code(static_cast<error>(v))) == 1u, "value " << v);
  }
}

BOOST_AUTO_TEST_CASE(from_wire_codes) {
  using neolith::error_from_wire_code;
  BOOST_TEST(error_from_wire_code("invalid_json") == error::invalid_json);
  BOOST_TEST(error_from_wire_code("invalid_message") == error::invalid_message);
  BOOST_TEST(error_from_wire_code("unknown_type") == error::unknown_type);
  BOOST_TEST(error_from_wire_code("unsupported_session_type") == error::unsupported_session_type);
  BOOST_TEST(error_from_wire_code("capacity_exceeded") == error::capacity_exceeded);
  BOOST_TEST(error_from_wire_code("response_too_large") == error::response_too_large);
  BOOST_TEST(error_from_wire_code("rate_limited") == error::rate_limited);
  BOOST_TEST(error_from_wire_code("internal") == error::internal);
  BOOST_TEST(error_from_wire_code("no_such_code") == error::remote_error);
  BOOST_TEST(error_from_wire_code("") == error::remote_error);
  // Names that are not wire codes are not accepted as codes.
  BOOST_TEST(error_from_wire_code("timeout") == error::remote_error);
  BOOST_TEST(error_from_wire_code("missing_field") == error::remote_error);
}

BOOST_AUTO_TEST_CASE(error_info_what) {
  const error_info with_message(error::missing_field, "task.id: required field is missing");
  BOOST_TEST(with_message.what() == "task.id: required field is missing (missing_field)");
  const error_info without_message(error::queue_full);
  BOOST_TEST(without_message.what() == "the request queue is full (queue_full)");
  BOOST_TEST(with_message == error::missing_field);
  BOOST_TEST(!(with_message == error::queue_full));
  BOOST_TEST(with_message == neolith::error_code(error::missing_field));
  // Equality compares the codes only.
  BOOST_TEST(with_message == error_info(error::missing_field, "other"));
}

BOOST_AUTO_TEST_CASE(result_value_throws_system_error_with_code_and_message) {
  const result<int> r = error_info(error::capacity_exceeded, "node n1 is full");
  BOOST_TEST(!r.has_value());
  bool thrown = false;
  try {
    (void)r.value();
  } catch (const boost::system::system_error& e) {
    thrown = true;
    BOOST_TEST(e.code() == error::capacity_exceeded);
    BOOST_TEST(std::string(e.what()).find("node n1 is full") != std::string::npos);
  }
  BOOST_TEST(thrown);
  const result<int> ok = 42;
  BOOST_TEST(ok.value() == 42);
}

BOOST_AUTO_TEST_CASE(outcome_try_in_a_normal_function) {
  const auto good = twice_positive(21);
  BOOST_TEST_REQUIRE(good.has_value());
  BOOST_TEST(good.value() == 42);
  const auto bad = twice_positive(-1);
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error() == error::invalid_argument);
  BOOST_TEST(bad.error().message == "x must be positive");
  BOOST_TEST(check_positive(3).has_value());
  BOOST_TEST(check_positive(0).error() == error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(invalid_options_was_appended) {
  // Values are stable: new errors come after the registry's.
  BOOST_TEST(static_cast<int>(error::invalid_options) == static_cast<int>(error::registry_protocol) + 1);
  BOOST_TEST(neolith::to_string(error::invalid_options) == "invalid_options");
  BOOST_TEST(neolith::wire_code(error::invalid_options) == "internal");
}

BOOST_AUTO_TEST_CASE(cancelled_is_recognised_as_asio_s_operation_aborted) {
  namespace errc = boost::system::errc;
  const neolith::error_code ours = error::cancelled;
  const neolith::error_code asios = boost::asio::error::operation_aborted;
  // Generic code tests a cancellation by its condition: true for Asio's and for ours.
  BOOST_TEST((asios == errc::operation_canceled));
  BOOST_TEST((ours == errc::operation_canceled));
  BOOST_TEST((ours.default_error_condition() == asios.default_error_condition()));
  BOOST_TEST((errc::make_error_condition(errc::operation_canceled) == ours));
  // The way generic code writes it against Asio's enum, through the condition.
  const auto aborted = neolith::error_code(boost::asio::error::operation_aborted).default_error_condition();
  BOOST_TEST((ours == aborted));
  BOOST_TEST((ours != neolith::error_code(error::timeout)));
  // timeout is errc::timed_out; the others keep their own conditions.
  BOOST_TEST((neolith::error_code(error::timeout) == errc::timed_out));
  BOOST_TEST((neolith::error_code(error::queue_full) != errc::operation_canceled));
  BOOST_TEST((neolith::error_code(error::queue_full).default_error_condition().category() == neolith::error_category()));
  // An error_info compares through its code.
  const error_info info(error::cancelled, "the request was cancelled");
  BOOST_TEST((info.code == errc::operation_canceled));
}

BOOST_AUTO_TEST_CASE(send_state_names) {
  BOOST_TEST(neolith::to_string(neolith::send_state::unknown) == "unknown");
  BOOST_TEST(neolith::to_string(neolith::send_state::never_sent) == "never_sent");
  BOOST_TEST(neolith::to_string(neolith::send_state::may_have_executed) == "may_have_executed");
  BOOST_TEST((error_info(error::timeout).sent == neolith::send_state::unknown));
}
