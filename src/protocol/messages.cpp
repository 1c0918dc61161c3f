// The protocol codec (protocol.hpp): message names, encode, and the strict, reusable decoder.
#include <neolith/protocol/detail/fast_decode.hpp>
#include <neolith/protocol/detail/json_read.hpp>
#include <neolith/protocol/detail/json_text.hpp>
#include <neolith/protocol/detail/json_write.hpp>
#include <neolith/protocol/json.hpp>
#include <neolith/protocol/messages.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value_stack.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace neolith {
namespace {

using detail::json_object;
using detail::json_value;
using detail::read_optional;
using detail::read_required;

constexpr std::array<std::string_view, std::variant_size_v<message>> message_type_names{
    "spawn_session",   "get_session",       "terminate_session", "restore_session",
    "get_health",      "get_sessions",      "get_node_info",     "heartbeat",
    "session_spawned", "session_state",     "session_terminated", "session_restored",
    "health_response", "sessions_response", "heartbeat_ack",     "node_info",
    "session_updated", "error"};

// ----- Writing the fields of each message (between `type` and `requestId`) -------------

using detail::json_writer;
using detail::write_member;

void write_fields(json_writer& w, const msg::spawn_session& m) { write_member(w, "request", m.request); }
void write_fields(json_writer& w, const msg::get_session& m) { w.member("sessionId", m.session_id); }
void write_fields(json_writer& w, const msg::terminate_session& m) { w.member("sessionId", m.session_id); }
void write_fields(json_writer& w, const msg::restore_session& m) { write_member(w, "serializedSession", m.serialized); }
void write_fields(json_writer&, const msg::get_health&) {}
void write_fields(json_writer&, const msg::get_sessions&) {}
void write_fields(json_writer&, const msg::get_node_info&) {}
void write_fields(json_writer& w, const msg::heartbeat& m) {
  // A number of ms since the epoch, as the TypeScript client declares (`timestamp: number`).
  if (m.time) w.member("timestamp", static_cast<std::int64_t>(m.time->time_since_epoch().count()));
  if (m.health) write_member(w, "health", *m.health);
}
void write_fields(json_writer& w, const msg::session_spawned& m) {
  w.member("sessionId", m.session_id);
  write_member(w, "session", m.session);
}
void write_fields(json_writer& w, const msg::session_state& m) {
  w.member("sessionId", m.session_id);
  if (m.session) {
    write_member(w, "session", *m.session);
  } else {
    w.key("session");
    w.null();  // the one `null` of the protocol
  }
}
void write_fields(json_writer& w, const msg::session_terminated& m) {
  w.member("sessionId", m.session_id);
  w.member("success", m.success);
}
void write_fields(json_writer& w, const msg::session_restored& m) {
  w.member("sessionId", m.session_id);
  w.member("success", m.success);
}
void write_fields(json_writer& w, const msg::health_response& m) { write_member(w, "health", m.health); }
void write_fields(json_writer& w, const msg::sessions_response& m) {
  w.key("sessions");
  w.begin_array();
  for (const auto& s : m.sessions) detail::write_json(w, s);
  w.end_array();
}
void write_fields(json_writer& w, const msg::heartbeat_ack& m) { w.member("timestamp", m.time); }
void write_fields(json_writer& w, const msg::node_info& m) {
  w.member("nodeId", m.node_id);
  w.member("version", m.version);
  w.member("protocolVersion", std::int64_t{m.protocol});
  write_member(w, "capabilities", m.capabilities);
}
void write_fields(json_writer& w, const msg::session_updated& m) {
  w.member("sessionId", m.session_id);
  write_member(w, "session", m.session);
}
void write_fields(json_writer& w, const msg::error& m) {
  w.member("error", m.text);
  if (m.request_type) w.member("requestType", *m.request_type);
  w.member("code", m.code);
}

void write_message(json_writer& w, const message& m) {
  w.begin_object();
  w.member("type", to_string(type_of(m)));
  std::visit([&w](const auto& x) { write_fields(w, x); }, m);
  if (const auto& id = request_id_of(m)) w.member("requestId", *id);
  w.end_object();
}

// ----- Reading the fields of each message -------------------------------------------------

result<void> read_fields(const json_object& o, msg::spawn_session& m) { return read_required(o, "request", m.request); }
result<void> read_fields(const json_object& o, msg::get_session& m) { return read_required(o, "sessionId", m.session_id); }
result<void> read_fields(const json_object& o, msg::terminate_session& m) { return read_required(o, "sessionId", m.session_id); }
result<void> read_fields(const json_object& o, msg::restore_session& m) {
  return read_required(o, "serializedSession", m.serialized);
}
result<void> read_fields(const json_object&, msg::get_health&) { return outcome::success(); }
result<void> read_fields(const json_object&, msg::get_sessions&) { return outcome::success(); }
result<void> read_fields(const json_object&, msg::get_node_info&) { return outcome::success(); }
result<void> read_fields(const json_object& o, msg::heartbeat& m) {
  // The TypeScript client sends `new Date()` (an ISO string); a number of ms is read too.
  if (const json_value* t = detail::find_field(o, "timestamp")) {
    timestamp value{};
    auto r = detail::read_date_or_millis(*t, value);
    if (!r) return detail::with_path(std::move(r).error(), "timestamp");
    m.time = value;
  }
  return read_optional(o, "health", m.health);
}
result<void> read_fields(const json_object& o, msg::session_spawned& m) {
  BOOST_OUTCOME_TRY(read_required(o, "sessionId", m.session_id));
  return read_required(o, "session", m.session);
}
result<void> read_fields(const json_object& o, msg::session_state& m) {
  BOOST_OUTCOME_TRY(read_required(o, "sessionId", m.session_id));
  return read_optional(o, "session", m.session);  // null: unknown session
}
result<void> read_fields(const json_object& o, msg::session_terminated& m) {
  BOOST_OUTCOME_TRY(read_required(o, "sessionId", m.session_id));
  return read_required(o, "success", m.success);
}
result<void> read_fields(const json_object& o, msg::session_restored& m) {
  BOOST_OUTCOME_TRY(read_required(o, "sessionId", m.session_id));
  return read_required(o, "success", m.success);
}
result<void> read_fields(const json_object& o, msg::health_response& m) { return read_required(o, "health", m.health); }
result<void> read_fields(const json_object& o, msg::sessions_response& m) { return read_required(o, "sessions", m.sessions); }
result<void> read_fields(const json_object& o, msg::heartbeat_ack& m) { return read_required(o, "timestamp", m.time); }
result<void> read_fields(const json_object& o, msg::node_info& m) {
  BOOST_OUTCOME_TRY(read_required(o, "nodeId", m.node_id));
  BOOST_OUTCOME_TRY(read_required(o, "version", m.version));
  BOOST_OUTCOME_TRY(read_required(o, "protocolVersion", m.protocol));
  return read_required(o, "capabilities", m.capabilities);
}
result<void> read_fields(const json_object& o, msg::session_updated& m) {
  BOOST_OUTCOME_TRY(read_required(o, "sessionId", m.session_id));
  return read_required(o, "session", m.session);
}
result<void> read_fields(const json_object& o, msg::error& m) {
  BOOST_OUTCOME_TRY(read_required(o, "error", m.text));
  BOOST_OUTCOME_TRY(read_optional(o, "requestType", m.request_type));
  return read_required(o, "code", m.code);
}

template <std::size_t I>
result<message> decode_as(const json_object& o) {
  message m(std::in_place_index<I>);
  BOOST_OUTCOME_TRY(read_fields(o, std::get<I>(m)));
  return m;
}

using decode_fn = result<message> (*)(const json_object&);

template <std::size_t... I>
constexpr std::array<decode_fn, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {&decode_as<I>...};
}

