// Private helpers of the JSON codec (json.cpp, protocol.cpp): non-throwing readers of JSON
// values into the wire types, whose errors name the offending field path.
//
// Error messages are built bottom-up: a leaf error's message starts with ": " (no path yet),
// a field adds its name in front ("createdAt: ..."), an enclosing field adds "task." and an
// array element "[3]". `finish_path()` removes a leading ": " at the top of the API.
#ifndef NEOLITH_PROTOCOL_DETAIL_JSON_READ_HPP
#define NEOLITH_PROTOCOL_DETAIL_JSON_READ_HPP

#include <neolith/core/error.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace neolith::detail {

using json_value = boost::json::value;
using json_object = boost::json::object;

/// The JSON type name of `v` for messages ("string", "number", "object", ...).
std::string_view json_kind(const json_value& v) noexcept;

/// A leaf error: message ": <detail>".
error_info leaf_error(error e, std::string_view detail);
/// ": expected <what>, got <kind of v>" (wrong_field_type).
error_info type_error(std::string_view what, const json_value& v);
/// Adds a field name in front of the error's path.
error_info with_path(error_info e, std::string_view field);
/// Adds an array index in front of the error's path.
error_info with_index(error_info e, std::size_t index);
/// Removes the leading ": " of an error without a path.
error_info finish_path(error_info e);
/// `s` quoted for a message, shortened to a reasonable length.
std::string quoted(std::string_view s);

/// A deep copy of `v` into `sp`, with non-finite numbers (Boost.JSON reads 1e999 as infinity)
/// written as null, as JavaScript's JSON.stringify does: the copy always serializes to JSON.
json_value copy_json(const json_value& v, boost::json::storage_ptr sp);
json_object copy_object(const json_object& from, boost::json::storage_ptr sp);

/// The field `key` of `o`, or nullptr when absent or `null` (readers treat null as absent).
inline const json_value* find_field(const json_object& o, std::string_view key) noexcept {
  const json_value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

// ----- Readers: one overload per C++ type of the wire types. ---------------------------
result<void> read(const json_value& v, std::string& out);
result<void> read(const json_value& v, bool& out);
result<void> read(const json_value& v, double& out);
result<void> read(const json_value& v, std::int64_t& out);
result<void> read(const json_value& v, int& out);
result<void> read(const json_value& v, timestamp& out);
result<void> read(const json_value& v, json_object& out);  ///< copied into the default storage
result<void> read(const json_value& v, std::map<std::string, bool>& out);
result<void> read(const json_value& v, node_status& out);
result<void> read(const json_value& v, session_type& out);
result<void> read(const json_value& v, task_type& out);
result<void> read(const json_value& v, task_priority& out);
result<void> read(const json_value& v, task_status& out);
result<void> read(const json_value& v, memory_entry_type& out);
result<void> read(const json_value& v, session_status& out);
result<void> read(const json_value& v, node_health& out);
result<void> read(const json_value& v, node_capabilities& out);
result<void> read(const json_value& v, task& out);
result<void> read(const json_value& v, memory_entry& out);
result<void> read(const json_value& v, memory_context& out);
result<void> read(const json_value& v, session_metrics& out);
result<void> read(const json_value& v, session& out);
result<void> read(const json_value& v, session_spawn_request& out);
result<void> read(const json_value& v, serialization_metadata& out);
result<void> read(const json_value& v, serialized_session& out);

/// A date given as a number of milliseconds since the epoch (integral, within JavaScript's
/// Date range of +-8.64e15 ms) or as an ISO-8601 string.
result<void> read_date_or_millis(const json_value& v, timestamp& out);

/// The double that the JSON number `text` denotes, correctly rounded (std::from_chars; Boost
/// 1.81's own reading can be one unit in the last place off). False, `out` unchanged, when
/// `text` is not entirely a number or is out of range (1e999, 1e-999).
bool read_double_exact(std::string_view text, double& out) noexcept;

template <class T>
result<void> read(const json_value& v, std::vector<T>& out) {
  const boost::json::array* a = v.if_array();
  if (a == nullptr) return type_error("an array", v);
  out.clear();
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    auto r = read((*a)[i], out.emplace_back());
    if (!r) return with_index(std::move(r).error(), i);
  }
  return outcome::success();
}

/// Reads the required field `key` of `o`; missing (or null): error::missing_field.
template <class T>
result<void> read_required(const json_object& o, std::string_view key, T& out) {
  const json_value* v = find_field(o, key);
  if (v == nullptr) {
    std::string msg(key);
    msg += ": required field is missing";
    return error_info(error::missing_field, std::move(msg));
  }
  auto r = read(*v, out);
  if (!r) return with_path(std::move(r).error(), key);
  return outcome::success();
}

/// Reads the optional field `key` of `o` (absent or null: nullopt).
template <class T>
result<void> read_optional(const json_object& o, std::string_view key, std::optional<T>& out) {
  const json_value* v = find_field(o, key);
  if (v == nullptr) {
    out.reset();
    return outcome::success();
  }
  auto r = read(*v, out.emplace());
  if (!r) {
    out.reset();
    return with_path(std::move(r).error(), key);
  }
  return outcome::success();
}

/// The object of `v`, or a wrong_field_type error.
inline result<const json_object*> as_object(const json_value& v) {
  const json_object* o = v.if_object();
  if (o == nullptr) return type_error("an object", v);
  return o;
}

/// Formats `t` into `buf` (at least `timestamp_buffer_size` chars); returns the length.
inline constexpr std::size_t timestamp_buffer_size = 48;
std::size_t format_timestamp_to(char* buf, timestamp t) noexcept;

}  // namespace neolith::detail

#endif  // NEOLITH_PROTOCOL_DETAIL_JSON_READ_HPP
