#include "node_json.hpp"

#include "cli_options.hpp"

#include <neolith/protocol/detail/json_write.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value_from.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <type_traits>
#include <variant>

#include <unistd.h>

namespace neolith::cli {

namespace json = boost::json;

boost::json::object error_json(const error_info& e) {
  json::object o;
  o.emplace("code", error_code_name(e.code));
  o.emplace("message", e.message.empty() ? e.code.message() : e.message);
  return o;
}

boost::json::object node_info_json(const msg::node_info& info) {
  json::object o;
  o.emplace("nodeId", info.node_id);
  o.emplace("version", info.version);
  o.emplace("protocolVersion", info.protocol);
  o.emplace("capabilities", json::value_from(info.capabilities));
  return o;
}

boost::json::object event_json(const node_event& e) {
  json::object o;
  o.emplace("event", event_name(e));
  std::visit(
      [&o](const auto& ev) {
        using E = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<E, event::connecting>) {
          o.emplace("attempt", ev.attempt);
        } else if constexpr (std::is_same_v<E, event::connected>) {
        } else if constexpr (std::is_same_v<E, event::disconnected>) {
          o.emplace("reason", error_json(ev.reason));
        } else if constexpr (std::is_same_v<E, event::reconnecting>) {
          o.emplace("attempt", ev.attempt);
          o.emplace("delayMs", static_cast<std::int64_t>(ev.delay.count()));
        } else if constexpr (std::is_same_v<E, event::reconnect_failed>) {
          o.emplace("attempts", ev.attempts);
        } else if constexpr (std::is_same_v<E, event::session_spawned>) {
          o.emplace("session", json::value_from(ev.session));
        } else if constexpr (std::is_same_v<E, event::session_terminated>) {
          o.emplace("sessionId", ev.session_id);
        } else if constexpr (std::is_same_v<E, event::session_restored>) {
          o.emplace("sessionId", ev.session_id);
        } else if constexpr (std::is_same_v<E, event::error>) {
          o.emplace("error", error_json(ev.error));
        } else {
          static_assert(std::is_same_v<E, event::message>);
          if (ev.unknown) {
            o.emplace("message", *ev.unknown);  // a type we do not know: the object as received
          } else {
            o.emplace("message", to_json(ev.message));
          }
        }
      },
      e);
  return o;
}

result<boost::json::value> parse_json(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = max_json_depth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, json::storage_ptr(), opts);
  if (ec) return error_info(error::invalid_json, "not JSON: " + ec.message());
  return v;
}

std::string json_text(const boost::json::value& v) {
  std::string out;
  detail::json_writer w(out);
  w.json(v);
  return out;
}

std::string json_text(const boost::json::object& o) {
  std::string out;
  detail::json_writer w(out);
  w.json(o);
  return out;
}

std::string random_uuid() {
  static thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  std::array<unsigned char, 16> b{};
  for (std::size_t i = 0; i < b.size(); i += 8) {
    const std::uint64_t r = rng();
    for (std::size_t j = 0; j < 8; ++j) b[i + j] = static_cast<unsigned char>(r >> (8 * j));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return std::string(text, 36);
}

task make_task(std::string description) {
  task t;
  t.id = random_uuid();
  t.type = task_type::general;
  t.description = std::move(description);
  t.priority = task_priority::medium;
  t.status = task_status::pending;
  t.created_at = now_timestamp();
  t.updated_at = t.created_at;
  return t;
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace neolith::cli
