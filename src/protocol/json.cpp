// JSON conversions of the wire types (json.hpp) and the codec's readers (detail/json_read.hpp).
#include <neolith/protocol/detail/json_read.hpp>
#include <neolith/protocol/detail/json_write.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

namespace neolith {

// ===== Numbers ===========================================================================

boost::json::value number_to_json(double d) noexcept {
  if (!std::isfinite(d)) return std::int64_t{0};
  // [-2^63, 2^63): the doubles that convert to int64 exactly when integral.
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d) {
    return static_cast<std::int64_t>(d);
  }
  return d;
}

namespace detail {

// ===== Errors with paths =================================================================

std::string_view json_kind(const json_value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

error_info leaf_error(error e, std::string_view detail) {
  std::string msg;
  msg.reserve(detail.size() + 2);
  msg += ": ";
  msg += detail;
  return error_info(e, std::move(msg));
}

error_info type_error(std::string_view what, const json_value& v) {
  std::string detail = "expected ";
  detail += what;
  detail += ", got ";
  detail += json_kind(v);
  return leaf_error(error::wrong_field_type, detail);
}

namespace {
bool starts_without_name(const std::string& m) noexcept {
  return !m.empty() && (m.front() == ':' || m.front() == '[');
}
}  // namespace

error_info with_path(error_info e, std::string_view field) {
  std::string msg(field);
  if (!starts_without_name(e.message)) msg += '.';
  msg += e.message;
  e.message = std::move(msg);
  return e;
}

error_info with_index(error_info e, std::size_t index) {
  std::string msg = "[" + std::to_string(index) + "]";
  if (!starts_without_name(e.message)) msg += '.';
  msg += e.message;
  e.message = std::move(msg);
  return e;
}

error_info finish_path(error_info e) {
  if (e.message.size() >= 2 && e.message[0] == ':' && e.message[1] == ' ') e.message.erase(0, 2);
  return e;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t max_shown = 64;
  std::string out = "\"";
  if (s.size() <= max_shown) {
    out += s;
    out += '"';
  } else {
    // Cut on a UTF-8 character boundary.
    std::size_t n = max_shown;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    out += s.substr(0, n);
    out += "\"...";
  }
  return out;
}

// ===== Scalar readers ====================================================================

result<void> read(const json_value& v, std::string& out) {
  const boost::json::string* s = v.if_string();
  if (s == nullptr) return type_error("a string", v);
  out.assign(s->data(), s->size());
  return outcome::success();
}

result<void> read(const json_value& v, bool& out) {
  const bool* b = v.if_bool();
  if (b == nullptr) return type_error("a boolean", v);
  out = *b;
  return outcome::success();
}

namespace {

// Clinger's fast path: a decimal of at most 15 significant digits and at most 22 decimals,
// without exponent, is exactly mantissa / 10^decimals, both exact doubles, and IEEE division
// rounds correctly: the very double from_chars gives, in a few instructions (the figures of
// our messages: 12.34, 0.5, 1.234). Anything else returns false.
bool read_short_decimal(std::string_view text, double& out) noexcept {
  static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool neg = p != end && *p == '-';
  if (neg) ++p;
  std::uint64_t mant = 0;
  int digits = 0, decimals = 0;
  bool dot = false, any = false;
  for (; p != end; ++p) {
    const char c = *p;
    if (c >= '0' && c <= '9') {
      mant = mant * 10 + static_cast<std::uint64_t>(c - '0');
      any = true;
      if (mant != 0) ++digits;  // leading zeros are not significant
      if (dot) ++decimals;
      if (digits > 15 || decimals > 22) return false;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;  // an exponent, or not a number: the general reading
    }
  }
  if (!any) return false;
  const double v = static_cast<double>(mant) / pow10[decimals];
  out = neg ? -v : v;
  return true;
}

}  // namespace

bool read_double_exact(std::string_view text, double& out) noexcept {
  if (read_short_decimal(text, out)) return true;
  double exact = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), exact, std::chars_format::general);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return false;
  out = exact;
  return true;
}

result<void> read(const json_value& v, double& out) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      // 1e999 parses as infinity, which no JSON writer can write back.
      if (!std::isfinite(v.get_double())) return leaf_error(error::number_out_of_range, "the number is too large");
      out = v.get_double();
      return outcome::success();
    case boost::json::kind::int64: out = static_cast<double>(v.get_int64()); return outcome::success();
    case boost::json::kind::uint64: out = static_cast<double>(v.get_uint64()); return outcome::success();
    default: return type_error("a number", v);
  }
}

