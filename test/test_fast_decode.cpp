// The decoder's one-pass path (detail::fast_decode) against the general path: it takes the
// messages of the request path in the shapes our encoder and the TypeScript client write, gives
// exactly the message the general path gives, and declines everything else, so that the
// decoder's results and errors never depend on which path ran. Mutations of every sample
// (thousands of texts, a fixed sequence) are decoded both ways and compared.
#define BOOST_TEST_MODULE fast_decode
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "codec_golden.hpp"
#include "codec_samples.hpp"

#include <neolith/core/detail/small_rng.hpp>
#include <neolith/protocol/detail/fast_decode.hpp>
#include <neolith/protocol/detail/json_read.hpp>
#include <neolith/protocol/messages.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace neolith;

namespace {

decode_options general_only() {
  decode_options o;
  o.fast_path = false;
  return o;
}

// Decodes `text` with both paths; checks that they agree (result, error code, envelope).
// Returns whether the fast path took it.
bool agree(const std::string& text) {
  static decoder fast;
  static decoder general(general_only());
  message m;
  const bool taken = detail::fast_decode(text, m);
  auto a = fast.decode(text);
  auto b = general.decode(text);
  BOOST_TEST_REQUIRE(a.has_value() == b.has_value(), text);
  if (a) {
    BOOST_TEST((a.value() == b.value()), text);
    if (taken) BOOST_TEST((m == b.value()), text);
  } else {
    BOOST_TEST(!taken, text);
    BOOST_TEST(a.error().code == b.error().code, text);
    BOOST_TEST(a.error().what() == b.error().what(), text);
  }
  BOOST_TEST((fast.request_id() == general.request_id()), text);
  BOOST_TEST((fast.request_type() == general.request_type()), text);
  return taken;
}

bool handled(message_type t) {
  switch (t) {
    case message_type::get_health:
    case message_type::get_sessions:
    case message_type::get_node_info:
    case message_type::get_session:
    case message_type::terminate_session:
    case message_type::health_response:
    case message_type::session_state:
    case message_type::session_spawned:
    case message_type::session_updated:
    case message_type::session_terminated:
    case message_type::session_restored:
    case message_type::heartbeat_ack:
    case message_type::error: return true;
    default: return false;
  }
}

// Every sample, encoded; and the golden texts.
std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  for (bool full : {false, true}) {
    for (const auto& m : samples::all_messages(full)) texts.push_back(encode(m));
  }
  for (const auto& e : golden::examples) texts.emplace_back(e.json);
  return texts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(takes_the_hot_messages_and_gives_the_same_message) {
  std::size_t taken = 0;
  for (bool full : {false, true}) {
    for (auto m : samples::all_messages(full)) {
      // The hot shapes: sessions without free-form content.
      if (auto* s = std::get_if<msg::session_state>(&m); s && s->session) *s->session = samples::make_session(false);
      if (auto* s = std::get_if<msg::session_spawned>(&m)) s->session = samples::make_session(false);
      if (auto* s = std::get_if<msg::session_updated>(&m)) s->session = samples::make_session(false);
      const std::string text = encode(m);
      const bool t = agree(text);
      if (handled(type_of(m))) {
        BOOST_TEST(t, text);
        taken += t ? 1 : 0;
      } else {
        BOOST_TEST(!t, text);
      }
    }
  }
  BOOST_TEST(taken >= 20u);
}

BOOST_AUTO_TEST_CASE(sessions_with_memory_entries_and_null_sessions) {
  msg::session_state found;
  found.request_id = "r-1";
  found.session_id = "session-1";
  found.session = samples::make_session(true);
  found.session->memory.scratchpad = {};  // free-form content declines; entries do not
  for (auto& e : found.session->memory.episodic) e.metadata.reset();
  found.session->task.metadata.reset();
  BOOST_TEST(agree(encode(message(found))));
  msg::session_state unknown;
  unknown.request_id = "r-2";
  unknown.session_id = "nope";
  const std::string text = encode(message(unknown));
  BOOST_TEST(text.find("\"session\":null") != std::string::npos);
  BOOST_TEST(agree(text));
}

BOOST_AUTO_TEST_CASE(every_session_type_spelling_is_kept_both_ways) {
  // claude-flow and ruflo are one kind of session, but each is read as spelled, by both paths.
  for (session_type t : {session_type::claude_code, session_type::claude_flow, session_type::ruflo}) {
    msg::session_spawned m;
    m.request_id = "r";
    m.session = samples::make_session(false);
    m.session.type = t;
    const std::string text = encode(message(m));
    BOOST_TEST(text.find("\"type\":\"" + std::string(to_string(t)) + "\"") != std::string::npos, text);
    BOOST_TEST(agree(text), text);  // the fast path takes it
    message fast;
    BOOST_TEST_REQUIRE(detail::fast_decode(text, fast));
    BOOST_TEST((std::get<msg::session_spawned>(fast).session.type == t));
  }
}

BOOST_AUTO_TEST_CASE(unknown_types_are_the_same_error_both_ways) {
  // A newer daemon's push: unknown_type from both paths, with the same requestId and type
  // (a node passes such a message on as a `message` event).
  for (const char* t : {R"({"type":"custom_push","payload":{"a":[1,2.5,"x"],"n":null}})",
                        R"({"type":"custom_push","requestId":"r-9"})",
                        R"({"payload":{},"type":"custom_push"})"}) {
    BOOST_TEST(!agree(t), t);
    static decoder fast;
    auto r = fast.decode(t);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == error::unknown_type, t);
    BOOST_TEST((fast.request_type() == std::optional<std::string>("custom_push")), t);
  }
}

