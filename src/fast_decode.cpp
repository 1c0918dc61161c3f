// fast_decode (detail/fast_decode.hpp): the parser's events straight into the message.
//
// Each handled type is a table of fields (key, required, and either a scalar setter or the way
// to the nested object); the handler keeps a stack of frames (the object being filled, its
// table, the keys seen). Anything the tables do not describe declines.
#include <neolith/detail/fast_decode.hpp>
#include <neolith/detail/json_read.hpp>
#include <neolith/json.hpp>

#include <boost/json/basic_parser_impl.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace neolith::detail {
namespace {

// ----- Values and field tables -------------------------------------------------------------

struct sax_value {
  enum class kind { string, int64, uint64, number, boolean };
  kind k;
  std::string_view s;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  bool b = false;
};

struct type_desc;

struct field_desc {
  std::string_view name;
  bool required = false;
  bool (*scalar)(void* target, const sax_value& v) = nullptr;  // a scalar field
  void* (*object)(void* target) = nullptr;  // an object field (or an array's next element)
  const type_desc* nested = nullptr;         // the object's table
  bool array = false;                        // an array of `nested` objects
  bool nullable = false;                     // an optional object that may be null (absent)
};

struct type_desc {
  constexpr type_desc() = default;
  explicit constexpr type_desc(std::span<const field_desc> f) : fields(f) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].required) required_mask |= std::uint32_t{1} << i;
    }
  }
  std::span<const field_desc> fields;
  std::uint32_t required_mask = 0;  // bit i: fields[i] is required
};

template <class M>
struct member_traits;
template <class C, class T>
struct member_traits<T C::*> {
  using owner = C;
  using type = T;
};

template <auto M>
auto& field_of(void* target) {
  return static_cast<typename member_traits<decltype(M)>::owner*>(target)->*M;
}

// Scalars, each accepting only what the general reader reads to the same value.

template <auto M>
bool set_string(void* t, const sax_value& v) {
  if (v.k != sax_value::kind::string) return false;
  auto& f = field_of<M>(t);
  if constexpr (std::is_same_v<std::remove_reference_t<decltype(f)>, std::string>) {
    f.assign(v.s.data(), v.s.size());
  } else {
    f.emplace(v.s.data(), v.s.size());
  }
  return true;
}

template <auto M>
bool set_bool(void* t, const sax_value& v) {
  if (v.k != sax_value::kind::boolean) return false;
  field_of<M>(t) = v.b;
  return true;
}

template <auto M>
bool set_double(void* t, const sax_value& v) {
  switch (v.k) {
    case sax_value::kind::number: field_of<M>(t) = v.d; return true;  // finite (checked on parse)
    case sax_value::kind::int64: field_of<M>(t) = static_cast<double>(v.i); return true;
    case sax_value::kind::uint64: field_of<M>(t) = static_cast<double>(v.u); return true;
    default: return false;
  }
}

template <auto M>
bool set_int64(void* t, const sax_value& v) {
  if (v.k != sax_value::kind::int64) return false;
  field_of<M>(t) = v.i;
  return true;
}

template <auto M>
bool set_date(void* t, const sax_value& v) {
  if (v.k != sax_value::kind::string) return false;
  auto r = parse_timestamp(v.s);
  if (!r) return false;
  field_of<M>(t) = r.value();
  return true;
}

template <auto M, auto Parse>
bool set_enum(void* t, const sax_value& v) {
  if (v.k != sax_value::kind::string) return false;
  const auto e = Parse(v.s);
  if (!e) return false;
  field_of<M>(t) = *e;
  return true;
}

// Objects.

template <auto M>
void* enter(void* t) {
  auto& f = field_of<M>(t);
  if constexpr (requires { f.emplace(); }) {  // std::optional
    return &f.emplace();
  } else {
    return &f;
  }
}

template <auto M>
void* append(void* t) {
  return &field_of<M>(t).emplace_back();
}