namespace {
template <class Int>
result<void> read_integer(const json_value& v, Int& out) {
  constexpr auto lo = static_cast<std::int64_t>(std::numeric_limits<Int>::min());
  constexpr auto hi = static_cast<std::int64_t>(std::numeric_limits<Int>::max());
  std::int64_t x = 0;
  switch (v.kind()) {
    case boost::json::kind::int64: x = v.get_int64(); break;
    case boost::json::kind::uint64:
      if (v.get_uint64() > static_cast<std::uint64_t>(hi)) {
        return leaf_error(error::number_out_of_range, std::to_string(v.get_uint64()) + " is too large");
      }
      x = static_cast<std::int64_t>(v.get_uint64());
      break;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || std::trunc(d) != d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", d);
        return leaf_error(error::number_out_of_range, std::string("expected an integer, got ") + buf);
      }
      x = static_cast<std::int64_t>(d);
      break;
    }
    default: return type_error("an integer", v);
  }
  if (x < lo || x > hi) return leaf_error(error::number_out_of_range, std::to_string(x) + " is out of range");
  out = static_cast<Int>(x);
  return outcome::success();
}
}  // namespace

result<void> read(const json_value& v, std::int64_t& out) { return read_integer(v, out); }
result<void> read(const json_value& v, int& out) { return read_integer(v, out); }

json_value copy_json(const json_value& v, boost::json::storage_ptr sp) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      // Boost.JSON reads 1e999 as infinity but would write it as `Infinity`, which is not
      // JSON; JavaScript's JSON.stringify writes non-finite numbers as null, and so do we.
      if (!std::isfinite(v.get_double())) return json_value(nullptr, std::move(sp));
      return json_value(v.get_double(), std::move(sp));
    case boost::json::kind::array: {
      const boost::json::array& from = v.get_array();
      json_value out(boost::json::array_kind, std::move(sp));
      boost::json::array& to = out.get_array();
      to.reserve(from.size());
      for (const auto& e : from) to.push_back(copy_json(e, to.storage()));
      return out;
    }
    case boost::json::kind::object: return json_value(copy_object(v.get_object(), std::move(sp)));
    default: return json_value(v, std::move(sp));
  }
}

json_object copy_object(const json_object& from, boost::json::storage_ptr sp) {
  json_object to(std::move(sp));
  to.reserve(from.size());
  for (const auto& kv : from) to.emplace(kv.key(), copy_json(kv.value(), to.storage()));
  return to;
}

result<void> read(const json_value& v, json_object& out) {
  const json_object* o = v.if_object();
  if (o == nullptr) return type_error("an object", v);
  // Copy into the default storage: `v` may live in a decoder's short-lived arena.
  out = copy_object(*o, boost::json::storage_ptr());
  return outcome::success();
}

result<void> read(const json_value& v, std::map<std::string, bool>& out) {
  const json_object* o = v.if_object();
  if (o == nullptr) return type_error("an object", v);
  out.clear();
  for (const auto& kv : *o) {
    const bool* b = kv.value().if_bool();
    if (b == nullptr) return with_path(type_error("a boolean", kv.value()), kv.key());
    out.insert_or_assign(std::string(kv.key()), *b);
  }
  return outcome::success();
}

// ===== Enumerations ======================================================================

namespace {
template <class E, class Parse>
result<void> read_enum(const json_value& v, E& out, Parse parse, std::string_view allowed) {
  const boost::json::string* s = v.if_string();
  if (s == nullptr) return type_error("a string", v);
  const auto e = parse(std::string_view(*s));
  if (!e) return leaf_error(error::invalid_enum_value, quoted(*s) + " is not one of " + std::string(allowed));
  out = *e;
  return outcome::success();
}
}  // namespace