BOOST_AUTO_TEST_CASE(escaped_strings_and_keys_in_any_order_after_type) {
  BOOST_TEST(agree(R"({"type":"get_session","requestId":"a\"b\\c\u00e9\ud83d\ude00","sessionId":"s\n1"})"));
  BOOST_TEST(agree(R"(  {"type" : "health_response" , "health":{"uptime":5,"lastHeartbeat":"2026-11-29T08:47:57Z",)"
                   R"("responseTime":1.5e1,"activeSessions":2,"memoryUsage":40,"cpuUsage":12.25,"status":"healthy"}} )"));
  BOOST_TEST(agree(R"({"type":"error","error":"boom","code":"internal"})"));
  BOOST_TEST(agree(R"({"type":"heartbeat_ack","timestamp":1795942077123,"requestId":"h"})"));
}

// The one-pass path has a JSON reader of its own: its edges, each compared with the general
// path (Boost.JSON): UTF-8 well-formedness (Unicode's table 3-7), escapes and surrogate pairs,
// the forms of numbers, whitespace, truncation at every byte.
BOOST_AUTO_TEST_CASE(its_reader_agrees_with_boost_json_at_the_edges) {
  const auto with_id = [](const std::string& raw) {
    return "{\"type\":\"get_session\",\"sessionId\":\"" + raw + "\",\"requestId\":\"r\"}";
  };
  const char* strings[] = {
      "plain", "", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xF0\x90\x80\x80",
      "\xF4\x8F\xBF\xBF", "\xC1\xBF", "\xC0\x80", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xF0\x8F\xBF\xBF",
      "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80", "\xC2", "\xE0\xA0", "\xF0\x90\x80", "\xC2" "A",
      "12345678\xC3\xA9" "abcdefgh", "\\u0000", "\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\\ud83d", "\\ude00",
      "\\ud83d\\u0041", "\\ud83dx", "\\u12", "\\u12g4", "\\x", "\\/\\b\\f\\n\\r\\t\\\"\\\\", "tab\there",
      "a\x01" "b", "\x7f", "0123456789abcdef\\n0123456789abcdef",
  };
  std::size_t taken = 0;
  for (const char* raw : strings) taken += agree(with_id(raw)) ? 1 : 0;
  BOOST_TEST(taken == 17u);  // every well-formed one (the rest decline, and the general path fails)

  const auto with_stamp = [](const std::string& n) {
    return "{\"type\":\"heartbeat_ack\",\"timestamp\":" + n + ",\"requestId\":\"r\"}";
  };
  const auto with_figure = [](const std::string& n) {
    return "{\"type\":\"health_response\",\"health\":{\"status\":\"healthy\",\"cpuUsage\":" + n +
           ",\"memoryUsage\":1,\"activeSessions\":1,\"responseTime\":1,\"lastHeartbeat\":\"2026-11-29T08:47:57Z\","
           "\"uptime\":1}}";
  };
  const char* numbers[] = {"0",    "-0",    "7",     "-7",         "01",   "-01",  "1.",       ".5",     "1.5",  "-1.5",
                           "1e3",  "1E+3",  "1e-3",  "1e",         "1e+",  "-",    "+1",       "0x10",   "1.5e",
                           "123456789012345678",   "1234567890123456789",   "9223372036854775807",
                           "-9223372036854775808", "18446744073709551616",  "1e400", "4.9e-324", "0.1",
                           "12.345678901234567890", "00", "1..2", "1.2.3", "Infinity", "NaN"};
  for (const char* n : numbers) {
    agree(with_stamp(n));
    agree(with_figure(n));
  }

  // Whitespace where JSON allows it, and a truncation at every byte of a message.
  BOOST_TEST(agree(" \t\r\n{ \"type\" :\t\"get_health\" ,\n\"requestId\" : \"r\" }\r\n"));
  BOOST_TEST(!agree("{\"type\":\"get_health\"}\x0b"));
  const std::string whole = with_figure("12.5");
  BOOST_TEST(agree(whole));
  for (std::size_t n = 0; n < whole.size(); ++n) BOOST_TEST(!agree(whole.substr(0, n)));
}

