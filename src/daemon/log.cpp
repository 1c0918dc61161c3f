#include <neolith/daemon/log.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include <ctime>

namespace neolith {

std::string_view to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "info";
}

std::optional<log_level> parse_log_level(std::string_view s) noexcept {
  for (auto l : {log_level::debug, log_level::info, log_level::warning, log_level::error, log_level::off})
    if (s == to_string(l)) return l;
  if (s == "warn") return log_level::warning;
  return std::nullopt;
}

std::string_view to_string(log_format f) noexcept { return f == log_format::json ? "json" : "text"; }

std::optional<log_format> parse_log_format(std::string_view s) noexcept {
  if (s == "text") return log_format::text;
  if (s == "json") return log_format::json;
  return std::nullopt;
}

namespace {

void append_stamp(std::string& out, std::chrono::system_clock::time_point ts) {
  const std::time_t t = std::chrono::system_clock::to_time_t(ts);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[40];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(stamp, n);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms < 0 ? ms + 1000 : ms));
  out += frac;
}

/// Calls f(name, text, quoted) for every field of `r` that is set, in a fixed order.
template <class F>
void for_each_field(const log_record& r, F&& f) {
  if (!r.node.empty()) f("node", r.node, true);
  if (r.connection != 0) f("connection", std::to_string(r.connection), false);
  if (!r.session.empty()) f("session", r.session, true);
  if (!r.request_id.empty()) f("requestId", r.request_id, true);
  if (!r.status.empty()) f("status", r.status, true);
  if (!r.error.empty()) f("error", r.error, true);
  if (r.code != 0) f("code", std::to_string(r.code), false);
  if (!r.reason.empty()) f("reason", r.reason, true);
  if (!r.peer.empty()) f("peer", r.peer, true);
}

}  // namespace

std::string format_log_line(const log_record& r, log_format f, std::chrono::system_clock::time_point ts) {
  std::string out;
  out.reserve(128 + r.message.size());
  if (f == log_format::json) {
    const auto quote = [&](std::string_view v) { out += boost::json::serialize(boost::json::string_view(v.data(), v.size())); };
    out += "{\"ts\":\"";
    append_stamp(out, ts);
    out += "\",\"level\":\"";
    out += to_string(r.level);
    out += "\",\"event\":";
    quote(r.event.empty() ? std::string_view("log") : r.event);
    for_each_field(r, [&](std::string_view name, std::string_view v, bool quoted) {
      out += ",\"";
      out += name;
      out += "\":";
      if (quoted) quote(v);
      else out += v;
    });
    if (!r.message.empty()) {
      out += ",\"message\":";
      quote(r.message);
    }
    out += '}';
    return out;
  }
  append_stamp(out, ts);
  out += ' ';
  out += to_string(r.level);
  out += ' ';
  out += r.event.empty() ? std::string_view("log") : r.event;
  for_each_field(r, [&](std::string_view name, std::string_view v, bool quoted) {
    out += ' ';
    out += name;
    out += '=';
    const bool plain = !quoted || (!v.empty() && v.find_first_of(" \"\n\\=") == std::string_view::npos);
    if (plain) out += v;
    else out += boost::json::serialize(boost::json::string_view(v.data(), v.size()));
  });
  if (!r.message.empty()) {
    out += ": ";
    for (char c : r.message) out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

}  // namespace neolith