result<void> read(const json_value& v, node_status& out) {
  return read_enum(v, out, parse_node_status, "healthy, degraded, unhealthy, offline");
}
result<void> read(const json_value& v, session_type& out) {
  return read_enum(v, out, parse_session_type, "claude-code, claude-flow, ruflo");
}
result<void> read(const json_value& v, task_type& out) {
  return read_enum(v, out, parse_task_type, "code, research, analysis, custom, general");
}
result<void> read(const json_value& v, task_priority& out) {
  return read_enum(v, out, parse_task_priority, "low, medium, high, critical");
}
result<void> read(const json_value& v, task_status& out) {
  return read_enum(v, out, parse_task_status, "pending, in_progress, completed, failed, cancelled");
}
result<void> read(const json_value& v, memory_entry_type& out) {
  return read_enum(v, out, parse_memory_entry_type, "interaction, observation, decision, knowledge");
}
result<void> read(const json_value& v, session_status& out) {
  return read_enum(v, out, parse_session_status,
                   "initializing, running, paused, completed, failed, terminated");
}

// ===== Structures ========================================================================

result<void> read(const json_value& v, node_health& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "status", out.status));
  BOOST_OUTCOME_TRY(read_required(*o, "cpuUsage", out.cpu_usage));
  BOOST_OUTCOME_TRY(read_required(*o, "memoryUsage", out.memory_usage));
  BOOST_OUTCOME_TRY(read_required(*o, "activeSessions", out.active_sessions));
  BOOST_OUTCOME_TRY(read_required(*o, "responseTime", out.response_time));
  BOOST_OUTCOME_TRY(read_required(*o, "lastHeartbeat", out.last_heartbeat));
  BOOST_OUTCOME_TRY(read_required(*o, "uptime", out.uptime));
  return outcome::success();
}

result<void> read(const json_value& v, node_capabilities& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "canSpawnSessions", out.can_spawn_sessions));
  BOOST_OUTCOME_TRY(read_required(*o, "maxConcurrentSessions", out.max_concurrent_sessions));
  BOOST_OUTCOME_TRY(read_required(*o, "supportedSessionTypes", out.supported_session_types));
  BOOST_OUTCOME_TRY(read_required(*o, "hasGPUAccess", out.has_gpu_access));
  BOOST_OUTCOME_TRY(read_required(*o, "hasHighMemory", out.has_high_memory));
  BOOST_OUTCOME_TRY(read_optional(*o, "customCapabilities", out.custom_capabilities));
  return outcome::success();
}

result<void> read(const json_value& v, task& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "id", out.id));
  BOOST_OUTCOME_TRY(read_required(*o, "type", out.type));
  BOOST_OUTCOME_TRY(read_required(*o, "description", out.description));
  BOOST_OUTCOME_TRY(read_required(*o, "priority", out.priority));
  BOOST_OUTCOME_TRY(read_optional(*o, "assignedTo", out.assigned_to));
  BOOST_OUTCOME_TRY(read_required(*o, "status", out.status));
  BOOST_OUTCOME_TRY(read_required(*o, "createdAt", out.created_at));
  BOOST_OUTCOME_TRY(read_required(*o, "updatedAt", out.updated_at));
  BOOST_OUTCOME_TRY(read_optional(*o, "metadata", out.metadata));
  return outcome::success();
}

result<void> read(const json_value& v, memory_entry& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "id", out.id));
  BOOST_OUTCOME_TRY(read_required(*o, "content", out.content));
  BOOST_OUTCOME_TRY(read_required(*o, "timestamp", out.time));
  BOOST_OUTCOME_TRY(read_required(*o, "type", out.type));
  BOOST_OUTCOME_TRY(read_optional(*o, "metadata", out.metadata));
  return outcome::success();
}

result<void> read(const json_value& v, memory_context& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "scratchpad", out.scratchpad));
  BOOST_OUTCOME_TRY(read_required(*o, "episodic", out.episodic));
  BOOST_OUTCOME_TRY(read_required(*o, "semantic", out.semantic));
  return outcome::success();
}

result<void> read(const json_value& v, session_metrics& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "tokensUsed", out.tokens_used));
  BOOST_OUTCOME_TRY(read_required(*o, "duration", out.duration));
  BOOST_OUTCOME_TRY(read_required(*o, "tasksCompleted", out.tasks_completed));
  BOOST_OUTCOME_TRY(read_required(*o, "errorsEncountered", out.errors_encountered));
  BOOST_OUTCOME_TRY(read_required(*o, "averageResponseTime", out.average_response_time));
  return outcome::success();
}