constexpr auto decoders = make_decoders(std::make_index_sequence<std::variant_size_v<message>>());

error_info fail(error_info e) { return detail::finish_path(std::move(e)); }

// Replaces every invalid UTF-8 byte of out[from..] by U+FFFD. Strings given by C++ code may
// hold any bytes, but a text frame must be UTF-8 (a peer fails the connection with 1007);
// JSON's structure is ASCII, so the replacement keeps the JSON valid.
void make_valid_utf8(std::string& out, std::size_t from) {
  std::size_t i = from;
  // ASCII eight bytes at a time (the common case is all ASCII).
  for (; i + 8 <= out.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, out.data() + i, 8);
    if ((w & 0x8080808080808080ULL) != 0) break;
  }
  while (i < out.size()) {
    if (static_cast<unsigned char>(out[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = detail::utf8_sequence(std::string_view(out).substr(i));
    if (n == 0) break;
    i += n;
  }
  if (i == out.size()) return;  // the common case: already valid
  std::string fixed(out, 0, i);
  fixed.reserve(out.size() + 16);
  while (i < out.size()) {
    const std::size_t n = detail::utf8_sequence(std::string_view(out).substr(i));
    if (n == 0) {
      fixed += "\xEF\xBF\xBD";
      ++i;
    } else {
      fixed.append(out, i, n);
      i += n;
    }
  }
  out = std::move(fixed);
}

}  // namespace

// ===== Names and envelope ================================================================

std::string_view to_string(message_type t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < message_type_names.size() ? message_type_names[i] : std::string_view("unknown");
}

std::optional<message_type> parse_message_type(std::string_view s) noexcept {
  for (std::size_t i = 0; i < message_type_names.size(); ++i) {
    if (message_type_names[i] == s) return static_cast<message_type>(i);
  }
  return std::nullopt;
}

const std::optional<std::string>& request_id_of(const message& m) noexcept {
  return std::visit([](const auto& x) -> const std::optional<std::string>& { return x.request_id; }, m);
}

void set_request_id(message& m, std::optional<std::string> id) {
  std::visit([&id](auto& x) { x.request_id = std::move(id); }, m);
}

// ===== Encoding ==========================================================================

boost::json::object to_json(const message& m) {
  // Off the hot path: the text the codec writes, read back (one description of the fields).
  boost::json::value v = detail::parse_exact(encode(m), {});
  return std::move(v.as_object());
}

void encode(const message& m, std::string& out) {
  const std::size_t start = out.size();
  {
    json_writer w(out);
    write_message(w, m);
  }
  make_valid_utf8(out, start);
}

std::string encode(const message& m) {
  std::string out;
  // One allocation for the common messages (a session answer is about 650 bytes): growing from
  // empty took six, and copies, per answer.
  out.reserve(1024);
  encode(m, out);
  return out;
}

// ===== Decoding ==========================================================================

namespace {

// The handler of Boost.JSON's own `parser` (detail/handler.hpp), except for doubles: Boost
// 1.81 computes them as mantissa * 10^exponent in floating point, which can be one unit in the
// last place off (it read "91.25888888888889", which JavaScript wrote, as a neighbour of the
// double JavaScript meant). std::from_chars rounds correctly, so a number read from a
// TypeScript peer is the number it sent, and encode -> decode is the identity.
struct precise_handler {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  boost::json::value_stack st;
  std::string number;  // the parts of a number split across buffers (rare)

  precise_handler(unsigned char* temp, std::size_t size) : st(boost::json::storage_ptr(), temp, size) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(boost::json::string_view s, boost::system::error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, boost::json::string_view, boost::system::error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, boost::json::string_view, boost::system::error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, boost::json::string_view s, boost::system::error_code&) {
    std::string_view text(s.data(), s.size());
    if (!number.empty()) {
      number.append(s.data(), s.size());
      text = number;
    }
    // Out of range (1e999, 1e-999): keep Boost's infinity or zero, as JSON.parse does.
    detail::read_double_exact(text, d);
    number.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

struct decoder::impl {
  static constexpr std::size_t arena_size = 32 * 1024;
  static constexpr std::size_t stack_size = 4 * 1024;

  // The parsed tree lives in `arena` (spilling to the heap for large messages) and is
  // discarded after each message; the parser's temporary stack lives in `stack`.
  //
  // The resource is re-created for every message rather than `release()`d: in Boost 1.81,
  // release() does not reset the size of the next heap block, which doubles with every block
  // ever allocated, so a long-lived resource fails with bad_alloc after a few dozen messages
  // that spill out of the arena.
  alignas(std::max_align_t) unsigned char arena[arena_size];
  alignas(std::max_align_t) unsigned char stack[stack_size];
  std::optional<boost::json::monotonic_resource> resource;
  boost::json::basic_parser<precise_handler> parser;

  explicit impl(const decode_options& o) : parser(parse_options_of(o), stack, stack_size) {}

  // Parses one complete JSON text into `resource` (as boost::json::parser::write does).
  std::size_t parse(std::string_view text, boost::system::error_code& ec) {
    parser.reset();
    parser.handler().number.clear();
    parser.handler().st.reset(boost::json::storage_ptr(&*resource));
    const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = boost::json::error::extra_data;
    return n;
  }

  static boost::json::parse_options parse_options_of(const decode_options& o) {
    boost::json::parse_options p;
    p.max_depth = o.max_depth;
    return p;
  }
};

decoder::decoder(decode_options opts) : impl_(std::make_unique<impl>(opts)), opts_(opts) {}
decoder::~decoder() = default;
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;

result<message> decoder::decode(std::string_view text) {
  // The previous message's requestId and type give their buffers back for this one.
  if (request_id_) id_spare_ = std::move(*request_id_);
  if (request_type_) type_spare_ = std::move(*request_type_);
  request_id_.reset();
  request_type_.reset();
  if (text.size() > opts_.max_message_bytes) {
    return error_info(error::message_too_large, "the message has " + std::to_string(text.size()) +
                                                    " bytes, more than the maximum of " +
                                                    std::to_string(opts_.max_message_bytes));
  }
  if (opts_.fast_path) {
    message m(std::in_place_type<msg::get_health>);  // the cheapest alternative; replaced
    if (detail::fast_decode(text, m)) {
      if (const auto& id = request_id_of(m)) {
        id_spare_.assign(*id);
        request_id_.emplace(std::move(id_spare_));
      }
      type_spare_.assign(to_string(type_of(m)));
      request_type_.emplace(std::move(type_spare_));
      return m;
    }
  }
  if (!impl_) impl_ = std::make_unique<impl>(opts_);  // a moved-from decoder is usable again

  // Release the arena once the tree below is gone (declared first, destroyed last).
  struct arena_release {
    impl& i;
    ~arena_release() {
      i.parser.reset();
      i.parser.handler().st.reset();
      i.resource.reset();
    }
  } release_guard{*impl_};

  boost::system::error_code ec;
  impl_->resource.emplace(impl_->arena, impl::arena_size);
  const std::size_t consumed = impl_->parse(text, ec);
  if (ec) {
    if (ec == boost::json::error::too_deep) {
      return error_info(error::nesting_too_deep,
                        "the JSON is nested deeper than " + std::to_string(opts_.max_depth) + " levels");
    }
    return error_info(error::invalid_json,
                      "invalid JSON at byte " + std::to_string(consumed) + ": " + ec.message());
  }
  const json_value jv = impl_->parser.handler().st.release();

  const json_object* o = jv.if_object();
  if (o == nullptr) {
    return error_info(error::not_an_object,
                      "the message must be a JSON object, got " + std::string(detail::json_kind(jv)));
  }

  // The envelope: requestId and type are kept even when the rest is invalid.
  std::optional<error_info> id_error;
  if (const json_value* id = detail::find_field(*o, "requestId")) {
    if (const boost::json::string* s = id->if_string()) {
      id_spare_.assign(s->data(), s->size());
      request_id_.emplace(std::move(id_spare_));
    } else {
      id_error = detail::with_path(detail::type_error("a string", *id), "requestId");
    }
  }
  const json_value* type = detail::find_field(*o, "type");
  if (type == nullptr) return error_info(error::missing_field, "type: required field is missing");
  const boost::json::string* type_name = type->if_string();
  if (type_name == nullptr) return fail(detail::with_path(detail::type_error("a string", *type), "type"));
  type_spare_.assign(type_name->data(), type_name->size());
  request_type_.emplace(std::move(type_spare_));
  const auto mt = parse_message_type(*type_name);
  if (!mt) return error_info(error::unknown_type, "type: unknown message type " + detail::quoted(*type_name));
  if (id_error) return fail(std::move(*id_error));

  auto r = decoders[static_cast<std::size_t>(*mt)](*o);
  if (!r) return fail(std::move(r).error());
  set_request_id(r.value(), request_id_);
  return r;
}

result<message> decode(std::string_view text) {
  decoder d;
  return d.decode(text);
}

boost::json::value detail::parse_exact(std::string_view text, boost::json::storage_ptr sp) {
  unsigned char temp[1024];
  boost::json::parse_options opts;
  opts.max_depth = detail::parse_exact_max_depth;
  boost::json::basic_parser<precise_handler> p(opts, temp, sizeof temp);
  p.handler().st.reset(std::move(sp));
  boost::system::error_code ec;
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (ec || n != text.size()) return nullptr;
  return p.handler().st.release();
}

msg::error make_error_answer(const error_info& e, const decoder& d) {
  msg::error answer;
  answer.request_id = d.request_id();
  answer.text = e.what();
  answer.request_type = d.request_type();
  if (e.code.category() == error_category()) {
    answer.code = std::string(wire_code(static_cast<error>(e.code.value())));
  } else {
    answer.code = "internal";
  }
  return answer;
}

}  // namespace neolith
