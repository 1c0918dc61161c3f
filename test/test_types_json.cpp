// Wire types: enum spellings, dates, numbers, JSON conversions both ways and their errors.
#define BOOST_TEST_MODULE types_json
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "codec_print.hpp"
#include "codec_samples.hpp"

#include <neolith/protocol/json.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace neolith;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

timestamp ms(std::int64_t v) { return timestamp{milliseconds{v}}; }

std::int64_t parsed_ms(std::string_view text) {
  auto r = parse_timestamp(text);
  BOOST_TEST_REQUIRE(r.has_value(), "parse_timestamp(" << text << "): " << why(r));
  return r.value().time_since_epoch().count();
}

template <class T>
void check_round_trip(const T& x) {
  const json::value v = json::value_from(x);
  // Through the text too: what goes on the wire comes back equal.
  const json::value reparsed = json::parse(json::serialize(v));
  BOOST_TEST(reparsed == v);
  const auto back = from_json<T>(reparsed);
  BOOST_TEST_REQUIRE(back.has_value(), why(back));
  BOOST_TEST((back.value() == x));
  const auto via_boost = json::try_value_to<T>(v);
  BOOST_TEST_REQUIRE(via_boost.has_value());
  BOOST_TEST((*via_boost == x));
}

// from_json<T>(text) must fail with `e` and a message starting with `path`.
template <class T>
void check_error(std::string_view text, error e, std::string_view path) {
  const auto r = from_json<T>(json::parse(text));
  BOOST_TEST_REQUIRE(!r.has_value(), "accepted: " << text);
  BOOST_TEST(r.error() == e, text << " gave " << why(r));
  BOOST_TEST(r.error().message.rfind(path, 0) == 0u, "message '" << r.error().message << "' does not start with '" << path << "'");
}

json::object health_json() { return json::value_from(samples::health()).as_object(); }

}  // namespace

// ===== Enumerations =======================================================================

BOOST_AUTO_TEST_CASE(enum_spellings) {
  BOOST_TEST(to_string(session_type::claude_code) == "claude-code");
  BOOST_TEST(to_string(session_type::claude_flow) == "claude-flow");
  BOOST_TEST(to_string(session_type::ruflo) == "ruflo");
  BOOST_TEST(to_string(task_status::in_progress) == "in_progress");
  BOOST_TEST(to_string(node_status::unhealthy) == "unhealthy");
  BOOST_TEST(to_string(task_type::general) == "general");
  BOOST_TEST(to_string(task_priority::critical) == "critical");
  BOOST_TEST(to_string(memory_entry_type::knowledge) == "knowledge");
  BOOST_TEST(to_string(session_status::terminated) == "terminated");
  BOOST_TEST(to_string(static_cast<session_status>(99)) == "unknown");
}

BOOST_AUTO_TEST_CASE(enums_round_trip) {
  for (int i = 0; i < 4; ++i) BOOST_TEST((parse_node_status(to_string(static_cast<node_status>(i))) == static_cast<node_status>(i)));
  for (int i = 0; i < 2; ++i) BOOST_TEST((parse_session_type(to_string(static_cast<session_type>(i))) == static_cast<session_type>(i)));
  for (int i = 0; i < 5; ++i) BOOST_TEST((parse_task_type(to_string(static_cast<task_type>(i))) == static_cast<task_type>(i)));
  for (int i = 0; i < 4; ++i) BOOST_TEST((parse_task_priority(to_string(static_cast<task_priority>(i))) == static_cast<task_priority>(i)));
  for (int i = 0; i < 5; ++i) BOOST_TEST((parse_task_status(to_string(static_cast<task_status>(i))) == static_cast<task_status>(i)));
  for (int i = 0; i < 4; ++i) BOOST_TEST((parse_memory_entry_type(to_string(static_cast<memory_entry_type>(i))) == static_cast<memory_entry_type>(i)));
  for (int i = 0; i < 6; ++i) BOOST_TEST((parse_session_status(to_string(static_cast<session_status>(i))) == static_cast<session_status>(i)));
}

BOOST_AUTO_TEST_CASE(enum_parse_rejects_other_spellings) {
  BOOST_TEST((parse_session_type("ruflo") == session_type::ruflo));
  BOOST_TEST((parse_session_type("claude-flow") == session_type::claude_flow));
  BOOST_TEST(!parse_session_type("claude_code").has_value());
  BOOST_TEST(!parse_session_type("Claude-Code").has_value());
  BOOST_TEST(!parse_session_type("").has_value());
  BOOST_TEST(!parse_task_status("in-progress").has_value());
  BOOST_TEST(!parse_node_status("healthy ").has_value());
  BOOST_TEST(!parse_task_type("CODE").has_value());
  BOOST_TEST(!parse_task_priority("urgent").has_value());
  BOOST_TEST(!parse_memory_entry_type("memory").has_value());
  BOOST_TEST(!parse_session_status("ended").has_value());
}