// The exact reading of numbers has a short path for plain decimals (Clinger's: at most 15
// significant digits, 22 decimals, no exponent); it must give the very double from_chars does.
BOOST_AUTO_TEST_CASE(short_decimals_read_as_from_chars_reads_them) {
  neolith::detail::small_rng next(7);
  char buf[64];
  const auto same = [](std::string_view t) {
    double a = 0, b = 0;
    const bool ok = detail::read_double_exact(t, a);
    const auto r = std::from_chars(t.data(), t.data() + t.size(), b, std::chars_format::general);
    const bool ok2 = r.ec == std::errc() && r.ptr == t.data() + t.size();
    if (ok != ok2) return false;
    return !ok || std::memcmp(&a, &b, sizeof a) == 0;  // bit for bit: -0.0 stays -0.0
  };
  std::size_t checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(next() % 17);
    const int decimals = static_cast<int>(next() % (digits + 1));
    std::uint64_t mant = next() % 100000000000000000ull;
    std::string d = std::to_string(mant);
    if (static_cast<int>(d.size()) > digits) d.resize(static_cast<std::size_t>(digits));
    std::string t = (next() % 4 == 0 ? "-" : "") + d.substr(0, d.size() - static_cast<std::size_t>(std::min<int>(decimals, static_cast<int>(d.size()))));
    if (t.empty() || t == "-") t += "0";
    if (decimals > 0 && decimals <= static_cast<int>(d.size())) t += "." + d.substr(d.size() - static_cast<std::size_t>(decimals));
    BOOST_TEST(same(t), t);
    ++checked;
  }
  const char* edges[] = {"0.1", "0.3", "-0.0", "0.0", "9007199254740993", "999999999999999.9", "123456789012345.6",
                         "0.0000000000000000000001", "0.00000000000000000000001", "1.7976931348623157", "5e-324",
                         "1e22", "1e23", "00.5", "1.", ".5", "-.5", "-", ".", "", "1.2.3", "1,5", "inf", "nan"};
  for (const char* e : edges) BOOST_TEST(same(e), e);
  std::snprintf(buf, sizeof buf, "%.17g", 0.1 + 0.2);
  BOOST_TEST(same(buf));
  BOOST_TEST(checked == 200000u);
}