constexpr field_desc scalar(std::string_view name, bool required, bool (*f)(void*, const sax_value&)) {
  field_desc d;
  d.name = name;
  d.required = required;
  d.scalar = f;
  return d;
}

constexpr field_desc object(std::string_view name, bool required, void* (*f)(void*), const type_desc* nested,
                            bool nullable = false) {
  field_desc d;
  d.name = name;
  d.required = required;
  d.object = f;
  d.nested = nested;
  d.nullable = nullable;
  return d;
}

constexpr field_desc array_of(std::string_view name, bool required, void* (*f)(void*), const type_desc* nested) {
  field_desc d = object(name, required, f, nested);
  d.array = true;
  return d;
}

// ----- The wire types ----------------------------------------------------------------------

// A free-form object (scratchpad) taken only when empty: no field matches any key.
constexpr type_desc empty_object{};

constexpr std::array node_health_fields{
    scalar("status", true, set_enum<&node_health::status, parse_node_status>),
    scalar("cpuUsage", true, set_double<&node_health::cpu_usage>),
    scalar("memoryUsage", true, set_double<&node_health::memory_usage>),
    scalar("activeSessions", true, set_int64<&node_health::active_sessions>),
    scalar("responseTime", true, set_double<&node_health::response_time>),
    scalar("lastHeartbeat", true, set_date<&node_health::last_heartbeat>),
    scalar("uptime", true, set_double<&node_health::uptime>),
};
constexpr type_desc node_health_desc{node_health_fields};

// metadata (free-form) is not listed: a task that has it declines.
constexpr std::array task_fields{
    scalar("id", true, set_string<&task::id>),
    scalar("type", true, set_enum<&task::type, parse_task_type>),
    scalar("description", true, set_string<&task::description>),
    scalar("priority", true, set_enum<&task::priority, parse_task_priority>),
    scalar("assignedTo", false, set_string<&task::assigned_to>),
    scalar("status", true, set_enum<&task::status, parse_task_status>),
    scalar("createdAt", true, set_date<&task::created_at>),
    scalar("updatedAt", true, set_date<&task::updated_at>),
};
constexpr type_desc task_desc{task_fields};

constexpr std::array memory_entry_fields{
    scalar("id", true, set_string<&memory_entry::id>),
    scalar("content", true, set_string<&memory_entry::content>),
    scalar("timestamp", true, set_date<&memory_entry::time>),
    scalar("type", true, set_enum<&memory_entry::type, parse_memory_entry_type>),
};
constexpr type_desc memory_entry_desc{memory_entry_fields};

constexpr std::array memory_context_fields{
    object("scratchpad", true, enter<&memory_context::scratchpad>, &empty_object),
    array_of("episodic", true, append<&memory_context::episodic>, &memory_entry_desc),
    array_of("semantic", true, append<&memory_context::semantic>, &memory_entry_desc),
};
constexpr type_desc memory_context_desc{memory_context_fields};

constexpr std::array session_metrics_fields{
    scalar("tokensUsed", true, set_double<&session_metrics::tokens_used>),
    scalar("duration", true, set_double<&session_metrics::duration>),
    scalar("tasksCompleted", true, set_double<&session_metrics::tasks_completed>),
    scalar("errorsEncountered", true, set_double<&session_metrics::errors_encountered>),
    scalar("averageResponseTime", true, set_double<&session_metrics::average_response_time>),
};
constexpr type_desc session_metrics_desc{session_metrics_fields};

constexpr std::array session_fields{
    scalar("id", true, set_string<&session::id>),
    scalar("orchestratorId", true, set_string<&session::orchestrator_id>),
    object("task", true, enter<&session::task>, &task_desc),
    scalar("type", true, set_enum<&session::type, parse_session_type>),
    scalar("status", true, set_enum<&session::status, parse_session_status>),
    scalar("startedAt", true, set_date<&session::started_at>),
    scalar("endedAt", false, set_date<&session::ended_at>),
    object("memoryContext", true, enter<&session::memory>, &memory_context_desc),
    object("metrics", true, enter<&session::metrics>, &session_metrics_desc),
};
constexpr type_desc session_desc{session_fields};

