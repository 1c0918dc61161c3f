// fast_decode (detail/fast_decode.hpp): a text straight into the message, in one pass.
//
// A small strict JSON reader (the scanner, below) drives a handler. Each handled type is a
// table of fields (key, required, and either a scalar setter or the way to the nested object);
// the handler keeps a stack of frames (the object being filled, its table, the keys seen).
// Anything the tables do not describe declines. The reader replaced Boost.JSON's basic_parser
// here (about 20% less time per health_response, docs/performance.md); the general path still
// parses with Boost.JSON.
#include <neolith/protocol/detail/fast_decode.hpp>
#include <neolith/protocol/detail/json_read.hpp>
#include <neolith/protocol/detail/json_text.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json/string_view.hpp>
#include <boost/system/error_code.hpp>

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
  std::uint8_t hint = 0;  // where the next key is looked for first (after the last one)
};

class fast_handler {
 public:
  explicit fast_handler(message& out) : out_(out) {}

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

  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    return take_key({s.data(), s.size()}) || decline(ec);
  }

  bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    const sax_value v{sax_value::kind::string, {s.data(), s.size()}};
    const bool ok = depth_ == 1 && top().desc == nullptr ? take_type(v.s) : value(v);
    return ok || decline(ec);
  }

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

 private:
  frame& top() noexcept { return frames_[depth_ - 1]; }

  static const field_desc* current(const frame& f) noexcept {
    if (f.desc == nullptr || f.field < 0) return nullptr;
    return &f.desc->fields[static_cast<std::size_t>(f.field)];
  }

  bool push(const type_desc* desc, void* target, boost::system::error_code& ec) {
    if (depth_ == max_frames) return decline(ec);
    frames_[depth_++] = frame{desc, target, 0, -1, false, 0};
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
    // Our peers write the fields in the table's order: the next key is usually the next field.
    const auto fields = f.desc->fields;
    const std::size_t n = fields.size();
    std::size_t i = f.hint;
    for (std::size_t k = 0; k < n; ++k, i = i + 1 == n ? 0 : i + 1) {
      if (fields[i].name.size() != key.size() || std::memcmp(fields[i].name.data(), key.data(), key.size()) != 0) continue;
      const std::uint32_t bit = std::uint32_t{1} << i;
      if ((f.seen & bit) != 0) return false;  // a repeated key: the general path decides
      f.seen |= bit;
      f.field = static_cast<int>(i);
      f.hint = static_cast<std::uint8_t>(i + 1 == n ? 0 : i + 1);
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
    f.hint = f.desc->fields.size() > 2 ? 2 : 1;  // our peers write `requestId` last
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
};

// ----- The scanner -------------------------------------------------------------------------
// A strict JSON (RFC 8259) reader of one text, driving the handler as Boost.JSON's parser
// would. It reads what our peers write at a few instructions per byte, and leaves the rare
// rest to the general path: a lone surrogate escape, a number that is not a plain int64 or a
// decimal/exponent form, nesting past the handler's frames. Strings are checked as UTF-8 (the
// general path rejects ill-formed UTF-8, so a text accepted here must be well-formed).

class scanner {
 public:
  scanner(std::string_view text, fast_handler& h) noexcept
      : p_(text.data()), end_(text.data() + text.size()), h_(h) {}

  bool document() {
    skip_ws();
    if (!value(0)) return false;
    skip_ws();
    return p_ == end_;
  }

 private:
  static constexpr int max_depth = 16;  // the handler declines past its own frames (8) anyway

  void skip_ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) noexcept {
    skip_ws();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': {
        std::string_view s;
        return string(s) && h_.on_string(sv(s), s.size(), ec_);
      }
      case 't': return literal("true") && h_.on_bool(true, ec_);
      case 'f': return literal("false") && h_.on_bool(false, ec_);
      case 'n': return literal("null") && h_.on_null(ec_);
      default: return number();
    }
  }

  bool object(int depth) {
    if (depth == max_depth || !h_.on_object_begin(ec_)) return false;
    ++p_;  // {
    if (closes_at_once('}')) return h_.on_object_end(0, ec_);
    for (std::size_t n = 1;; ++n) {
      skip_ws();
      std::string_view key;
      if (p_ == end_ || *p_ != '"' || !string(key) || !h_.on_key(sv(key), key.size(), ec_)) return false;
      if (!eat(':')) return false;
      skip_ws();
      if (!value(depth + 1)) return false;
      switch (after_element('}')) {
        case next: continue;
        case closed: return h_.on_object_end(n, ec_);
        case invalid: return false;
      }
    }
  }

  bool array(int depth) {
    if (depth == max_depth || !h_.on_array_begin(ec_)) return false;
    ++p_;  // [
    if (closes_at_once(']')) return h_.on_array_end(0, ec_);
    for (std::size_t n = 1;; ++n) {
      skip_ws();
      if (!value(depth + 1)) return false;
      switch (after_element(']')) {
        case next: continue;
        case closed: return h_.on_array_end(n, ec_);
        case invalid: return false;
      }
    }
  }

  // An empty container: its closing character right after the opening one (consumed).
  bool closes_at_once(char close) noexcept {
    skip_ws();
    if (p_ == end_ || *p_ != close) return false;
    ++p_;
    return true;
  }

  // After a container's element: a comma (another element comes) or its closing character.
  enum element_end { next, closed, invalid };
  element_end after_element(char close) noexcept {
    skip_ws();
    if (p_ == end_) return invalid;
    const char c = *p_++;
    if (c == ',') return next;
    return c == close ? closed : invalid;
  }

  // A string (at the opening quote): its content, checked as UTF-8; a string with escapes is
  // unescaped into scratch_, which `out` then views (until the next string).
  bool string(std::string_view& out) {
    const char* const begin = ++p_;
    bool escaped = false;
    const char* run = begin;  // the start of the bytes not yet copied into scratch_
    for (;;) {
      p_ += plain_json_prefix(std::string_view(p_, static_cast<std::size_t>(end_ - p_)), true);
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c >= 0x80) {
        const std::size_t n = utf8_sequence(std::string_view(p_, static_cast<std::size_t>(end_ - p_)));
        if (n == 0) return false;
        p_ += n;
        continue;
      }
      if (c == '"') {
        if (!escaped) {
          out = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
        } else {
          scratch_.append(run, p_);
          out = scratch_;
        }
        ++p_;
        return true;
      }
      if (c != '\\') return false;  // a control character
      if (!escaped) {
        escaped = true;
        scratch_.clear();
      }
      scratch_.append(run, p_);
      if (!escape()) return false;
      run = p_;
    }
  }

  // One escape (at the backslash), appended to scratch_ as UTF-8. A lone surrogate declines
  // (Boost.JSON 1.81 rejects it: the general path reports the error).
  bool escape() {
    ++p_;
    if (p_ == end_) return false;
    const char e = *p_++;
    switch (e) {
      case '"': scratch_ += '"'; return true;
      case '\\': scratch_ += '\\'; return true;
      case '/': scratch_ += '/'; return true;
      case 'b': scratch_ += '\b'; return true;
      case 'f': scratch_ += '\f'; return true;
      case 'n': scratch_ += '\n'; return true;
      case 'r': scratch_ += '\r'; return true;
      case 't': scratch_ += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    std::uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a trailing surrogate first
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      std::uint32_t lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    char buf[4];
    std::size_t n = 0;
    if (cp < 0x80) {
      buf[n++] = static_cast<char>(cp);
    } else if (cp < 0x800) {
      buf[n++] = static_cast<char>(0xC0 | (cp >> 6));
      buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      buf[n++] = static_cast<char>(0xE0 | (cp >> 12));
      buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      buf[n++] = static_cast<char>(0xF0 | (cp >> 18));
      buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
    }
    scratch_.append(buf, n);
    return true;
  }

  bool hex4(std::uint32_t& out) noexcept {
    if (end_ - p_ < 4) return false;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = *p_++;
      std::uint32_t d;
      if (h >= '0' && h <= '9') {
        d = static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        d = static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        d = static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
      v = v << 4 | d;
    }
    out = v;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?: a plain integer of at most 18 digits goes
  // to on_int64 (exactly what Boost.JSON reports for it), a fraction or an exponent to
  // on_double with its text (the handler reads the text exactly); anything else declines.
  bool number() {
    const char* const begin = p_;
    const bool neg = *p_ == '-';
    if (neg) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    std::uint64_t mant = 0;
    int digits = 0;
    if (*p_ == '0') {
      ++p_;
      if (p_ != end_ && *p_ >= '0' && *p_ <= '9') return false;  // a leading zero
    } else {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
        mant = mant * 10 + static_cast<std::uint64_t>(*p_ - '0');
        ++p_;
        if (++digits > 18) return false;
      }
    }
    bool real = false;
    if (p_ != end_ && *p_ == '.') {
      real = true;
      ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      real = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    const std::string_view text(begin, static_cast<std::size_t>(p_ - begin));
    if (real) return h_.on_double(0, sv(text), ec_);
    if (neg && mant == 0) return false;  // -0: left to the general path
    const auto i = static_cast<std::int64_t>(mant);
    return h_.on_int64(neg ? -i : i, sv(text), ec_);
  }

  static boost::json::string_view sv(std::string_view s) noexcept { return {s.data(), s.size()}; }

  const char* p_;
  const char* const end_;
  fast_handler& h_;
  boost::system::error_code ec_;
  std::string scratch_;  // the unescaped content of the last string with escapes
};

}  // namespace

bool fast_decode(std::string_view text, message& out) {
  fast_handler h(out);
  scanner sc(text, h);
  return sc.document();
}

}  // namespace neolith::detail