BOOST_AUTO_TEST_CASE(ended_statuses_and_supports) {
  BOOST_TEST(is_ended(session_status::completed));
  BOOST_TEST(is_ended(session_status::failed));
  BOOST_TEST(is_ended(session_status::terminated));
  BOOST_TEST(!is_ended(session_status::running));
  BOOST_TEST(!is_ended(session_status::paused));
  BOOST_TEST(!is_ended(session_status::initializing));
  node_capabilities c;
  BOOST_TEST(!c.supports(session_type::claude_code));
  c.supported_session_types = {session_type::claude_flow};
  BOOST_TEST(c.supports(session_type::claude_flow));
  BOOST_TEST(c.supports(session_type::ruflo));  // an older daemon lists claude-flow only
  BOOST_TEST(!c.supports(session_type::claude_code));
  c.supported_session_types = {session_type::ruflo};
  BOOST_TEST(c.supports(session_type::claude_flow));
  BOOST_TEST(!c.supports(session_type::claude_code));
  BOOST_TEST(same_kind(session_type::ruflo, session_type::claude_flow));
  BOOST_TEST(!same_kind(session_type::ruflo, session_type::claude_code));
  BOOST_TEST((runner_type(session_type::ruflo) == session_type::claude_flow));
  BOOST_TEST((runner_type(session_type::claude_code) == session_type::claude_code));
}

BOOST_AUTO_TEST_CASE(now_is_truncated_to_milliseconds_and_current) {
  const auto before = std::chrono::system_clock::now();
  const timestamp t = now_timestamp();
  const auto after = std::chrono::system_clock::now();
  BOOST_TEST((t <= after));
  BOOST_TEST((t + milliseconds{1} > before));
}

// ===== Dates ==============================================================================

BOOST_AUTO_TEST_CASE(format_as_javascript) {
  BOOST_TEST(format_timestamp(ms(0)) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_timestamp(samples::t0()) == "2026-11-29T08:47:57.123Z");
  BOOST_TEST(format_timestamp(ms(-1)) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(format_timestamp(ms(951782400000)) == "2000-02-29T00:00:00.000Z");
  BOOST_TEST(format_timestamp(ms(253402300799999)) == "9999-12-31T23:59:59.999Z");
  BOOST_TEST(format_timestamp(ms(253402300800000)) == "+010000-01-01T00:00:00.000Z");
  BOOST_TEST(format_timestamp(ms(-62167219200000)) == "0000-01-01T00:00:00.000Z");
  BOOST_TEST(format_timestamp(ms(-62167219200001)) == "-000001-12-31T23:59:59.999Z");
  // JavaScript's extremes: new Date(8.64e15) and new Date(-8.64e15).
  BOOST_TEST(format_timestamp(ms(8640000000000000)) == "+275760-09-13T00:00:00.000Z");
  BOOST_TEST(format_timestamp(ms(-8640000000000000)) == "-271821-04-20T00:00:00.000Z");
  // Beyond JavaScript's range the year simply grows (no overflow, no crash).
  const auto far = format_timestamp(ms(std::numeric_limits<std::int64_t>::max()));
  BOOST_TEST(far.front() == '+');
  BOOST_TEST(far.size() > std::string("+275760-09-13T00:00:00.000Z").size());
  const auto far_past = format_timestamp(ms(std::numeric_limits<std::int64_t>::min()));
  BOOST_TEST(far_past.front() == '-');
}

BOOST_AUTO_TEST_CASE(parse_iso_forms) {
  const std::int64_t t0 = samples::t0().time_since_epoch().count();
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.123Z") == t0);
  BOOST_TEST(parsed_ms("2026-11-29t08:47:57.123z") == t0);
  BOOST_TEST(parsed_ms("2026-11-29 08:47:57.123Z") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.123+00:00") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.123-00:00") == t0);
  // Offsets shift to UTC: 10:47 at +02:00 is 08:47Z.
  BOOST_TEST(parsed_ms("2026-11-29T10:47:57.123+02:00") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T10:47:57.123+0200") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T10:47:57.123+02") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T03:17:57.123-05:30") == t0);
  BOOST_TEST(parsed_ms("2026-11-30T00:17:57.123+15:30") == t0);
  // Fractions of any length, truncated to milliseconds.
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.123456789Z") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.1239Z") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57,123Z") == t0);
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.1Z") == t0 - 23);
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57.12Z") == t0 - 3);
  // Without fraction, without seconds, date only.
  BOOST_TEST(parsed_ms("2026-11-29T08:47:57Z") == t0 - 123);
  BOOST_TEST(parsed_ms("2026-11-29T08:47Z") == t0 - 57123);
  BOOST_TEST(parsed_ms("1970-01-01") == 0);
  BOOST_TEST(parsed_ms("2026-11-29") == t0 - (8 * 3600 + 47 * 60 + 57) * 1000 - 123);
  // 24:00 is the end of the day.
  BOOST_TEST(parsed_ms("2024-02-28T24:00:00Z") == parsed_ms("2024-02-29T00:00:00Z"));
  BOOST_TEST(parsed_ms("2024-12-31T24:00Z") == parsed_ms("2025-01-01"));
  BOOST_TEST(parsed_ms("2024-12-31T24:00:00.000Z") == parsed_ms("2025-01-01"));
  // Leap years.
  BOOST_TEST(parsed_ms("2000-02-29") == 951782400000);
  BOOST_TEST(parsed_ms("2024-02-29") == 1709164800000);
  // Expanded years.
  BOOST_TEST(parsed_ms("+275760-09-13T00:00:00.000Z") == 8640000000000000);
  BOOST_TEST(parsed_ms("-271821-04-20T00:00:00.000Z") == -8640000000000000);
  BOOST_TEST(parsed_ms("+002026-11-29T08:47:57.123Z") == t0);
  BOOST_TEST(parsed_ms("-000001-12-31T23:59:59.999Z") == -62167219200001);
  BOOST_TEST(parsed_ms("0000-01-01T00:00:00Z") == -62167219200000);
}