// ----- The messages ------------------------------------------------------------------------
// Field 0 is `type` (seen first, by the envelope), field 1 `requestId`.

template <class Msg, class... Fields>
constexpr auto message_fields(Fields... fields) {
  return std::array<field_desc, 2 + sizeof...(Fields)>{
      scalar("type", true, nullptr), scalar("requestId", false, set_string<&Msg::request_id>), fields...};
}

constexpr auto get_health_fields = message_fields<msg::get_health>();
constexpr auto get_sessions_fields = message_fields<msg::get_sessions>();
constexpr auto get_node_info_fields = message_fields<msg::get_node_info>();
constexpr auto get_session_fields =
    message_fields<msg::get_session>(scalar("sessionId", true, set_string<&msg::get_session::session_id>));
constexpr auto terminate_session_fields =
    message_fields<msg::terminate_session>(scalar("sessionId", true, set_string<&msg::terminate_session::session_id>));
constexpr auto health_response_fields =
    message_fields<msg::health_response>(object("health", true, enter<&msg::health_response::health>, &node_health_desc));
constexpr auto session_state_fields = message_fields<msg::session_state>(
    scalar("sessionId", true, set_string<&msg::session_state::session_id>),
    object("session", false, enter<&msg::session_state::session>, &session_desc, true));
constexpr auto session_spawned_fields =
    message_fields<msg::session_spawned>(scalar("sessionId", true, set_string<&msg::session_spawned::session_id>),
                                         object("session", true, enter<&msg::session_spawned::session>, &session_desc));
constexpr auto session_updated_fields =
    message_fields<msg::session_updated>(scalar("sessionId", true, set_string<&msg::session_updated::session_id>),
                                         object("session", true, enter<&msg::session_updated::session>, &session_desc));
constexpr auto session_terminated_fields = message_fields<msg::session_terminated>(
    scalar("sessionId", true, set_string<&msg::session_terminated::session_id>),
    scalar("success", true, set_bool<&msg::session_terminated::success>));
constexpr auto session_restored_fields = message_fields<msg::session_restored>(
    scalar("sessionId", true, set_string<&msg::session_restored::session_id>),
    scalar("success", true, set_bool<&msg::session_restored::success>));
constexpr auto heartbeat_ack_fields =
    message_fields<msg::heartbeat_ack>(scalar("timestamp", true, set_int64<&msg::heartbeat_ack::time>));
constexpr auto error_fields = message_fields<msg::error>(scalar("error", true, set_string<&msg::error::text>),
                                                         scalar("requestType", false, set_string<&msg::error::request_type>),
                                                         scalar("code", true, set_string<&msg::error::code>));

// Per message type (in `message`'s order), its table, or none (declined).
constexpr type_desc get_health_desc{get_health_fields};
constexpr type_desc get_sessions_desc{get_sessions_fields};
constexpr type_desc get_node_info_desc{get_node_info_fields};
constexpr type_desc get_session_desc{get_session_fields};
constexpr type_desc terminate_session_desc{terminate_session_fields};
constexpr type_desc health_response_desc{health_response_fields};
constexpr type_desc session_state_desc{session_state_fields};
constexpr type_desc session_spawned_desc{session_spawned_fields};
constexpr type_desc session_updated_desc{session_updated_fields};
constexpr type_desc session_terminated_desc{session_terminated_fields};
constexpr type_desc session_restored_desc{session_restored_fields};
constexpr type_desc heartbeat_ack_desc{heartbeat_ack_fields};
constexpr type_desc error_desc{error_fields};

