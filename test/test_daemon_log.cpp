// The daemon's log: JSON lines (ts, level, event and the ids involved) for every connection
// opened, closed (code and reason) and refused, every session state change and every refused
// request (its error code); the level filter (nothing built or written below it); the text
// format; `neolith daemon --log-format json --log-level` on stderr.
#define BOOST_TEST_MODULE daemon_log
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/daemon_process.hpp"
#include "support/log_lines.hpp"
#include "support/wait.hpp"

#include <neolith/daemon/log.hpp>

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <regex>
#include <sstream>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

/// Every line parsed as a JSON object (the test fails on a line that is not one).
std::vector<json::object> parse_lines(const std::vector<std::string>& lines) {
  std::vector<json::object> out;
  for (const auto& l : lines) {
    boost::system::error_code ec;
    json::value v = json::parse(l, ec);
    BOOST_TEST_REQUIRE((!ec && v.is_object()), "not a JSON object: " << l);
    const auto& o = v.as_object();
    BOOST_TEST(o.contains("ts"));
    BOOST_TEST(o.contains("level"));
    BOOST_TEST(o.contains("event"));
    static const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
    BOOST_TEST(std::regex_match(std::string(o.at("ts").as_string()), stamp), l);
    out.push_back(o);
  }
  return out;
}

/// The events named `event` whose fields include every pair of `fields`.
std::vector<json::object> find(const std::vector<json::object>& events, std::string_view event,
                               const json::object& fields = {}) {
  std::vector<json::object> out;
  for (const auto& e : events) {
    if (e.at("event").as_string() != event) continue;
    bool all = true;
    for (const auto& [k, v] : fields) {
      const auto* have = e.if_contains(k);
      all = all && have && *have == v;
    }
    if (all) out.push_back(e);
  }
  return out;
}