result<void> read(const json_value& v, session& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "id", out.id));
  BOOST_OUTCOME_TRY(read_required(*o, "orchestratorId", out.orchestrator_id));
  BOOST_OUTCOME_TRY(read_required(*o, "task", out.task));
  BOOST_OUTCOME_TRY(read_required(*o, "type", out.type));
  BOOST_OUTCOME_TRY(read_required(*o, "status", out.status));
  BOOST_OUTCOME_TRY(read_required(*o, "startedAt", out.started_at));
  BOOST_OUTCOME_TRY(read_optional(*o, "endedAt", out.ended_at));
  BOOST_OUTCOME_TRY(read_required(*o, "memoryContext", out.memory));
  BOOST_OUTCOME_TRY(read_required(*o, "metrics", out.metrics));
  return outcome::success();
}

result<void> read(const json_value& v, session_spawn_request& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "orchestratorId", out.orchestrator_id));
  BOOST_OUTCOME_TRY(read_required(*o, "task", out.task));
  BOOST_OUTCOME_TRY(read_required(*o, "sessionType", out.type));
  BOOST_OUTCOME_TRY(read_optional(*o, "memoryProfile", out.memory_profile));
  BOOST_OUTCOME_TRY(read_optional(*o, "priority", out.priority));
  return outcome::success();
}

result<void> read(const json_value& v, serialization_metadata& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "serializedAt", out.serialized_at));
  BOOST_OUTCOME_TRY(read_required(*o, "nodeId", out.node_id));
  BOOST_OUTCOME_TRY(read_required(*o, "version", out.version));
  return outcome::success();
}

result<void> read(const json_value& v, serialized_session& out) {
  BOOST_OUTCOME_TRY(auto o, as_object(v));
  BOOST_OUTCOME_TRY(read_required(*o, "session", out.session));
  BOOST_OUTCOME_TRY(read_required(*o, "memorySnapshot", out.memory_snapshot));
  BOOST_OUTCOME_TRY(read_required(*o, "metadata", out.metadata));
  return outcome::success();
}

}  // namespace detail

// ===== Writers ===========================================================================
// One description of each type's JSON: the codec writes it as text (detail::json_writer),
// and value_from reads that text back into a value (off the hot path).

namespace detail {

void write_json(json_writer& w, const node_health& x) {
  w.begin_object();
  w.member("status", to_string(x.status));
  w.member("cpuUsage", x.cpu_usage);
  w.member("memoryUsage", x.memory_usage);
  w.member("activeSessions", x.active_sessions);
  w.member("responseTime", x.response_time);
  w.member("lastHeartbeat", x.last_heartbeat);
  w.member("uptime", x.uptime);
  w.end_object();
}

void write_json(json_writer& w, const node_capabilities& x) {
  w.begin_object();
  w.member("canSpawnSessions", x.can_spawn_sessions);
  w.member("maxConcurrentSessions", x.max_concurrent_sessions);
  w.key("supportedSessionTypes");
  w.begin_array();
  for (auto t : x.supported_session_types) w.string(to_string(t));
  w.end_array();
  w.member("hasGPUAccess", x.has_gpu_access);
  w.member("hasHighMemory", x.has_high_memory);
  if (x.custom_capabilities) {
    w.key("customCapabilities");
    w.begin_object();
    for (const auto& [name, value] : *x.custom_capabilities) {
      w.escaped_key(name);
      w.boolean(value);
    }
    w.end_object();
  }
  w.end_object();
}

void write_json(json_writer& w, const task& x) {
  w.begin_object();
  w.member("id", x.id);
  w.member("type", to_string(x.type));
  w.member("description", x.description);
  w.member("priority", to_string(x.priority));
  if (x.assigned_to) w.member("assignedTo", *x.assigned_to);
  w.member("status", to_string(x.status));
  w.member("createdAt", x.created_at);
  w.member("updatedAt", x.updated_at);
  if (x.metadata) w.member("metadata", *x.metadata);
  w.end_object();
}

void write_json(json_writer& w, const memory_entry& x) {
  w.begin_object();
  w.member("id", x.id);
  w.member("content", x.content);
  w.member("timestamp", x.time);
  w.member("type", to_string(x.type));
  if (x.metadata) w.member("metadata", *x.metadata);
  w.end_object();
}

namespace {
void write_entries(json_writer& w, json_key k, const std::vector<memory_entry>& xs) {
  w.key(k);
  w.begin_array();
  for (const auto& x : xs) write_json(w, x);
  w.end_array();
}
}  // namespace

void write_json(json_writer& w, const memory_context& x) {
  w.begin_object();
  w.member("scratchpad", x.scratchpad);
  write_entries(w, "episodic", x.episodic);
  write_entries(w, "semantic", x.semantic);
  w.end_object();
}

void write_json(json_writer& w, const session_metrics& x) {
  w.begin_object();
  w.member("tokensUsed", x.tokens_used);
  w.member("duration", x.duration);
  w.member("tasksCompleted", x.tasks_completed);
  w.member("errorsEncountered", x.errors_encountered);
  w.member("averageResponseTime", x.average_response_time);
  w.end_object();
}

void write_json(json_writer& w, const session& x) {
  w.begin_object();
  w.member("id", x.id);
  w.member("orchestratorId", x.orchestrator_id);
  write_member(w, "task", x.task);
  w.member("type", to_string(x.type));
  w.member("status", to_string(x.status));
  w.member("startedAt", x.started_at);
  if (x.ended_at) w.member("endedAt", *x.ended_at);
  write_member(w, "memoryContext", x.memory);
  write_member(w, "metrics", x.metrics);
  w.end_object();
}

void write_json(json_writer& w, const session_spawn_request& x) {
  w.begin_object();
  w.member("orchestratorId", x.orchestrator_id);
  write_member(w, "task", x.task);
  w.member("sessionType", to_string(x.type));
  if (x.memory_profile) w.member("memoryProfile", *x.memory_profile);
  if (x.priority) w.member("priority", to_string(*x.priority));
  w.end_object();
}

void write_json(json_writer& w, const serialization_metadata& x) {
  w.begin_object();
  w.member("serializedAt", x.serialized_at);
  w.member("nodeId", x.node_id);
  w.member("version", x.version);
  w.end_object();
}

void write_json(json_writer& w, const serialized_session& x) {
  w.begin_object();
  write_member(w, "session", x.session);
  w.member("memorySnapshot", x.memory_snapshot);
  write_member(w, "metadata", x.metadata);
  w.end_object();
}

}  // namespace detail