BOOST_AUTO_TEST_CASE(declines_what_it_does_not_describe) {
  const char* declined[] = {
      R"({"requestId":"r","type":"get_health"})",                        // type not first
      R"({"type":"get_health","requestId":"r","extra":1})",              // unknown key
      R"({"type":"get_health","requestId":"r","requestId":"s"})",        // repeated key
      R"({"type":"get_health","type":"get_health"})",                    // repeated type
      R"({"type":"get_health","requestId":null})",                       // null
      R"({"type":"get_health","requestId":7})",                          // ill-typed
      R"({"type":"get_session"})",                                       // missing field
      R"({"type":"heartbeat_ack","timestamp":1.0})",                     // a double for an integer
      R"({"type":"heartbeat_ack","timestamp":18446744073709551615})",    // beyond int64
      R"({"type":"health_response","health":{"status":"fine","cpuUsage":1,"memoryUsage":1,"activeSessions":1,)"
      R"("responseTime":1,"lastHeartbeat":"2026-11-29T08:47:57Z","uptime":1}})",  // bad enum
      R"({"type":"health_response","health":{"status":"healthy","cpuUsage":1e999,"memoryUsage":1,"activeSessions":1,)"
      R"("responseTime":1,"lastHeartbeat":"2026-11-29T08:47:57Z","uptime":1}})",  // out of range
      R"({"type":"spawn_session","request":{}})",                        // a type it does not handle
      R"({"type":"nope"})",
      R"({"type":"get_health",})",                                       // invalid JSON
      R"({"type":"get_health"} x)",
      R"(["get_health"])",
      R"("get_health")",
      R"({"type":"get_health"/*c*/})",
      "{\"type\":\"get_session\",\"sessionId\":\"\xff\"}",              // invalid UTF-8
      "",
  };
  for (const char* t : declined) {
    message m;
    BOOST_TEST(!detail::fast_decode(t, m), t);
    agree(t);
  }
}

BOOST_AUTO_TEST_CASE(mutations_decode_the_same_both_ways) {
  // Each text of the corpus, mutated at every position in a few ways (a fixed sequence): the
  // two paths agree on every one, whichever path ran.
  const std::string inserts[] = {"null", "1", "1.5", "-0", "\"x\"", "{}", "[]", "true", ",", ":", "\"type\":\"get_health\",",
                                 "\\u0041", "\"requestId\":\"z\","};
  neolith::detail::small_rng next(42);  // a fixed sequence, not luck
  std::size_t texts = 0;
  std::size_t taken = 0;
  for (const std::string& base : corpus()) {
    for (int i = 0; i < 120; ++i) {
      std::string t = base;
      const std::size_t at = static_cast<std::size_t>(next() % (t.size() + 1));
      switch (next() % 5) {
        case 0: if (at < t.size()) t.erase(at, 1); break;
        case 1: t.insert(at, inserts[next() % std::size(inserts)]); break;
        case 2: if (at < t.size()) t[at] = static_cast<char>(next() % 128); break;
        case 3: t.insert(at, t.substr(at, static_cast<std::size_t>(next() % 24))); break;  // repeat a piece
        default: if (at < t.size()) t.erase(at, static_cast<std::size_t>(next() % 16)); break;
      }
      taken += agree(t) ? 1 : 0;
      ++texts;
    }
  }
  BOOST_TEST_MESSAGE(texts << " mutated texts, " << taken << " taken by the fast path");
  BOOST_TEST(texts > 5000u);
  BOOST_TEST(taken > 100u);  // the mutations that keep a valid hot message (a changed id, ...)
}