daemon_options json_options(const log_lines& log, log_level level = log_level::info) {
  auto o = test_daemon_options();
  o.log = log.sink();
  o.log_line_format = log_format::json;
  o.log_threshold = level;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(json_lines_name_connections_sessions_and_refusals) {
  log_lines log;
  daemon_fixture f(json_options(log));
  {
    auto c = f.connect();
    auto a = c->request(spawn_request(), "spawn-1");
    BOOST_TEST_REQUIRE(a.has_value());
    const std::string sid = str(*a, "sessionId");
    BOOST_TEST_REQUIRE(c->request(session_request("terminate_session", sid), "term-1").has_value());
    auto bad = c->request(spawn_request("no-such-type"), "spawn-2");
    BOOST_TEST_REQUIRE(bad.has_value());
    BOOST_TEST(str(*bad, "type") == "error");
    BOOST_TEST_REQUIRE(!c->send_text("{not json"));
    BOOST_TEST_REQUIRE(c->next_answer().has_value());
    BOOST_TEST(!c->close(boost::beast::websocket::close_code::normal));

    BOOST_TEST_REQUIRE(wait_until([&] { return log.count("connection_closed") == 1; }, std::chrono::seconds(5)));
    const auto events = parse_lines(log.all());
    const auto opened = find(events, "connection_opened");
    BOOST_TEST_REQUIRE(opened.size() == 1u);
    BOOST_TEST(opened[0].at("node") == "test-node");
    BOOST_TEST(opened[0].at("level") == "info");
    const json::value conn = opened[0].at("connection");
    BOOST_TEST(conn.is_int64());
    BOOST_TEST(opened[0].at("peer").as_string().starts_with("127.0.0.1:"));

    BOOST_TEST(find(events, "session_state", {{"session", sid}, {"status", "running"}, {"requestId", "spawn-1"}}).size() == 1u);
    BOOST_TEST(find(events, "session_state", {{"session", sid}, {"status", "terminated"}, {"requestId", "term-1"}}).size() ==
               1u);
    const auto refused = find(events, "request_refused", {{"requestId", "spawn-2"}, {"level", "warning"}});
    BOOST_TEST_REQUIRE(refused.size() == 1u);
    BOOST_TEST(refused[0].at("error").is_string());
    BOOST_TEST(find(events, "request_refused", {{"error", "invalid_json"}}).size() == 1u);
    BOOST_TEST(find(events, "connection_closed", {{"connection", conn}, {"code", 1000}}).size() == 1u);
  }
  // A refused upgrade: its HTTP status.
  BOOST_TEST(http_get(f.port()).status == 426);
  BOOST_TEST_REQUIRE(wait_until([&] { return log.count("connection_refused") == 1; }, std::chrono::seconds(5)));
  BOOST_TEST(find(parse_lines(log.all()), "connection_refused", {{"code", 426}}).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_timeout_close_is_logged_with_its_code_and_reason) {
  log_lines log;
  auto o = json_options(log);
  o.heartbeat_timeout = milliseconds(200);
  o.heartbeat_interval = milliseconds(50);
  daemon_fixture f(o);
  auto c = f.connect();
  // Silent (no pings, no requests): closed for the heartbeat timeout, code 1000 and its reason.
  BOOST_TEST_REQUIRE(c->wait_closed(std::chrono::seconds(10)));
  BOOST_TEST_REQUIRE(wait_until([&] { return log.count("connection_closed") == 1; }, std::chrono::seconds(5)));
  const auto closed = find(parse_lines(log.all()), "connection_closed", {{"code", 1000}, {"reason", "heartbeat timeout"}});
  BOOST_TEST(closed.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_level_filters_events_out) {
  log_lines warn_log;
  {
    daemon_fixture f(json_options(warn_log, log_level::warning));
    auto c = f.connect();
    BOOST_TEST_REQUIRE(c->request(spawn_request(), "s").has_value());
    BOOST_TEST_REQUIRE(c->request(spawn_request("no-such-type"), "bad").has_value());
  }
  const auto events = parse_lines(warn_log.all());
  BOOST_TEST(find(events, "request_refused", {{"requestId", "bad"}}).size() == 1u);
  for (const auto& e : events) BOOST_TEST(e.at("level") != "info", json::serialize(e));

  log_lines none;
  {
    daemon_fixture f(json_options(none, log_level::off));
    auto c = f.connect();
    BOOST_TEST_REQUIRE(c->request(spawn_request("no-such-type"), "bad").has_value());
  }
  BOOST_TEST(none.all().empty());
}

BOOST_AUTO_TEST_CASE(format_of_a_line) {
  log_record r;
  r.level = log_level::warning;
  r.event = "request_refused";
  r.node = "n \"1\"";
  r.connection = 7;
  r.request_id = "r1";
  r.error = "capacity_exceeded";
  r.message = "line one\nline two";
  const auto ts = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  const std::string j = format_log_line(r, log_format::json, ts);
  const json::object o = json::parse(j).as_object();
  BOOST_TEST(o.at("ts") == "2023-11-14T22:13:20.123Z");
  BOOST_TEST(o.at("level") == "warning");
  BOOST_TEST(o.at("node") == "n \"1\"");
  BOOST_TEST(o.at("connection") == 7);
  BOOST_TEST(o.at("requestId") == "r1");
  BOOST_TEST(o.at("message") == "line one\nline two");
  BOOST_TEST(!o.contains("session"));  // unset fields are left out
  BOOST_TEST(j.find('\n') == std::string::npos);

  const std::string t = format_log_line(r, log_format::text, ts);
  BOOST_TEST(t == R"(2023-11-14T22:13:20.123Z warning request_refused node="n \"1\"" connection=7 requestId=r1 error=capacity_exceeded: line one line two)");

  BOOST_TEST((parse_log_level("warn") == std::optional(log_level::warning)));
  BOOST_TEST(!parse_log_level("verbose").has_value());
  BOOST_TEST((parse_log_format("json") == std::optional(log_format::json)));
  BOOST_TEST(!parse_log_format("xml").has_value());
}

BOOST_AUTO_TEST_CASE(cli_writes_json_lines_on_stderr) {
  child_process p(neolith_exe(), {"daemon", "--listen", "127.0.0.1:0", "--node-id", "cli-node", "--threads", "1",
                                  "--log-format", "json", "--log-level", "debug"});
  auto line = p.read_line(milliseconds(10'000));
  BOOST_TEST_REQUIRE(line.has_value(), "no listening line; stderr: " << p.err());
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  {
    ws_client c;
    BOOST_TEST_REQUIRE(!c.connect(port));
    BOOST_TEST_REQUIRE(c.request(spawn_request(), "s1").has_value());
    BOOST_TEST(!c.close());
  }
  p.signal(SIGTERM);
  const auto code = p.wait_exit(milliseconds(10'000));
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  std::vector<std::string> lines;
  std::istringstream in(p.err());
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const auto events = parse_lines(lines);
  BOOST_TEST(find(events, "connection_opened", {{"node", "cli-node"}}).size() == 1u);
  BOOST_TEST(find(events, "session_state", {{"requestId", "s1"}, {"status", "running"}}).size() == 1u);
  BOOST_TEST(find(events, "connection_closed", {{"code", 1000}}).size() == 1u);
  BOOST_TEST(find(events, "daemon").size() >= 2u);  // listening, signal, stopped

  child_process bad(neolith_exe(), {"daemon", "--log-level", "loud"});
  const auto bad_code = bad.wait_exit(milliseconds(5000));
  BOOST_TEST_REQUIRE(bad_code.has_value());
  BOOST_TEST(*bad_code == 2);
  BOOST_TEST(bad.err().find("--log-level") != std::string::npos);
}