constexpr auto message_tables = [] {
  std::array<const type_desc*, std::variant_size_v<message>> t{};
  const auto at = [&t](message_type m) -> const type_desc*& { return t[static_cast<std::size_t>(m)]; };
  at(message_type::get_health) = &get_health_desc;
  at(message_type::get_sessions) = &get_sessions_desc;
  at(message_type::get_node_info) = &get_node_info_desc;
  at(message_type::get_session) = &get_session_desc;
  at(message_type::terminate_session) = &terminate_session_desc;
  at(message_type::health_response) = &health_response_desc;
  at(message_type::session_state) = &session_state_desc;
  at(message_type::session_spawned) = &session_spawned_desc;
  at(message_type::session_updated) = &session_updated_desc;
  at(message_type::session_terminated) = &session_terminated_desc;
  at(message_type::session_restored) = &session_restored_desc;
  at(message_type::heartbeat_ack) = &heartbeat_ack_desc;
  at(message_type::error) = &error_desc;
  return t;
}();

// Makes `m` the message of type I (by index) and returns it.
template <std::size_t I>
void* emplace_message(message& m) {
  return &m.emplace<I>();
}

template <std::size_t... I>
constexpr auto make_emplacers(std::index_sequence<I...>) {
  return std::array<void* (*)(message&), sizeof...(I)>{&emplace_message<I>...};
}
constexpr auto message_emplacers = make_emplacers(std::make_index_sequence<std::variant_size_v<message>>());

// ----- The handler -------------------------------------------------------------------------

constexpr std::size_t max_frames = 8;  // the deepest table (session in a message) uses 5

struct frame {
  const type_desc* desc = nullptr;  // null: the envelope before its `type`
  void* target = nullptr;
  std::uint32_t seen = 0;
  int field = -1;         // the field whose value comes next
  bool in_array = false;  // inside that field's array
};

