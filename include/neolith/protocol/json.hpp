// JSON conversions of the wire types (Boost.JSON), both ways, never throwing out of our API.
//
//  - `boost::json::value_from(x)` works for every type of types.hpp (tag_invoke overloads);
//    it writes the protocol's camelCase names, omits absent optional fields, writes dates as
//    JavaScript does and integral numbers as JSON integers.
//  - `neolith::from_json<T>(v)` converts back without throwing: a `result<T>` whose error names
//    the offending field path (e.g. "task.createdAt: invalid ISO-8601 date").
//  - `boost::json::try_value_to<T>(v)` works too (it returns a boost::system::result), and so
//    does `value_to<T>`, which throws `system_error` as Boost.JSON does.
#ifndef NEOLITH_PROTOCOL_JSON_HPP
#define NEOLITH_PROTOCOL_JSON_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace neolith {

/// Formats `t` as JavaScript's `Date.prototype.toISOString()`: "2026-11-29T08:47:57.123Z".
/// Years outside 0000-9999 use the expanded "+YYYYYY"/"-YYYYYY" form, as JavaScript does.
std::string format_timestamp(timestamp t);

/// Parses an ISO-8601 date-time: "YYYY-MM-DDTHH:MM[:SS[.fraction]]" followed by "Z" or an
/// offset "+HH:MM"/"-HH:MM"/"+HHMM"/"+HH"; a space may stand for "T"; the fraction may have any
/// number of digits (kept to milliseconds, truncated); a date alone ("YYYY-MM-DD") is
/// midnight UTC. Fails with `error::invalid_date`.
result<timestamp> parse_timestamp(std::string_view text);

/// A JSON number for `d`: an integer when `d` is integral and fits in int64 (Boost.JSON 1.81
/// would write 12.0 as "1.2E1"), a double otherwise. Non-finite values become 0
/// (JSON has no NaN/Infinity).
boost::json::value number_to_json(double d) noexcept;

/// Non-throwing conversions from JSON, for every type of types.hpp.
template <class T>
result<T> from_json(const boost::json::value& v);

#define NEOLITH_JSON_CONVERSIONS(T)                                                            \
  void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const T& x);        \
  boost::system::result<T> tag_invoke(boost::json::try_value_to_tag<T>, const boost::json::value& v); \
  extern template result<T> from_json<T>(const boost::json::value& v);

NEOLITH_JSON_CONVERSIONS(node_health)
NEOLITH_JSON_CONVERSIONS(node_capabilities)
NEOLITH_JSON_CONVERSIONS(task)
NEOLITH_JSON_CONVERSIONS(memory_entry)
NEOLITH_JSON_CONVERSIONS(memory_context)
NEOLITH_JSON_CONVERSIONS(session_metrics)
NEOLITH_JSON_CONVERSIONS(session)
NEOLITH_JSON_CONVERSIONS(session_spawn_request)
NEOLITH_JSON_CONVERSIONS(serialization_metadata)
NEOLITH_JSON_CONVERSIONS(serialized_session)

#undef NEOLITH_JSON_CONVERSIONS

}  // namespace neolith

#endif  // NEOLITH_PROTOCOL_JSON_HPP