BOOST_AUTO_TEST_CASE(format_and_parse_round_trip) {
  const std::int64_t values[] = {0, 1, -1, 999, 1000, 86399999, 86400000, -86400001,
                                 1795942077123, 951782400000, 253402300799999, 253402300800000,
                                 -62167219200000, -62167219200001, -62135596800000,
                                 8640000000000000, -8640000000000000, 4102444800000, -2208988800000};
  for (auto v : values) {
    const auto text = format_timestamp(ms(v));
    BOOST_TEST(parsed_ms(text) == v, text);
  }
  // Every day of a leap and a common year, around the 400-year cycle boundaries.
  for (std::int64_t base : {parsed_ms("1999-12-31"), parsed_ms("2000-01-01"), parsed_ms("1600-02-27"), parsed_ms("-000401-01-01")}) {
    for (int d = 0; d < 800; ++d) {
      const std::int64_t v = base + d * 86400000LL + 12345;
      BOOST_TEST_REQUIRE(parsed_ms(format_timestamp(ms(v))) == v);
    }
  }
}

BOOST_AUTO_TEST_CASE(dates_interleaved_read_and_write_the_same) {
  // Each thread keeps the last day it read and wrote: interleaving days, times of one day and
  // invalid dates never returns a stale answer.
  const char* texts[] = {"2026-11-29T08:47:57.123Z", "2026-11-29T23:59:59.999Z", "2026-11-30T00:00:00.000Z",
                         "1969-12-31T23:59:59.999Z", "2026-11-29T00:00:00.001Z", "+010000-01-01T00:00:00.000Z",
                         "2026-11-29T08:47:57.123Z", "-000001-12-31T23:59:59.999Z", "2026-11-30T12:00:00.000Z"};
  std::vector<std::int64_t> values;
  for (const char* t : texts) values.push_back(parsed_ms(t));
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < std::size(texts); ++i) {
      BOOST_TEST(format_timestamp(ms(values[i])) == texts[i]);
      BOOST_TEST(parsed_ms(texts[(i + 3) % std::size(texts)]) == values[(i + 3) % std::size(texts)]);
    }
  }
  BOOST_TEST(!parse_timestamp("2026-02-30").has_value());
  BOOST_TEST(!parse_timestamp("2026-02-30T10:00Z").has_value());  // the same invalid day again
  BOOST_TEST(parse_timestamp("2026-02-28T10:00Z").has_value());
  BOOST_TEST(!parse_timestamp("2026-02-29").has_value());
  BOOST_TEST(parse_timestamp("2024-02-29").has_value());
  BOOST_TEST(!parse_timestamp("2026-02-30").has_value());
  // The canonical form has a one-pass reading; its edges fall back to, or agree with, the rest.
  BOOST_TEST(!parse_timestamp("2026-02-30T10:00:00.000Z").has_value());
  BOOST_TEST(parsed_ms("2026-11-29T24:00:00.000Z") == parsed_ms("2026-11-30"));
  BOOST_TEST(!parse_timestamp("2026-11-29T24:00:00.001Z").has_value());
  BOOST_TEST(!parse_timestamp("2026-11-29T08:60:00.000Z").has_value());
  BOOST_TEST(!parse_timestamp("2026-11-29T08:47:60.000Z").has_value());
  BOOST_TEST(!parse_timestamp("2026-11-29T08:47:57.12aZ").has_value());
  BOOST_TEST(!parse_timestamp("2026-11-29T08:47:57.123z ").has_value());
  BOOST_TEST(!parse_timestamp("2026-00-29T08:47:57.123Z").has_value());
  BOOST_TEST(!parse_timestamp("2026-11-29T08:47:57-123Z").has_value());
  BOOST_TEST(parsed_ms("0000-01-01T00:00:00.000Z") == -62167219200000);
  BOOST_TEST(parsed_ms("9999-12-31T23:59:59.999Z") == 253402300799999);
}