class fast_handler {
 public:
  static constexpr std::size_t max_object_size = 32;
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = 256;
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit fast_handler(message& out) : out_(out) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }

  bool on_object_begin(boost::system::error_code& ec) {
    if (depth_ == 0) return push(nullptr, nullptr, ec);
    frame& f = top();
    const field_desc* fd = current(f);
    if (fd == nullptr || fd->object == nullptr || fd->array != f.in_array) return decline(ec);
    return push(fd->nested, fd->object(f.target), ec);
  }

  bool on_object_end(std::size_t, boost::system::error_code& ec) {
    frame& f = top();
    if (f.desc == nullptr || (f.seen & f.desc->required_mask) != f.desc->required_mask) return decline(ec);
    --depth_;
    if (depth_ > 0 && !top().in_array) top().field = -1;
    return true;
  }

  bool on_array_begin(boost::system::error_code& ec) {
    if (depth_ == 0) return decline(ec);
    frame& f = top();
    const field_desc* fd = current(f);
    if (fd == nullptr || !fd->array || f.in_array) return decline(ec);
    f.in_array = true;
    return true;
  }

  bool on_array_end(std::size_t, boost::system::error_code&) {
    frame& f = top();
    f.in_array = false;
    f.field = -1;
    return true;
  }

  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }

  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    const bool ok = take_key(whole(s));
    part_.clear();
    return ok || decline(ec);
  }

  bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    part_.append(s.data(), s.size());
    return true;
  }

  bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    const sax_value v{sax_value::kind::string, whole(s)};
    const bool ok = depth_ == 1 && top().desc == nullptr ? take_type(v.s) : value(v);
    part_.clear();
    return ok || decline(ec);
  }

  bool on_number_part(boost::json::string_view, boost::system::error_code& ec) { return decline(ec); }

  bool on_int64(std::int64_t i, boost::json::string_view, boost::system::error_code& ec) {
    sax_value v{sax_value::kind::int64, {}};
    v.i = i;
    return value(v) || decline(ec);
  }

  bool on_uint64(std::uint64_t u, boost::json::string_view, boost::system::error_code& ec) {
    sax_value v{sax_value::kind::uint64, {}};
    v.u = u;
    return value(v) || decline(ec);
  }

  bool on_double(double, boost::json::string_view s, boost::system::error_code& ec) {
    // Read as the general decoder reads it (std::from_chars, exactly); a number out of range
    // is an error there: declined here.
    sax_value v{sax_value::kind::number, {}};
    if (!read_double_exact(std::string_view(s.data(), s.size()), v.d) || !std::isfinite(v.d)) return decline(ec);
    return value(v) || decline(ec);
  }

  bool on_bool(bool b, boost::system::error_code& ec) {
    sax_value v{sax_value::kind::boolean, {}};
    v.b = b;
    return value(v) || decline(ec);
  }

  bool on_null(boost::system::error_code& ec) {
    // Null reads as absent: only for an optional object that may be null.
    if (depth_ == 0) return decline(ec);
    frame& f = top();
    const field_desc* fd = current(f);
    if (fd == nullptr || !fd->nullable || f.in_array) return decline(ec);
    f.field = -1;
    return true;
  }

  bool on_comment_part(boost::json::string_view, boost::system::error_code& ec) { return decline(ec); }
  bool on_comment(boost::json::string_view, boost::system::error_code& ec) { return decline(ec); }

 private:
  frame& top() noexcept { return frames_[depth_ - 1]; }

  // A key or string: its last piece `s`, after the parts an escape split off (part_).
  std::string_view whole(boost::json::string_view s) {
    if (part_.empty()) return {s.data(), s.size()};
    part_.append(s.data(), s.size());
    return part_;
  }

  static const field_desc* current(const frame& f) noexcept {
    if (f.desc == nullptr || f.field < 0) return nullptr;
    return &f.desc->fields[static_cast<std::size_t>(f.field)];
  }

  bool push(const type_desc* desc, void* target, boost::system::error_code& ec) {
    if (depth_ == max_frames) return decline(ec);
    frames_[depth_++] = frame{desc, target, 0, -1, false};
    return true;
  }

  bool take_key(std::string_view key) {
    frame& f = top();
    if (f.field >= 0) return false;
    if (f.desc == nullptr) {  // the envelope: `type` first
      if (key != "type") return false;
      f.field = 0;
      return true;
    }
    const auto fields = f.desc->fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name.size() != key.size() || std::memcmp(fields[i].name.data(), key.data(), key.size()) != 0) continue;
      const std::uint32_t bit = std::uint32_t{1} << i;
      if ((f.seen & bit) != 0) return false;  // a repeated key: the general path decides
      f.seen |= bit;
      f.field = static_cast<int>(i);
      return true;
    }
    return false;
  }

  bool take_type(std::string_view name) {
    frame& f = top();
    if (f.field != 0) return false;
    const auto t = parse_message_type(name);
    if (!t) return false;
    const auto i = static_cast<std::size_t>(*t);
    if (message_tables[i] == nullptr) return false;
    f.desc = message_tables[i];
    f.target = message_emplacers[i](out_);
    f.seen = 1;  // `type`
    f.field = -1;
    return true;
  }

  bool value(const sax_value& v) {
    if (depth_ == 0) return false;
    frame& f = top();
    const field_desc* fd = current(f);
    if (fd == nullptr || fd->scalar == nullptr || f.in_array) return false;
    f.field = -1;
    return fd->scalar(f.target, v);
  }

  static bool decline(boost::system::error_code& ec) {
    ec = std::make_error_code(std::errc::operation_canceled);
    return false;
  }

  message& out_;
  std::array<frame, max_frames> frames_{};
  std::size_t depth_ = 0;
  std::string part_;  // a key or string split by escapes
};

}  // namespace

bool fast_decode(std::string_view text, message& out) {
  boost::json::basic_parser<fast_handler> p(boost::json::parse_options{}, out);
  boost::system::error_code ec;
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  return !ec && n == text.size() && p.done();
}

}  // namespace neolith::detail