namespace {

template <class T>
void value_from_text(boost::json::value& out, const T& x) {
  std::string text;
  {
    detail::json_writer w(text);
    detail::write_json(w, x);
  }
  out = detail::parse_exact(text, out.storage());
}

}  // namespace

#define NEOLITH_JSON_WRITE(T) \
  void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const T& x) { value_from_text(out, x); }

NEOLITH_JSON_WRITE(node_health)
NEOLITH_JSON_WRITE(node_capabilities)
NEOLITH_JSON_WRITE(task)
NEOLITH_JSON_WRITE(memory_entry)
NEOLITH_JSON_WRITE(memory_context)
NEOLITH_JSON_WRITE(session_metrics)
NEOLITH_JSON_WRITE(session)
NEOLITH_JSON_WRITE(session_spawn_request)
NEOLITH_JSON_WRITE(serialization_metadata)
NEOLITH_JSON_WRITE(serialized_session)

#undef NEOLITH_JSON_WRITE

// ===== Readers (from_json, try_value_to) =================================================

template <class T>
result<T> from_json(const boost::json::value& v) {
  T out;
  auto r = detail::read(v, out);
  if (!r) return detail::finish_path(std::move(r).error());
  return out;
}

#define NEOLITH_JSON_DEFINE(T)                                                                \
  template result<T> from_json<T>(const boost::json::value& v);                              \
  boost::system::result<T> tag_invoke(boost::json::try_value_to_tag<T>, const boost::json::value& v) { \
    auto r = from_json<T>(v);                                                                 \
    if (!r) return r.error().code;                                                            \
    return std::move(r).value();                                                              \
  }

NEOLITH_JSON_DEFINE(node_health)
NEOLITH_JSON_DEFINE(node_capabilities)
NEOLITH_JSON_DEFINE(task)
NEOLITH_JSON_DEFINE(memory_entry)
NEOLITH_JSON_DEFINE(memory_context)
NEOLITH_JSON_DEFINE(session_metrics)
NEOLITH_JSON_DEFINE(session)
NEOLITH_JSON_DEFINE(session_spawn_request)
NEOLITH_JSON_DEFINE(serialization_metadata)
NEOLITH_JSON_DEFINE(serialized_session)

#undef NEOLITH_JSON_DEFINE

}  // namespace neolith
