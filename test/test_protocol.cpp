// The protocol codec: golden messages of the TypeScript client, round trips of every message,
// every class of bad input, and the decoder's memory reuse.
#define BOOST_TEST_MODULE protocol
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "codec_golden.hpp"
#include "codec_print.hpp"
#include "codec_samples.hpp"

#include <neolith/protocol/json.hpp>
#include <neolith/protocol/messages.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <cstdlib>
#include <fstream>
#include <new>
#include <set>
#include <sstream>
#include <string>

// ----- Allocation counting (for the decoder's memory reuse) ------------------------------
namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace neolith;
namespace json = boost::json;

namespace {

json::value parse(std::string_view text) { return json::parse(text); }

// Decodes `text` and checks the error, the message prefix and the kept envelope.
void check_bad(decoder& d, std::string_view text, error expected, std::string_view message_prefix,
               std::optional<std::string> id, std::optional<std::string> type) {
  const auto r = d.decode(text);
  BOOST_TEST_REQUIRE(!r.has_value(), "accepted: " << text);
  BOOST_TEST(r.error() == expected, text << " gave " << r.error().what());
  BOOST_TEST(r.error().message.rfind(message_prefix, 0) == 0u,
             "message '" << r.error().message << "' does not start with '" << message_prefix << "'");
  BOOST_TEST(!r.error().message.empty());
  BOOST_TEST((d.request_id() == id), "request_id " << d.request_id().value_or("(none)"));
  BOOST_TEST((d.request_type() == type), "request_type " << d.request_type().value_or("(none)"));
}

void check_bad(std::string_view text, error expected, std::string_view message_prefix,
               std::optional<std::string> id = std::nullopt, std::optional<std::string> type = std::nullopt) {
  decoder d;
  check_bad(d, text, expected, message_prefix, std::move(id), std::move(type));
}

std::string nested(std::size_t depth) {
  std::string s(depth, '[');
  s.append(depth, ']');
  return s;
}

}  // namespace

// ===== Names and envelope ==================================================================

BOOST_AUTO_TEST_CASE(message_type_names) {
  std::set<std::string_view> names;
  for (int i = 0; i < 18; ++i) {
    const auto t = static_cast<message_type>(i);
    const auto name = to_string(t);
    BOOST_TEST(names.insert(name).second);
    BOOST_TEST((parse_message_type(name) == t));
    BOOST_TEST(golden::examples[static_cast<std::size_t>(i)].type == name);
  }
  BOOST_TEST(to_string(message_type::heartbeat_ack) == "heartbeat_ack");
  BOOST_TEST(to_string(message_type::error) == "error");
  BOOST_TEST(to_string(static_cast<message_type>(18)) == "unknown");
  BOOST_TEST(!parse_message_type("Heartbeat").has_value());
  BOOST_TEST(!parse_message_type("").has_value());
  BOOST_TEST(!parse_message_type("unknown").has_value());
}

BOOST_AUTO_TEST_CASE(type_of_and_request_ids) {
  auto all = samples::all_messages(false);
  BOOST_TEST_REQUIRE(all.size() == 18u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    BOOST_TEST((type_of(all[i]) == static_cast<message_type>(i)));
    BOOST_TEST(!request_id_of(all[i]).has_value());
    set_request_id(all[i], "id-" + std::to_string(i));
    BOOST_TEST(request_id_of(all[i]).value() == "id-" + std::to_string(i));
    const auto text = encode(all[i]);
    const std::string tail = ",\"requestId\":\"id-" + std::to_string(i) + "\"}";
    BOOST_TEST(text.substr(text.size() - tail.size()) == tail);
    set_request_id(all[i], std::nullopt);
    BOOST_TEST(!request_id_of(all[i]).has_value());
    BOOST_TEST(encode(all[i]).find("requestId") == std::string::npos);
  }
}

// ===== Golden messages =====================================================================