BOOST_AUTO_TEST_CASE(parse_rejects_invalid_dates) {
  const char* bad[] = {
      "", "garbage", "2026", "2026-11", "2026-11-29T", "2026-11-29Z", "2026-1-29", "26-11-29",
      " 2026-11-29", "2026-11-29 ", "2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31",
      "2026-02-30", "2023-02-29", "1900-02-29", "2026-11-29T24:01Z", "2026-11-29T24:00:01Z",
      "2026-11-29T24:00:00.001Z", "2026-11-29T25:00Z", "2026-11-29T08:60Z", "2026-11-29T08:47:60Z",
      "2026-11-29T08:47:57",  // no zone: local time is ambiguous
      "2026-11-29T08:47:57.Z", "2026-11-29T08:47:57.123", "2026-11-29T08:47:57.123ZZ",
      "2026-11-29T08:47:57.123+2:00", "2026-11-29T08:47:57.123+24:00", "2026-11-29T08:47:57.123+02:60",
      "2026-11-29T08:47:57.123+02:0", "2026-11-29T08:47:57.123+020", "2026-11-29T8:47Z",
      "2026-11-29T08Z", "2026-11-29X08:47Z", "-000000-01-01T00:00:00Z", "+27576-09-13T00:00:00Z",
      "+275760-09-13T00:00:00.001Z", "-271821-04-19T23:59:59.999Z", "2026-11-29T08:47:57.123\xff",
      "2026\x00-11-29", "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-11-29"};
  for (const char* text : bad) {
    const auto r = parse_timestamp(text);
    BOOST_TEST(!r.has_value(), "accepted: '" << text << "'");
    if (!r) {
      BOOST_TEST(r.error() == error::invalid_date);
      BOOST_TEST(r.error().message.find("ISO-8601") != std::string::npos);
    }
  }
  // An embedded NUL is part of the text, not its end.
  BOOST_TEST(!parse_timestamp(std::string_view("2026-11-29\0T08Z", 15)).has_value());
}

// ===== Numbers ============================================================================

BOOST_AUTO_TEST_CASE(number_to_json_writes_integers_as_integers) {
  BOOST_TEST(number_to_json(12.0).is_int64());
  BOOST_TEST(number_to_json(12.0).as_int64() == 12);
  BOOST_TEST(json::serialize(number_to_json(12.0)) == "12");
  BOOST_TEST(json::serialize(number_to_json(-3.0)) == "-3");
  BOOST_TEST(json::serialize(number_to_json(-0.0)) == "0");
  BOOST_TEST(number_to_json(1.5).is_double());
  BOOST_TEST(number_to_json(1.5).as_double() == 1.5);
  BOOST_TEST(number_to_json(1e308).is_double());
  BOOST_TEST(number_to_json(9223372036854775808.0).is_double());  // 2^63 does not fit
  BOOST_TEST(number_to_json(-9223372036854775808.0).is_int64());  // -2^63 does
  BOOST_TEST(number_to_json(std::numeric_limits<double>::quiet_NaN()) == json::value(0));
  BOOST_TEST(number_to_json(std::numeric_limits<double>::infinity()) == json::value(0));
  BOOST_TEST(number_to_json(-std::numeric_limits<double>::infinity()) == json::value(0));
}

BOOST_AUTO_TEST_CASE(double_fields_accept_every_json_number) {
  auto o = health_json();
  o["cpuUsage"] = 50;                          // int64
  o["memoryUsage"] = std::uint64_t{18446744073709551615ULL};  // uint64
  o["responseTime"] = 0.25;                    // double
  o["uptime"] = -0.0;
  const auto r = from_json<node_health>(o);
  BOOST_TEST_REQUIRE(r.has_value(), why(r));
  BOOST_TEST(r.value().cpu_usage == 50.0);
  BOOST_TEST(r.value().memory_usage == 18446744073709551615.0);
  BOOST_TEST(r.value().response_time == 0.25);
  BOOST_TEST(r.value().uptime == 0.0);
}

BOOST_AUTO_TEST_CASE(integer_fields_accept_integral_numbers_only) {
  auto with_active = [](json::value v) {
    auto o = health_json();
    o["activeSessions"] = v;
    return from_json<node_health>(o);
  };
  BOOST_TEST(with_active(7).value().active_sessions == 7);
  BOOST_TEST(with_active(7.0).value().active_sessions == 7);
  BOOST_TEST(with_active(-0.0).value().active_sessions == 0);
  BOOST_TEST(with_active(std::numeric_limits<std::int64_t>::max()).value().active_sessions == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(with_active(std::numeric_limits<std::int64_t>::min()).value().active_sessions == std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(with_active(std::uint64_t{9223372036854775807ULL}).value().active_sessions == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(with_active(-9223372036854775808.0).value().active_sessions == std::numeric_limits<std::int64_t>::min());
  for (json::value bad : {json::value(7.5), json::value(1e19), json::value(-1e19), json::value(9223372036854775808.0),
                          json::value(std::uint64_t{9223372036854775808ULL}), json::value(1e308)}) {
    const auto r = with_active(bad);
    BOOST_TEST_REQUIRE(!r.has_value(), "accepted " << bad);
    BOOST_TEST(r.error() == error::number_out_of_range);
    BOOST_TEST(r.error().message.rfind("activeSessions: ", 0) == 0u, r.error().message);
  }
  const auto wrong = with_active("7");
  BOOST_TEST(wrong.error() == error::wrong_field_type);
  BOOST_TEST(wrong.error().message == "activeSessions: expected an integer, got a string");
}

BOOST_AUTO_TEST_CASE(extreme_numbers_round_trip) {
  auto h = samples::health();
  h.active_sessions = std::numeric_limits<std::int64_t>::max();
  h.cpu_usage = 1e308;
  h.memory_usage = -0.0;
  h.response_time = 0.1;
  h.uptime = 123456.789;
  check_round_trip(h);
  h.active_sessions = std::numeric_limits<std::int64_t>::min();
  h.cpu_usage = -1e308;
  h.memory_usage = 5e-324;
  h.response_time = 2.2250738585072014e-308;
  h.uptime = 9007199254740993.0;
  check_round_trip(h);
  session_metrics m;
  m.tokens_used = 1e15;
  m.duration = 0.5;
  m.tasks_completed = 3;
  m.errors_encountered = -1;
  m.average_response_time = 33.333333333333336;
  check_round_trip(m);
  // Integral values are written as JSON integers.
  BOOST_TEST(json::serialize(json::value_from(m).at("tokensUsed")) == "1000000000000000");
  BOOST_TEST(json::serialize(json::value_from(m).at("tasksCompleted")) == "3");
}

// ===== Structures =========================================================================

BOOST_AUTO_TEST_CASE(every_type_round_trips_with_and_without_optionals) {
  check_round_trip(samples::health());
  check_round_trip(samples::capabilities(true));
  check_round_trip(samples::capabilities(false));
  check_round_trip(samples::make_task(true));
  check_round_trip(samples::make_task(false));
  check_round_trip(samples::entry(1, true));
  check_round_trip(samples::entry(2, false));
  check_round_trip(samples::make_session(true).memory);
  check_round_trip(samples::make_session(true).metrics);
  check_round_trip(samples::make_session(true));
  check_round_trip(samples::make_session(false));
  check_round_trip(samples::spawn_request(true));
  check_round_trip(samples::spawn_request(false));
  check_round_trip(samples::serialized(true).metadata);
  check_round_trip(samples::serialized(true));
  check_round_trip(samples::serialized(false));
  check_round_trip(node_health{});
  check_round_trip(node_capabilities{});
  check_round_trip(session{});
}

BOOST_AUTO_TEST_CASE(camel_case_names_and_absent_optionals) {
  const json::object full = json::value_from(samples::make_session(true)).as_object();
  for (const char* key : {"id", "orchestratorId", "task", "type", "status", "startedAt", "endedAt", "memoryContext", "metrics"}) {
    BOOST_TEST(full.contains(key), key);
  }
  BOOST_TEST(full.size() == 9u);
  BOOST_TEST(full.at("type") == "claude-flow");
  BOOST_TEST(full.at("startedAt") == "2026-11-29T08:47:57.123Z");
  BOOST_TEST(full.at("endedAt") == "2026-11-29T08:48:57.123Z");
  const auto& task = full.at("task").as_object();
  BOOST_TEST(task.at("assignedTo") == "agent-7");
  BOOST_TEST(task.at("status") == "in_progress");
  BOOST_TEST(task.at("createdAt") == "2026-11-29T08:47:57.123Z");

  const json::object minimal = json::value_from(samples::make_session(false)).as_object();
  BOOST_TEST(!minimal.contains("endedAt"));
  BOOST_TEST(!minimal.at("task").as_object().contains("assignedTo"));
  BOOST_TEST(!minimal.at("task").as_object().contains("metadata"));
  const json::object caps = json::value_from(samples::capabilities(false)).as_object();
  BOOST_TEST(!caps.contains("customCapabilities"));
  BOOST_TEST(caps.at("hasGPUAccess") == false);
  const json::object spawn = json::value_from(samples::spawn_request(false)).as_object();
  BOOST_TEST(!spawn.contains("memoryProfile"));
  BOOST_TEST(!spawn.contains("priority"));
  BOOST_TEST(spawn.at("sessionType") == "claude-code");
  // No null anywhere in the output.
  BOOST_TEST(json::serialize(minimal).find("null") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(null_optionals_are_absent_and_extra_fields_ignored) {
  json::object o = json::value_from(samples::make_task(false)).as_object();
  o["assignedTo"] = nullptr;
  o["metadata"] = nullptr;
  o["somethingNew"] = json::array{1, 2, 3};
  o["__proto__"] = "x";
  const auto r = from_json<task>(o);
  BOOST_TEST_REQUIRE(r.has_value(), why(r));
  BOOST_TEST((r.value() == samples::make_task(false)));
  BOOST_TEST(!r.value().assigned_to.has_value());

  json::object s = json::value_from(samples::make_session(false)).as_object();
  s["endedAt"] = nullptr;
  const auto rs = from_json<session>(s);
  BOOST_TEST_REQUIRE(rs.has_value());
  BOOST_TEST(!rs.value().ended_at.has_value());
}

BOOST_AUTO_TEST_CASE(ruflo_is_kept_as_spelled) {
  // The platform's later name of claude-flow reads as `ruflo` and is written back as "ruflo";
  // "claude-flow" stays "claude-flow".
  json::object r = json::value_from(samples::spawn_request(false)).as_object();
  r["sessionType"] = "ruflo";
  const auto back = from_json<session_spawn_request>(r);
  BOOST_TEST_REQUIRE(back.has_value());
  BOOST_TEST((back.value().type == session_type::ruflo));
  BOOST_TEST(json::value_from(back.value()).at("sessionType") == "ruflo");
  r["sessionType"] = "claude-flow";
  const auto flow = from_json<session_spawn_request>(r);
  BOOST_TEST_REQUIRE(flow.has_value());
  BOOST_TEST(json::value_from(flow.value()).at("sessionType") == "claude-flow");
  json::object caps = json::value_from(samples::capabilities(false)).as_object();
  caps["supportedSessionTypes"] = json::array{"ruflo", "claude-code"};
  const auto c = from_json<node_capabilities>(caps);
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c.value().supports(session_type::claude_flow));
  BOOST_TEST(c.value().supports(session_type::ruflo));
  BOOST_TEST(json::value_from(c.value()).at("supportedSessionTypes") == (json::array{"ruflo", "claude-code"}));
}

BOOST_AUTO_TEST_CASE(unicode_and_escapes_round_trip) {
  task t = samples::make_task(false);
  t.description = std::string("日本語 🚀 \"q\" \\ / \b\f\n\r\t \x01 end") + std::string(1, '\0') + "after-nul";
  t.id = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  check_round_trip(t);
  const auto text = json::serialize(json::value_from(t));
  BOOST_TEST(text.find("\\u0000") != std::string::npos);
  const auto back = from_json<task>(json::parse(text)).value();
  BOOST_TEST(back.description.size() == t.description.size());
  BOOST_TEST(back.description.find('\0') != std::string::npos);
  // Escaped forms are read too.
  const auto escaped = json::parse(R"({"id":"\u65e5\u672c\u8a9e \ud83d\ude80","content":"c","timestamp":"2026-11-29T08:47:57.123Z","type":"decision"})");
  const auto e = from_json<memory_entry>(escaped);
  BOOST_TEST_REQUIRE(e.has_value());
  BOOST_TEST(e.value().id == "日本語 🚀");
}

BOOST_AUTO_TEST_CASE(metadata_objects_are_kept_verbatim) {
  task t = samples::make_task(true);
  const json::value v = json::value_from(t);
  BOOST_TEST(v.at("metadata") == *t.metadata);
  BOOST_TEST(v.at("metadata").at("depth").at("y").as_array().size() == 3u);
  const auto back = from_json<task>(v).value();
  BOOST_TEST(*back.metadata == *t.metadata);
  // The copy does not share storage with the source value.
  BOOST_TEST(back.metadata->storage().get() == json::storage_ptr().get());
}

BOOST_AUTO_TEST_CASE(non_finite_numbers_in_opaque_objects_are_written_as_null) {
  task t = samples::make_task(false);
  t.metadata = json::object{{"inf", std::numeric_limits<double>::infinity()},
                            {"nan", std::numeric_limits<double>::quiet_NaN()},
                            {"nested", json::array{-std::numeric_limits<double>::infinity(), 2.5}}};
  const json::value v = json::value_from(t);
  BOOST_TEST(v.at("metadata").at("inf").is_null());
  BOOST_TEST(v.at("metadata").at("nan").is_null());
  BOOST_TEST(v.at("metadata").at("nested").at(0).is_null());
  BOOST_TEST(v.at("metadata").at("nested").at(1) == 2.5);
  const std::string text = json::serialize(v);
  boost::system::error_code ec;
  json::parse(text, ec);
  BOOST_TEST(!ec, text);
  // Number fields: non-finite values are written as 0 (number_to_json), never as Infinity.
  node_health h = samples::health();
  h.cpu_usage = std::numeric_limits<double>::infinity();
  h.uptime = std::numeric_limits<double>::quiet_NaN();
  const json::value hv = json::value_from(h);
  BOOST_TEST(hv.at("cpuUsage") == 0);
  BOOST_TEST(hv.at("uptime") == 0);
}

// ===== Errors with field paths ============================================================

BOOST_AUTO_TEST_CASE(errors_name_the_field_path) {
  const std::string good_task = json::serialize(json::value_from(samples::make_task(false)));
  check_error<task>(R"({"id":"t","type":"code","description":"d","priority":"high","status":"pending","updatedAt":"2026-11-29T08:47:57.123Z"})",
                    error::missing_field, "createdAt: required field is missing");
  check_error<task>(R"({"id":"t","type":"code","description":"d","priority":"high","status":"pending","createdAt":null,"updatedAt":"2026-11-29T08:47:57.123Z"})",
                    error::missing_field, "createdAt: ");
  check_error<task>(R"({"id":5,"type":"code"})", error::wrong_field_type, "id: expected a string, got a number");
  check_error<task>(R"({"id":"t","type":"poetry"})", error::invalid_enum_value, "type: \"poetry\" is not one of");
  check_error<task>(R"({"id":"t","type":"code","description":"d","priority":"high","status":"pending","createdAt":"2026-02-30","updatedAt":"x"})",
                    error::invalid_date, "createdAt: \"2026-02-30\" is not a valid ISO-8601 date");
  check_error<task>(R"({"id":"t","type":"code","description":"d","priority":"high","status":"pending","createdAt":1795942077123,"updatedAt":"x"})",
                    error::wrong_field_type, "createdAt: expected an ISO-8601 date string, got a number");
  check_error<task>(R"({"id":"t","type":"code","description":"d","priority":"high","status":"pending","createdAt":"2026-11-29","updatedAt":"2026-11-29","metadata":[1]})",
                    error::wrong_field_type, "metadata: expected an object, got an array");
  check_error<task>("[]", error::wrong_field_type, "expected an object, got an array");
  check_error<task>("null", error::wrong_field_type, "expected an object, got null");

  // Nested paths: object members and array elements.
  json::object s = json::value_from(samples::make_session(true)).as_object();
  s["task"].as_object()["createdAt"] = "2026-13-01T00:00:00Z";
  auto r = from_json<session>(s);
  BOOST_TEST(r.error() == error::invalid_date);
  BOOST_TEST(r.error().message.rfind("task.createdAt: \"2026-13-01T00:00:00Z\"", 0) == 0u, r.error().message);

  s = json::value_from(samples::make_session(true)).as_object();
  s["memoryContext"].as_object()["episodic"].as_array()[1].as_object()["type"] = "dream";
  r = from_json<session>(s);
  BOOST_TEST(r.error() == error::invalid_enum_value);
  BOOST_TEST(r.error().message.rfind("memoryContext.episodic[1].type: \"dream\"", 0) == 0u, r.error().message);

  s = json::value_from(samples::make_session(true)).as_object();
  s["memoryContext"].as_object()["semantic"].as_array()[0] = 3;
  r = from_json<session>(s);
  BOOST_TEST(r.error() == error::wrong_field_type);
  BOOST_TEST(r.error().message == "memoryContext.semantic[0]: expected an object, got a number");

  s = json::value_from(samples::make_session(true)).as_object();
  s["metrics"].as_object().erase("duration");
  r = from_json<session>(s);
  BOOST_TEST(r.error() == error::missing_field);
  BOOST_TEST(r.error().message == "metrics.duration: required field is missing");

  json::object c = json::value_from(samples::capabilities(true)).as_object();
  c["customCapabilities"].as_object()["docker"] = "yes";
  auto rc = from_json<node_capabilities>(c);
  BOOST_TEST(rc.error() == error::wrong_field_type);
  BOOST_TEST(rc.error().message == "customCapabilities.docker: expected a boolean, got a string");
  c = json::value_from(samples::capabilities(true)).as_object();
  c["supportedSessionTypes"] = json::array{"claude-code", "gpt"};
  rc = from_json<node_capabilities>(c);
  BOOST_TEST(rc.error() == error::invalid_enum_value);
  BOOST_TEST(rc.error().message.rfind("supportedSessionTypes[1]: \"gpt\"", 0) == 0u, rc.error().message);
  c["supportedSessionTypes"] = "claude-code";
  rc = from_json<node_capabilities>(c);
  BOOST_TEST(rc.error() == error::wrong_field_type);
  BOOST_TEST(rc.error().message == "supportedSessionTypes: expected an array, got a string");

  json::object ser = json::value_from(samples::serialized(true)).as_object();
  ser["session"].as_object()["task"].as_object()["priority"] = true;
  auto rser = from_json<serialized_session>(ser);
  BOOST_TEST(rser.error() == error::wrong_field_type);
  BOOST_TEST(rser.error().message == "session.task.priority: expected a string, got a boolean");

  json::object h = health_json();
  h["canSpawn"] = 1;  // extra: ignored
  h["cpuUsage"] = json::array{};
  auto rh = from_json<node_health>(h);
  BOOST_TEST(rh.error() == error::wrong_field_type);
  BOOST_TEST(rh.error().message == "cpuUsage: expected a number, got an array");
}

BOOST_AUTO_TEST_CASE(long_values_are_shortened_in_messages) {
  json::object o = json::value_from(samples::make_task(false)).as_object();
  o["type"] = std::string(10000, 'x');
  const auto r = from_json<task>(o);
  BOOST_TEST(r.error() == error::invalid_enum_value);
  BOOST_TEST(r.error().message.size() < 300u);
  // Shortening never cuts a UTF-8 character in half.
  o["type"] = std::string(63, 'x') + "日本語日本語日本語日本語日本語日本語日本語日本語";
  const auto r2 = from_json<task>(o);
  BOOST_TEST(r2.error() == error::invalid_enum_value);
  BOOST_TEST(json::serialize(json::value(r2.error().message)).size() > 0u);
  json::parser p;
  boost::system::error_code ec;
  p.write(json::serialize(json::value(r2.error().message)), ec);
  BOOST_TEST(!ec, "message is not valid UTF-8: " << ec.message());
}

BOOST_AUTO_TEST_CASE(boost_value_to_throws_and_try_value_to_returns_the_code) {
  const json::value bad = json::parse(R"({"id":"t"})");
  const auto r = json::try_value_to<task>(bad);
  BOOST_TEST(!r.has_value());
  BOOST_TEST(r.error() == error::missing_field);
  BOOST_CHECK_THROW(json::value_to<task>(bad), boost::system::system_error);
  const auto ok = json::value_to<node_health>(json::value_from(samples::health()));
  BOOST_TEST((ok == samples::health()));
  // Works through containers too.
  const json::value list = json::value_from(std::vector<node_health>{samples::health(), node_health{}});
  const auto back = json::value_to<std::vector<node_health>>(list);
  BOOST_TEST(back.size() == 2u);
  BOOST_TEST((back[1] == node_health{}));
}