BOOST_AUTO_TEST_CASE(golden_messages_decode_and_reencode_to_the_same_json) {
  decoder d;
  for (const auto& ex : golden::examples) {
    BOOST_TEST_CONTEXT("golden " << ex.type) {
      const auto r = d.decode(ex.json);
      BOOST_TEST_REQUIRE(r.has_value(), why(r));
      BOOST_TEST(to_string(type_of(r.value())) == ex.type);
      BOOST_TEST(d.request_type().value_or("") == ex.type);
      const auto text = encode(r.value());
      BOOST_TEST(parse(text) == parse(ex.json), "encoded " << text);
      BOOST_TEST(json::value(to_json(r.value())) == parse(ex.json));
      // Writers put `type` first and `requestId` last, as the TypeScript client does.
      BOOST_TEST(text.rfind("{\"type\":\"" + std::string(ex.type) + "\"", 0) == 0u);
      const auto& id = request_id_of(r.value());
      if (id) {
        BOOST_TEST(text.size() >= id->size() + 16);
        BOOST_TEST(text.substr(text.size() - id->size() - 16) == ",\"requestId\":\"" + *id + "\"}");
        BOOST_TEST(d.request_id().value_or("") == *id);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(golden_spawn_session_byte_for_byte) {
  msg::spawn_session m;
  m.request_id = "spawn_session_1795942077123_0.5";
  m.request.orchestrator_id = "orch-1";
  m.request.task.id = "task-1";
  m.request.task.type = task_type::code;
  m.request.task.description = "Refactor the parser";
  m.request.task.priority = task_priority::high;
  m.request.task.status = task_status::pending;
  m.request.task.created_at = samples::t0();
  m.request.task.updated_at = samples::t0();
  m.request.type = session_type::claude_code;
  m.request.memory_profile = "default";
  m.request.priority = task_priority::high;
  BOOST_TEST(encode(m) == golden::spawn_session);
  // encode(m, out) appends.
  std::string out = "prefix:";
  encode(m, out);
  BOOST_TEST(out == "prefix:" + std::string(golden::spawn_session));
  // And the golden text decodes to exactly this value.
  const auto back = decode(golden::spawn_session);
  BOOST_TEST_REQUIRE(back.has_value(), why(back));
  BOOST_TEST((std::get<msg::spawn_session>(back.value()) == m));
}

BOOST_AUTO_TEST_CASE(golden_values_are_read_correctly) {
  const auto state = decode(golden::examples[9].json);
  BOOST_TEST_REQUIRE(state.has_value());
  const auto& s = std::get<msg::session_state>(state.value());
  BOOST_TEST(s.session_id == "session-404");
  BOOST_TEST(!s.session.has_value());
  BOOST_TEST(encode(state.value()).find("\"session\":null") != std::string::npos);

  const auto ack = decode(golden::examples[14].json);
  BOOST_TEST_REQUIRE(ack.has_value());
  BOOST_TEST(std::get<msg::heartbeat_ack>(ack.value()).time == 1795942077123);
  BOOST_TEST(!request_id_of(ack.value()).has_value());

  const auto hb = decode(golden::examples[7].json);
  BOOST_TEST_REQUIRE(hb.has_value());
  const auto& h = std::get<msg::heartbeat>(hb.value());
  BOOST_TEST((h.time == samples::t0()));
  BOOST_TEST_REQUIRE(h.health.has_value());
  BOOST_TEST((h.health->status == node_status::healthy));
  BOOST_TEST(h.health->cpu_usage == 12.5);
  BOOST_TEST(h.health->active_sessions == 3);

  const auto restore = decode(golden::examples[3].json);
  BOOST_TEST_REQUIRE(restore.has_value());
  const auto& ser = std::get<msg::restore_session>(restore.value()).serialized;
  BOOST_TEST((ser.session.type == session_type::claude_flow));
  BOOST_TEST(ser.session.memory.semantic.at(0).metadata->at("confidence") == 0.9);
  BOOST_TEST(ser.memory_snapshot.at("vectors").as_array().size() == 2u);
  BOOST_TEST(ser.metadata.node_id == "node-a");
  BOOST_TEST(ser.session.metrics.average_response_time == 420.5);

  const auto err = decode(golden::examples[17].json);
  BOOST_TEST_REQUIRE(err.has_value());
  const auto& e = std::get<msg::error>(err.value());
  BOOST_TEST(e.code == "capacity_exceeded");
  BOOST_TEST(e.request_type.value_or("") == "spawn_session");
  BOOST_TEST((error_from_wire_code(e.code) == error::capacity_exceeded));

  const auto info = decode(golden::examples[15].json);
  BOOST_TEST_REQUIRE(info.has_value());
  const auto& n = std::get<msg::node_info>(info.value());
  BOOST_TEST(n.protocol == 1);
  BOOST_TEST(n.capabilities.custom_capabilities->at("docker"));
}

BOOST_AUTO_TEST_CASE(golden_messages_are_documented) {
  const char* source = std::getenv("NEOLITH_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source != nullptr, "NEOLITH_SOURCE_DIR is not set");
  std::ifstream in(std::string(source) + "/docs/protocol.md");
  BOOST_TEST_REQUIRE(in.good(), "cannot read docs/protocol.md");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string doc = buf.str();
  // Every ```json block of the document that parses is a candidate.
  std::vector<json::value> blocks;
  for (std::size_t pos = doc.find("```json\n"); pos != std::string::npos; pos = doc.find("```json\n", pos)) {
    pos += 8;
    const std::size_t end = doc.find("```", pos);
    BOOST_TEST_REQUIRE(end != std::string::npos);
    boost::system::error_code ec;
    auto v = json::parse(doc.substr(pos, end - pos), ec);
    if (!ec) blocks.push_back(std::move(v));
    pos = end + 3;
  }
  for (const auto& ex : golden::examples) {
    const auto expected = parse(ex.json);
    bool found = false;
    for (const auto& b : blocks) found = found || b == expected;
    BOOST_TEST(found, "docs/protocol.md lacks the golden " << ex.type << " example");
  }
}

// ===== Round trips ========================================================================

BOOST_AUTO_TEST_CASE(every_message_round_trips) {
  decoder d;
  for (bool full : {true, false}) {
    for (const auto& m : samples::all_messages(full)) {
      BOOST_TEST_CONTEXT(to_string(type_of(m)) << (full ? " (full)" : " (minimal)")) {
        const auto text = encode(m);
        const auto back = d.decode(text);
        BOOST_TEST_REQUIRE(back.has_value(), why(back));
        BOOST_TEST((back.value() == m));
        BOOST_TEST(encode(back.value()) == text);
        BOOST_TEST(json::value(to_json(m)) == parse(text));
        // The one-shot decode agrees.
        const auto again = decode(text);
        BOOST_TEST_REQUIRE(again.has_value());
        BOOST_TEST((again.value() == m));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(optional_fields_absent_are_omitted) {
  for (const auto& m : samples::all_messages(false)) {
    const auto text = encode(m);
    if (type_of(m) == message_type::session_state) {
      BOOST_TEST(text == R"({"type":"session_state","sessionId":"session-1","session":null})");
    } else {
      BOOST_TEST(text.find("null") == std::string::npos, text);
    }
  }
  BOOST_TEST(encode(msg::heartbeat{}) == R"({"type":"heartbeat"})");
  BOOST_TEST(encode(msg::get_health{}) == R"({"type":"get_health"})");
  BOOST_TEST(encode(msg::heartbeat_ack{std::nullopt, -5}) == R"({"type":"heartbeat_ack","timestamp":-5})");
}

BOOST_AUTO_TEST_CASE(large_and_unicode_messages_round_trip) {
  msg::session_spawned m{std::string("id-\xe6\x97\xa5"), "s", samples::make_session(true)};
  m.session.task.description = std::string("日本語 🚀 \"\\\n") + std::string(1, '\0') + std::string(200000, 'x');
  const auto text = encode(m);
  BOOST_TEST(text.find("\\u0000") != std::string::npos);
  const auto back = decode(text);
  BOOST_TEST_REQUIRE(back.has_value(), why(back));
  BOOST_TEST((back.value() == message(m)));
  const auto list = samples::many_sessions(100);
  const auto list_back = decode(encode(list));
  BOOST_TEST_REQUIRE(list_back.has_value());
  BOOST_TEST((std::get<msg::sessions_response>(list_back.value()) == list));
}

BOOST_AUTO_TEST_CASE(numbers_are_read_exactly) {
  // Boost 1.81's parser reads some doubles one unit in the last place off; the decoder rounds
  // correctly, so what JavaScript writes is read as the number it meant (found by fuzz_decode).
  const auto cpu = [](std::string_view number) {
    const std::string text = R"({"type":"health_response","health":{"status":"healthy","cpuUsage":)" + std::string(number) +
                             R"(,"memoryUsage":1,"activeSessions":1,"responseTime":1,"lastHeartbeat":"2026-11-29","uptime":1}})";
    const auto r = decode(text);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    return std::get<msg::health_response>(r.value()).health.cpu_usage;
  };
  BOOST_TEST(cpu("91.25888888888889") == 91.25888888888889);
  BOOST_TEST(cpu("9.125888888888889E1") == 91.25888888888889);
  BOOST_TEST(cpu("91.258888888888888888888888888888888888888888888") == 91.258888888888888888888888888888888888888888888);
  BOOST_TEST(cpu("0.1") == 0.1);
  BOOST_TEST(cpu("2.2250738585072014e-308") == 2.2250738585072014e-308);
  BOOST_TEST(cpu("5e-324") == 5e-324);
  BOOST_TEST(cpu("1.7976931348623157e308") == 1.7976931348623157e308);
  BOOST_TEST(cpu("1e-999") == 0.0);  // underflow: zero, as JSON.parse
  BOOST_TEST(cpu("-1e-400") == 0.0);
  BOOST_TEST(cpu("123456789012345678901234567890") == 123456789012345678901234567890.0);

  // Random doubles of every magnitude: encode writes the shortest form, decode reads it back
  // bit for bit.
  std::mt19937_64 rng(20261129);
  decoder d;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t bits = rng();
    double x = 0;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x) || x == 0) continue;
    msg::health_response m;
    m.health.cpu_usage = x;
    const auto back = d.decode(encode(m));
    BOOST_TEST_REQUIRE(back.has_value(), why(back));
    const double y = std::get<msg::health_response>(back.value()).health.cpu_usage;
    BOOST_TEST_REQUIRE(std::memcmp(&x, &y, sizeof x) == 0, "lost precision: " << encode(m));
    ++checked;
  }
  BOOST_TEST(checked > 19000);
  // The fuzzer's finding, end to end.
  const auto found = decode(R"({"type":"health_response","health":{"status":"degraded","cpuUsage":91.258888888888888888888888888888888888888888888,"memoryUsage":77.5,"activeSessions":10,"responseTime":12,"lastHeartbeat":"2026-11-29T08:47:57.123Z","uptime":86400},"requestId":"r"})");
  BOOST_TEST_REQUIRE(found.has_value());
  const auto again = decode(encode(found.value()));
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST((again.value() == found.value()));
}

BOOST_AUTO_TEST_CASE(encode_always_writes_valid_utf8) {
  // C++ strings may hold any bytes; the text frame must be UTF-8. Invalid bytes become U+FFFD.
  const std::string bad = std::string("ok \xff|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe6\x97|") + "日本語 🚀";
  msg::get_session m{std::string("r\x80"), bad};
  const auto text = encode(m);
  json::parser p;
  boost::system::error_code ec;
  p.write(text, ec);
  BOOST_TEST(!ec, "invalid UTF-8 written: " << ec.message());
  const auto back = decode(text);
  BOOST_TEST_REQUIRE(back.has_value(), why(back));
  const std::string r = "\xEF\xBF\xBD";
  BOOST_TEST(std::get<msg::get_session>(back.value()).session_id ==
             "ok " + r + "|" + r + r + "|" + r + r + r + "|" + r + r + r + r + "|" + r + r + "|日本語 🚀");
  BOOST_TEST(request_id_of(back.value()).value() == "r" + r);
  // Valid text, even with every kind of sequence, is written unchanged; a prefix is kept.
  msg::get_session good{std::nullopt, "a\xc2\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xee\x80\x80"};
  std::string out = "\xff prefix:";
  encode(good, out);
  BOOST_TEST(out == "\xff prefix:" + encode(good));
  BOOST_TEST(std::get<msg::get_session>(decode(encode(good)).value()).session_id == good.session_id);
}

BOOST_AUTO_TEST_CASE(lenient_reading) {
  // Fields in any order, requestId anywhere, extra fields ignored, null read as absent.
  const auto r = decode(R"({"requestId":"r1","sessionId":"s1","extra":{"a":[1,2]},"type":"get_session","future":null})");
  BOOST_TEST_REQUIRE(r.has_value(), why(r));
  BOOST_TEST(std::get<msg::get_session>(r.value()).session_id == "s1");
  BOOST_TEST(request_id_of(r.value()).value_or("") == "r1");
  const auto null_id = decode(R"({"type":"get_health","requestId":null})");
  BOOST_TEST_REQUIRE(null_id.has_value());
  BOOST_TEST(!request_id_of(null_id.value()).has_value());
  // heartbeat: timestamp as an ISO string or a number of milliseconds; both fields optional.
  const auto hb_number = decode(R"({"type":"heartbeat","timestamp":1795942077123})");
  BOOST_TEST_REQUIRE(hb_number.has_value());
  BOOST_TEST((std::get<msg::heartbeat>(hb_number.value()).time == samples::t0()));
  const auto hb_double = decode(R"({"type":"heartbeat","timestamp":1795942077123.0})");
  BOOST_TEST_REQUIRE(hb_double.has_value());
  BOOST_TEST((std::get<msg::heartbeat>(hb_double.value()).time == samples::t0()));
  const auto hb_offset = decode(R"({"type":"heartbeat","timestamp":"2026-11-29T10:47:57.123+02:00"})");
  BOOST_TEST_REQUIRE(hb_offset.has_value());
  BOOST_TEST((std::get<msg::heartbeat>(hb_offset.value()).time == samples::t0()));
  // Written as a number of ms, as the TypeScript client declares it (a date string read back too).
  BOOST_TEST(encode(hb_number.value()) == R"({"type":"heartbeat","timestamp":1795942077123})");
  BOOST_TEST(encode(hb_offset.value()) == R"({"type":"heartbeat","timestamp":1795942077123})");
  const auto hb_null = decode(R"({"type":"heartbeat","timestamp":null,"health":null})");
  BOOST_TEST_REQUIRE(hb_null.has_value());
  BOOST_TEST((std::get<msg::heartbeat>(hb_null.value()) == msg::heartbeat{}));
  // session_state without `session` at all is an unknown session too.
  const auto state = decode(R"({"type":"session_state","sessionId":"s"})");
  BOOST_TEST_REQUIRE(state.has_value());
  BOOST_TEST(!std::get<msg::session_state>(state.value()).session.has_value());
  // ruflo.
  std::string ruflo(golden::spawn_session);
  ruflo.replace(ruflo.find("claude-code"), 11, "ruflo");
  const auto spawn = decode(ruflo);
  BOOST_TEST_REQUIRE(spawn.has_value());
  BOOST_TEST((std::get<msg::spawn_session>(spawn.value()).request.type == session_type::ruflo));
  BOOST_TEST(encode(spawn.value()) == ruflo);  // written back as received
  // Duplicate keys: the last one wins, as in JavaScript.
  const auto dup = decode(R"({"type":"get_session","sessionId":"a","sessionId":"b"})");
  BOOST_TEST_REQUIRE(dup.has_value());
  BOOST_TEST(std::get<msg::get_session>(dup.value()).session_id == "b");
  // Whitespace around the message.
  BOOST_TEST(decode(" \n\t{\"type\":\"get_health\"} \r\n").has_value());
}

BOOST_AUTO_TEST_CASE(non_finite_numbers) {
  // JSON.parse reads 1e999 as Infinity; an ignored field may hold it.
  BOOST_TEST(decode(R"({"type":"get_health","x":1e999})").has_value());
  // A number field may not (no JSON writer could write it back).
  check_bad(R"({"type":"health_response","health":{"status":"healthy","cpuUsage":1e999,"memoryUsage":1,"activeSessions":2,"responseTime":1,"lastHeartbeat":"2026-11-29","uptime":1}})",
            error::number_out_of_range, "health.cpuUsage: the number is too large", std::nullopt, "health_response");
  check_bad(R"({"type":"heartbeat_ack","timestamp":-1e999})", error::number_out_of_range, "timestamp: ", std::nullopt, "heartbeat_ack");
  // Opaque objects keep them as null, as JSON.stringify writes them.
  std::string meta(golden::spawn_session);
  meta.replace(meta.find("\"createdAt\""), 11, R"("metadata":{"big":1e999,"list":[-1e999,1,{"x":1e400}]},"createdAt")");
  const auto r = decode(meta);
  BOOST_TEST_REQUIRE(r.has_value(), why(r));
  const auto& m = *std::get<msg::spawn_session>(r.value()).request.task.metadata;
  BOOST_TEST(m.at("big").is_null());
  BOOST_TEST(m.at("list").at(0).is_null());
  BOOST_TEST(m.at("list").at(1) == 1);
  BOOST_TEST(m.at("list").at(2).at("x").is_null());
  const auto text = encode(r.value());
  BOOST_TEST(text.find("Infinity") == std::string::npos, text);
  BOOST_TEST(text.find(R"("metadata":{"big":null,"list":[null,1,{"x":null}]})") != std::string::npos, text);
  BOOST_TEST(decode(text).has_value());
}

// ===== Bad input ==========================================================================

BOOST_AUTO_TEST_CASE(invalid_json) {
  for (std::string_view text : {std::string_view(""), std::string_view("{"), std::string_view("nope"),
                                std::string_view("{\"type\":\"get_health\",}"), std::string_view("{\"type\":\"get_health\"} {}"),
                                std::string_view("/* c */ {\"type\":\"get_health\"}"), std::string_view("{\"type\":'get_health'}"),
                                std::string_view("{\"type\":\"get_health\",\"x\":NaN}"),
                                std::string_view("{\"type\":\"get_health\",\"requestId\":\"\xff\xfe\"}"),
                                std::string_view("{\"type\":\"get_health\",\"requestId\":\"\xc0\xaf\"}"),
                                std::string_view("{\"type\":\"get_health\",\"requestId\":\"\\ud800\"}"),
                                std::string_view("{\"type\":\"get_health\",\"requestId\":\"a\x01\"}"),
                                std::string_view("{\"type\":\"get_health\"\0}", 22)}) {
    BOOST_TEST_CONTEXT("text: " << text) {
      // No requestId is readable from text that is not JSON.
      check_bad(text, error::invalid_json, "invalid JSON", std::nullopt, std::nullopt);
    }
  }
  // The wire code.
  BOOST_TEST(wire_code(error::invalid_json) == "invalid_json");
}

BOOST_AUTO_TEST_CASE(nesting_too_deep) {
  // 10,000 levels: an error, no stack overflow.
  check_bad(nested(10000), error::nesting_too_deep, "the JSON is nested deeper than 64 levels");
  std::string deep_field = R"({"type":"spawn_session","requestId":"r-deep","request":)" + nested(10000) + "}";
  check_bad(deep_field, error::nesting_too_deep, "the JSON is nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  objects += "1";
  objects.append(10000, '}');
  check_bad(objects, error::nesting_too_deep, "the JSON is nested");
  // Exactly the limit: the message object plus 63 levels inside is accepted.
  std::string at_limit = R"({"type":"get_health","extra":)" + nested(63) + "}";
  BOOST_TEST(decode(at_limit).has_value());
  std::string over_limit = R"({"type":"get_health","extra":)" + nested(64) + "}";
  check_bad(over_limit, error::nesting_too_deep, "the JSON is nested");
  // Opaque metadata is kept up to the limit.
  std::string meta = std::string(golden::spawn_session);
  std::string deep_meta = "\"metadata\":{\"m\":" + nested(59) + "},\"createdAt\"";
  meta.replace(meta.find("\"createdAt\""), 11, deep_meta);
  const auto with_meta = decode(meta);
  BOOST_TEST_REQUIRE(with_meta.has_value(), why(with_meta));
  BOOST_TEST(std::get<msg::spawn_session>(with_meta.value()).request.task.metadata.has_value());
  // A decoder with a smaller limit.
  decoder shallow(decode_options{default_max_message_bytes, 3});
  BOOST_TEST(shallow.decode(R"({"type":"get_health","x":[[[1]]]})").error() == error::nesting_too_deep);
  BOOST_TEST(shallow.decode(R"({"type":"get_health","x":[[1]]})").has_value());
  BOOST_TEST(wire_code(error::nesting_too_deep) == "invalid_json");
}

BOOST_AUTO_TEST_CASE(message_too_large) {
  const std::string text = R"({"type":"get_session","sessionId":"s","requestId":"r"})";
  decoder exact(decode_options{text.size(), max_json_depth});
  BOOST_TEST(exact.decode(text).has_value());
  decoder small(decode_options{text.size() - 1, max_json_depth});
  // Checked before parsing: nothing of the message is read.
  check_bad(small, text, error::message_too_large, "the message has 54 bytes, more than the maximum of 53",
            std::nullopt, std::nullopt);
  // The default limit is 1 MiB.
  decoder d;
  std::string big = R"({"type":"get_session","sessionId":")" + std::string(default_max_message_bytes, 'x') + "\"}";
  BOOST_TEST(d.decode(big).error() == error::message_too_large);
  std::string fits = R"({"type":"get_session","sessionId":")";
  fits += std::string(default_max_message_bytes - fits.size() - 2, 'x') + "\"}";
  BOOST_TEST(fits.size() == default_max_message_bytes);
  BOOST_TEST(d.decode(fits).has_value());
}

BOOST_AUTO_TEST_CASE(not_an_object) {
  check_bad("[]", error::not_an_object, "the message must be a JSON object, got an array");
  check_bad("[{\"type\":\"get_health\",\"requestId\":\"r\"}]", error::not_an_object, "the message must be a JSON object");
  check_bad("1", error::not_an_object, "the message must be a JSON object, got a number");
  check_bad("\"get_health\"", error::not_an_object, "the message must be a JSON object, got a string");
  check_bad("null", error::not_an_object, "the message must be a JSON object, got null");
  check_bad("true", error::not_an_object, "the message must be a JSON object, got a boolean");
}

BOOST_AUTO_TEST_CASE(envelope_errors) {
  check_bad("{}", error::missing_field, "type: required field is missing");
  check_bad(R"({"requestId":"r1"})", error::missing_field, "type: required field is missing", "r1", std::nullopt);
  check_bad(R"({"type":null,"requestId":"r1"})", error::missing_field, "type: required field is missing", "r1", std::nullopt);
  check_bad(R"({"type":5,"requestId":"r1"})", error::wrong_field_type, "type: expected a string, got a number", "r1", std::nullopt);
  check_bad(R"({"type":["get_health"],"requestId":"r1"})", error::wrong_field_type, "type: expected a string, got an array", "r1", std::nullopt);
  check_bad(R"({"type":"launch_rockets","requestId":"r1"})", error::unknown_type, "type: unknown message type \"launch_rockets\"", "r1", "launch_rockets");
  check_bad(R"({"type":"","requestId":"r1"})", error::unknown_type, "type: unknown message type \"\"", "r1", "");
  check_bad(R"({"type":"GET_HEALTH"})", error::unknown_type, "type: unknown message type", std::nullopt, "GET_HEALTH");
  // A requestId that is present but not a string.
  check_bad(R"({"type":"get_health","requestId":5})", error::wrong_field_type, "requestId: expected a string, got a number", std::nullopt, "get_health");
  check_bad(R"({"type":"get_health","requestId":{"id":"r"}})", error::wrong_field_type, "requestId: expected a string, got an object", std::nullopt, "get_health");
  check_bad(R"({"type":"get_health","requestId":true})", error::wrong_field_type, "requestId: expected a string", std::nullopt, "get_health");
  // An unknown type wins over a bad requestId (the type is the more useful message).
  check_bad(R"({"type":"nope","requestId":5})", error::unknown_type, "type: unknown message type", std::nullopt, "nope");
  BOOST_TEST(wire_code(error::unknown_type) == "unknown_type");
}

BOOST_AUTO_TEST_CASE(field_errors_name_the_field_and_keep_the_envelope) {
  check_bad(R"({"type":"get_session","requestId":"r2"})", error::missing_field, "sessionId: required field is missing", "r2", "get_session");
  check_bad(R"({"type":"get_session","sessionId":null,"requestId":"r2"})", error::missing_field, "sessionId: required field is missing", "r2", "get_session");
  check_bad(R"({"requestId":"r3","type":"terminate_session","sessionId":42})", error::wrong_field_type, "sessionId: expected a string, got a number", "r3", "terminate_session");
  check_bad(R"({"type":"session_terminated","sessionId":"s","success":"true","requestId":"r4"})", error::wrong_field_type, "success: expected a boolean, got a string", "r4", "session_terminated");
  check_bad(R"({"type":"session_restored","sessionId":"s","requestId":"r4"})", error::missing_field, "success: required field is missing", "r4", "session_restored");
  check_bad(R"({"type":"spawn_session","requestId":"r5"})", error::missing_field, "request: required field is missing", "r5", "spawn_session");
  check_bad(R"({"type":"spawn_session","request":[],"requestId":"r5"})", error::wrong_field_type, "request: expected an object, got an array", "r5", "spawn_session");
  check_bad(R"({"type":"restore_session","serializedSession":"x","requestId":"r6"})", error::wrong_field_type, "serializedSession: expected an object, got a string", "r6", "restore_session");
  check_bad(R"({"type":"health_response","health":{"status":"great"},"requestId":"r7"})", error::invalid_enum_value, "health.status: \"great\" is not one of healthy, degraded, unhealthy, offline", "r7", "health_response");
  check_bad(R"({"type":"sessions_response","sessions":{},"requestId":"r8"})", error::wrong_field_type, "sessions: expected an array, got an object", "r8", "sessions_response");
  check_bad(R"({"type":"sessions_response","sessions":[null]})", error::wrong_field_type, "sessions[0]: expected an object, got null", std::nullopt, "sessions_response");
  check_bad(R"({"type":"session_state","sessionId":"s","session":"none"})", error::wrong_field_type, "session: expected an object, got a string", std::nullopt, "session_state");
  check_bad(R"({"type":"error","code":"internal"})", error::missing_field, "error: required field is missing", std::nullopt, "error");
  check_bad(R"({"type":"error","error":"x","code":"internal","requestType":7})", error::wrong_field_type, "requestType: expected a string, got a number", std::nullopt, "error");
  check_bad(R"({"type":"node_info","nodeId":"n","version":"v","protocolVersion":"1","capabilities":{}})", error::wrong_field_type, "protocolVersion: expected an integer, got a string", std::nullopt, "node_info");
  check_bad(R"({"type":"node_info","nodeId":"n","version":"v","protocolVersion":1,"capabilities":{}})", error::missing_field, "capabilities.canSpawnSessions: required field is missing", std::nullopt, "node_info");
  check_bad(R"({"type":"heartbeat","timestamp":true})", error::wrong_field_type, "timestamp: expected a date (ISO-8601 string or milliseconds), got a boolean", std::nullopt, "heartbeat");
  check_bad(R"({"type":"heartbeat","health":[]})", error::wrong_field_type, "health: expected an object, got an array", std::nullopt, "heartbeat");
  check_bad(R"({"type":"heartbeat_ack","timestamp":"2026-11-29T08:47:57.123Z"})", error::wrong_field_type, "timestamp: expected an integer, got a string", std::nullopt, "heartbeat_ack");
  check_bad(R"({"type":"heartbeat_ack"})", error::missing_field, "timestamp: required field is missing", std::nullopt, "heartbeat_ack");
  // Enumerations.
  std::string bad_type(golden::spawn_session);
  bad_type.replace(bad_type.find("claude-code"), 11, "gpt-code");
  check_bad(bad_type, error::invalid_enum_value, "request.sessionType: \"gpt-code\" is not one of claude-code, claude-flow, ruflo",
            "spawn_session_1795942077123_0.5", "spawn_session");
  std::string bad_priority(golden::spawn_session);
  bad_priority.replace(bad_priority.rfind("\"high\""), 6, "\"urgent\"");
  check_bad(bad_priority, error::invalid_enum_value, "request.priority: \"urgent\" is not one of low, medium, high, critical",
            "spawn_session_1795942077123_0.5", "spawn_session");
  // Dates.
  std::string bad_date(golden::spawn_session);
  bad_date.replace(bad_date.find("2026-11-29T08:47:57.123Z"), 24, "2026-02-30T08:47:57.123Z");
  check_bad(bad_date, error::invalid_date, "request.task.createdAt: \"2026-02-30T08:47:57.123Z\" is not a valid ISO-8601 date",
            "spawn_session_1795942077123_0.5", "spawn_session");
  check_bad(R"({"type":"heartbeat","timestamp":"yesterday"})", error::invalid_date, "timestamp: \"yesterday\" is not a valid ISO-8601 date", std::nullopt, "heartbeat");
  std::string deep_date(golden::examples[3].json);
  deep_date.replace(deep_date.find("2026-11-29T08:47:59.500Z"), 24, "2026-11-29T24:01:00.000Z");
  check_bad(deep_date, error::invalid_date, "serializedSession.session.memoryContext.semantic[0].timestamp: ",
            "restore_session_1795942080000_0.125", "restore_session");
  // Numbers.
  check_bad(R"({"type":"node_info","nodeId":"n","version":"v","protocolVersion":1.5,"capabilities":{}})", error::number_out_of_range, "protocolVersion: ", std::nullopt, "node_info");
  check_bad(R"({"type":"node_info","nodeId":"n","version":"v","protocolVersion":4294967297,"capabilities":{}})", error::number_out_of_range, "protocolVersion: 4294967297 is out of range", std::nullopt, "node_info");
  check_bad(R"({"type":"heartbeat_ack","timestamp":1.5})", error::number_out_of_range, "timestamp: expected an integer, got 1.5", std::nullopt, "heartbeat_ack");
  check_bad(R"({"type":"heartbeat_ack","timestamp":1e300})", error::number_out_of_range, "timestamp: expected an integer, got 1.0000000000000001e+300", std::nullopt, "heartbeat_ack");
  check_bad(R"({"type":"heartbeat_ack","timestamp":18446744073709551615})", error::number_out_of_range, "timestamp: 18446744073709551615 is too large", std::nullopt, "heartbeat_ack");
  check_bad(R"({"type":"heartbeat","timestamp":8640000000000001})", error::number_out_of_range, "timestamp: a date must be within", std::nullopt, "heartbeat");
  check_bad(R"({"type":"heartbeat","timestamp":-8640000000000001})", error::number_out_of_range, "timestamp: ", std::nullopt, "heartbeat");
  check_bad(R"({"type":"heartbeat","timestamp":1.5})", error::number_out_of_range, "timestamp: ", std::nullopt, "heartbeat");
  check_bad(R"({"type":"health_response","health":{"status":"healthy","cpuUsage":1,"memoryUsage":1,"activeSessions":2.5,"responseTime":1,"lastHeartbeat":"2026-11-29","uptime":1}})",
            error::number_out_of_range, "health.activeSessions: ", std::nullopt, "health_response");
  for (auto e : {error::missing_field, error::wrong_field_type, error::invalid_enum_value, error::invalid_date, error::number_out_of_range, error::not_an_object}) {
    BOOST_TEST(wire_code(e) == "invalid_message");
  }
}

BOOST_AUTO_TEST_CASE(decoder_recovers_after_errors_and_forgets_the_previous_envelope) {
  decoder d;
  BOOST_TEST(!d.decode(R"({"type":"bogus","requestId":"r1"})").has_value());
  BOOST_TEST(d.request_id().value_or("") == "r1");
  BOOST_TEST(!d.decode("{").has_value());
  BOOST_TEST(!d.request_id().has_value());
  BOOST_TEST(!d.request_type().has_value());
  BOOST_TEST(!d.decode(nested(5000)).has_value());
  const auto ok = d.decode(R"({"type":"get_health","requestId":"r2"})");
  BOOST_TEST_REQUIRE(ok.has_value());
  BOOST_TEST(d.request_id().value_or("") == "r2");
  BOOST_TEST(d.request_type().value_or("") == "get_health");
  BOOST_TEST(!d.decode(R"({"type":"get_health","requestId":7})").has_value());
  BOOST_TEST(!d.request_id().has_value());
  // Moved-from decoders are usable again; moved-to decoders keep their options.
  decoder small(decode_options{100, 10});
  decoder moved = std::move(small);
  BOOST_TEST(moved.options().max_message_bytes == 100u);
  BOOST_TEST(moved.decode(R"({"type":"get_health"})").has_value());
  BOOST_TEST(small.decode(R"({"type":"get_health"})").has_value());  // NOLINT(bugprone-use-after-move)
  decoder assigned;
  assigned = std::move(moved);
  BOOST_TEST(assigned.options().max_message_bytes == 100u);
  BOOST_TEST(assigned.decode(std::string(101, ' ')).error() == error::message_too_large);
}

BOOST_AUTO_TEST_CASE(error_answers) {
  decoder d;
  auto r = d.decode(R"({"type":"get_session","requestId":"r9"})");
  BOOST_TEST_REQUIRE(!r.has_value());
  auto answer = make_error_answer(r.error(), d);
  BOOST_TEST(answer.code == "invalid_message");
  BOOST_TEST(answer.request_id.value_or("") == "r9");
  BOOST_TEST(answer.request_type.value_or("") == "get_session");
  BOOST_TEST(answer.text == "sessionId: required field is missing (missing_field)");
  BOOST_TEST(encode(answer) ==
             R"j({"type":"error","error":"sessionId: required field is missing (missing_field)","requestType":"get_session","code":"invalid_message","requestId":"r9"})j");

  r = d.decode("{\"type\":\"get_session\",");
  answer = make_error_answer(r.error(), d);
  BOOST_TEST(answer.code == "invalid_json");
  BOOST_TEST(!answer.request_id.has_value());
  BOOST_TEST(!answer.request_type.has_value());
  BOOST_TEST(encode(answer).find("requestId") == std::string::npos);

  r = d.decode(nested(100));
  BOOST_TEST(make_error_answer(r.error(), d).code == "invalid_json");
  r = d.decode(R"({"type":"teleport","requestId":"r10"})");
  answer = make_error_answer(r.error(), d);
  BOOST_TEST(answer.code == "unknown_type");
  BOOST_TEST(answer.request_type.value_or("") == "teleport");
  BOOST_TEST(answer.request_id.value_or("") == "r10");
  // Errors of the daemon itself, and foreign error codes.
  BOOST_TEST(make_error_answer(error_info(error::capacity_exceeded), d).code == "capacity_exceeded");
  BOOST_TEST(make_error_answer(error_info(error::unsupported_session_type, "no gpu"), d).text == "no gpu (unsupported_session_type)");
  BOOST_TEST(make_error_answer(error_info(boost::system::errc::make_error_code(boost::system::errc::io_error)), d).code == "internal");
  // The answer itself decodes.
  const auto back = decode(encode(answer));
  BOOST_TEST_REQUIRE(back.has_value());
  BOOST_TEST((std::get<msg::error>(back.value()) == answer));
}

BOOST_AUTO_TEST_CASE(decoder_reuses_its_memory) {
  decoder d;
  const std::string small = R"({"type":"get_session","sessionId":"session-1","requestId":"req-1","extra":{"a":[1,2,3],"b":"some text that is longer than any small-string buffer"}})";
  BOOST_TEST_REQUIRE(d.decode(small).has_value());
  long before = allocations.load();
  for (int i = 0; i < 100; ++i) {
    auto r = d.decode(small);
    BOOST_TEST_REQUIRE(r.has_value());
  }
  // Short strings fit the small-string buffer; the parse tree lives in the decoder's arena.
  BOOST_TEST(allocations.load() - before == 0);

  // A long requestId (as a client's, 17+ characters): the message owns its copy (one
  // allocation), the decoder's own copy reuses its buffer from message to message.
  const std::string long_id = R"({"type":"get_session","sessionId":"session-1","requestId":"k3j5h2l1q9.1a.3xz7"})";
  BOOST_TEST_REQUIRE(d.decode(long_id).has_value());
  before = allocations.load();
  for (int i = 0; i < 100; ++i) {
    auto r = d.decode(long_id);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE((d.request_id().has_value() && *d.request_id() == "k3j5h2l1q9.1a.3xz7"));
  }
  BOOST_TEST(allocations.load() - before == 100);

  // A typical spawn_session: only the resulting C++ strings and metadata allocate.
  const std::string spawn(golden::examples[3].json);
  BOOST_TEST_REQUIRE(d.decode(spawn).has_value());
  before = allocations.load();
  auto r = d.decode(spawn);
  BOOST_TEST_REQUIRE(r.has_value());
  const long per_message = allocations.load() - before;
  json::parser fresh;
  fresh.write(spawn);
  before = allocations.load();
  {
    json::parser p;
    p.write(spawn);
    auto v = p.release();
  }
  const long plain_parse = allocations.load() - before;
  BOOST_TEST_MESSAGE("restore_session decode: " << per_message << " allocations; a plain boost::json::parse: " << plain_parse);
  BOOST_TEST(per_message < 60);
  // A large message spills from the arena to the heap, and the arena is reused afterwards.
  const auto big = encode(samples::many_sessions(100));
  BOOST_TEST_REQUIRE(d.decode(big).has_value());
  // Many of them in a row: the heap blocks do not grow from message to message (Boost 1.81's
  // monotonic_resource::release() keeps doubling them, up to bad_alloc after a few dozen).
  for (int i = 0; i < 200; ++i) BOOST_TEST_REQUIRE(d.decode(big).has_value());
  before = allocations.load();
  for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(d.decode(small).has_value());
  BOOST_TEST(allocations.load() - before == 0);
}
