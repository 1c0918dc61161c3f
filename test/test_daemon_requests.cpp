// The daemon over the wire: every request of protocol-v1.md and the exact shape of its answer,
// the session semantics (spawn, get, terminate, restore, list), capacity and session-type
// refusals, response_too_large, and the idempotency window.
#define BOOST_TEST_MODULE daemon_requests
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/wait.hpp"

#include <neolith/core/version.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/json.hpp>

#include <set>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;

namespace {

/// The keys of `o`.
std::set<std::string> keys(const json::object& o) {
  std::set<std::string> k;
  for (const auto& kv : o) k.insert(std::string(kv.key()));
  return k;
}

bool is_iso_date(const json::value& v) {
  return v.is_string() && parse_timestamp(v.as_string()).has_value() && v.as_string().size() == 24 &&
         v.as_string().back() == 'Z';
}

void check_session_shape(const json::object& s) {
  for (const char* k : {"id", "orchestratorId", "task", "type", "status", "startedAt", "memoryContext", "metrics"})
    BOOST_TEST(s.contains(k), "Session field " << k);
  BOOST_TEST(is_iso_date(s.at("startedAt")));
  const auto& mc = s.at("memoryContext").as_object();
  BOOST_TEST(mc.at("scratchpad").is_object());
  BOOST_TEST(mc.at("episodic").is_array());
  BOOST_TEST(mc.at("semantic").is_array());
  const auto& m = s.at("metrics").as_object();
  for (const char* k : {"tokensUsed", "duration", "tasksCompleted", "errorsEncountered", "averageResponseTime"})
    BOOST_TEST(m.at(k).is_number(), "metrics." << k);
  // Round trip through the library's own strict reader.
  BOOST_TEST(from_json<session>(json::value(s)).has_value());
}

json::object spawn(ws_client& c, std::string_view id, std::string_view type = "claude-code") {
  auto a = c.request(spawn_request(type), id);
  BOOST_TEST_REQUIRE(a.has_value(), "no answer to spawn " << id);
  return *a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(node_info_health_heartbeat_shapes) {
  auto o = test_daemon_options();
  o.max_sessions = 7;
  o.has_gpu_access = true;
  o.custom_capabilities = {{"fast-disk", true}};
  daemon_fixture d(o);
  auto c = d.connect();

  auto info = c->request(simple_request("get_node_info"), "n1");
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(str(*info, "type") == "node_info");
  BOOST_TEST(str(*info, "nodeId") == "test-node");
  BOOST_TEST(str(*info, "version") == version_string);
  BOOST_TEST(info->at("protocolVersion").as_int64() == 1);
  const auto& caps = info->at("capabilities").as_object();
  BOOST_TEST(caps.at("canSpawnSessions").as_bool() == true);
  BOOST_TEST(caps.at("maxConcurrentSessions").as_int64() == 7);
  // Both spellings of claude-flow (issue 11).
  BOOST_TEST(caps.at("supportedSessionTypes") == (boost::json::array{"claude-code", "claude-flow", "ruflo"}));
  BOOST_TEST(caps.at("hasGPUAccess").as_bool() == true);
  BOOST_TEST(caps.at("hasHighMemory").as_bool() == false);
  BOOST_TEST(caps.at("customCapabilities").as_object().at("fast-disk").as_bool() == true);

  auto h = c->request(simple_request("get_health"), "h1");
  BOOST_TEST_REQUIRE(h.has_value());
  BOOST_TEST(str(*h, "type") == "health_response");
  BOOST_TEST(keys(*h) == (std::set<std::string>{"type", "requestId", "health"}));
  const auto& health = h->at("health").as_object();
  BOOST_TEST(str(health, "status") == "healthy");
  BOOST_TEST(health.at("cpuUsage").to_number<double>() >= 0);
  BOOST_TEST(health.at("cpuUsage").to_number<double>() <= 100);
  BOOST_TEST(health.at("memoryUsage").to_number<double>() > 0);  // a real machine uses memory
  BOOST_TEST(health.at("memoryUsage").to_number<double>() <= 100);
  BOOST_TEST(health.at("activeSessions").as_int64() == 0);
  BOOST_TEST(health.at("responseTime").is_number());
  BOOST_TEST(is_iso_date(health.at("lastHeartbeat")));
  BOOST_TEST(health.at("uptime").is_int64());  // whole seconds

  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  auto ack = c->request(simple_request("heartbeat"), "hb1");
  BOOST_TEST_REQUIRE(ack.has_value());
  BOOST_TEST(str(*ack, "type") == "heartbeat_ack");
  BOOST_TEST(ack->at("timestamp").is_int64());
  BOOST_TEST(ack->at("timestamp").as_int64() >= before - 5);

  // A request without requestId is answered without one.
  BOOST_TEST_REQUIRE(!c->send_json(simple_request("get_health")));
  auto plain = c->next_answer();
  BOOST_TEST_REQUIRE(plain.has_value());
  BOOST_TEST(str(*plain, "type") == "health_response");
  BOOST_TEST(!plain->contains("requestId"));

  // A client's heartbeat_ack (the answer to our heartbeat) is not answered: the next answer
  // on the wire is the one to the following request.
  json::object hack;
  hack["type"] = "heartbeat_ack";
  hack["timestamp"] = 123;
  BOOST_TEST_REQUIRE(!c->send_json(hack));
  BOOST_TEST_REQUIRE(!c->send_json([] { auto r = simple_request("get_sessions"); r["requestId"] = "after-ack"; return r; }()));
  auto next = c->next_answer();
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST(str(*next, "requestId") == "after-ack");

  // A heartbeat with a date timestamp and a health (as the TypeScript client sends) is fine.
  json::object hb = simple_request("heartbeat");
  hb["timestamp"] = "2026-11-29T08:47:57.123Z";
  auto ack2 = c->request(hb, "hb2");
  BOOST_TEST_REQUIRE(ack2.has_value());
  BOOST_TEST(str(*ack2, "type") == "heartbeat_ack");

  // Its timestamp and health are not interpreted: whatever they hold, the heartbeat is acked...
  json::object odd = simple_request("heartbeat");
  odd["timestamp"] = "not a date";
  odd["health"] = json::array{1, 2};
  auto ack3 = c->request(odd, "hb3");
  BOOST_TEST_REQUIRE(ack3.has_value());
  BOOST_TEST(str(*ack3, "type") == "heartbeat_ack");
  // ...but a broken envelope is still an error.
  BOOST_TEST_REQUIRE(!c->send_text(R"({"type":"heartbeat","requestId":5,"health":1})"));
  auto bad = c->next_answer();
  BOOST_TEST_REQUIRE(bad.has_value());
  BOOST_TEST(str(*bad, "code") == "invalid_message");
}

BOOST_AUTO_TEST_CASE(spawn_get_terminate_list) {
  daemon_fixture d;
  auto c = d.connect();
  auto a = spawn(*c, "s1");
  BOOST_TEST(str(a, "type") == "session_spawned");
  const std::string id = str(a, "sessionId");
  BOOST_TEST(!id.empty());
  const auto& s = a.at("session").as_object();
  check_session_shape(s);
  BOOST_TEST(str(s, "id") == id);
  BOOST_TEST(str(s, "status") == "running");
  BOOST_TEST(str(s, "type") == "claude-code");
  BOOST_TEST(str(s, "orchestratorId") == "orch-1");
  BOOST_TEST(str(s.at("task").as_object(), "id") == "task-1");
  BOOST_TEST(!s.contains("endedAt"));

  // A second spawn gets another id; "ruflo" comes back as spelled (issue 11).
  auto b = spawn(*c, "s2", "ruflo");
  BOOST_TEST(str(b, "sessionId") != id);
  BOOST_TEST(str(b.at("session").as_object(), "type") == "ruflo");

  auto g = c->request(session_request("get_session", id), "g1");
  BOOST_TEST_REQUIRE(g.has_value());
  BOOST_TEST(str(*g, "type") == "session_state");
  BOOST_TEST(str(*g, "sessionId") == id);
  check_session_shape(g->at("session").as_object());

  // metrics.duration is real: it grows while the session runs.
  BOOST_TEST(wait_until(
      [&] {
        auto g2 = c->request(session_request("get_session", id), "g-dur");
        return g2 && g2->at("session").as_object().at("metrics").as_object().at("duration").to_number<double>() >= 20;
      },
      5s));

  auto unknown = c->request(session_request("get_session", "no-such-session"), "g2");
  BOOST_TEST_REQUIRE(unknown.has_value());
  BOOST_TEST(str(*unknown, "type") == "session_state");
  BOOST_TEST(str(*unknown, "sessionId") == "no-such-session");
  BOOST_TEST(unknown->at("session").is_null());

  auto t = c->request(session_request("terminate_session", id), "t1");
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(str(*t, "type") == "session_terminated");
  BOOST_TEST(str(*t, "sessionId") == id);
  BOOST_TEST(t->at("success").as_bool() == true);
  auto t2 = c->request(session_request("terminate_session", id), "t2");
  BOOST_TEST(t2->at("success").as_bool() == false);
  auto t3 = c->request(session_request("terminate_session", "nope"), "t3");
  BOOST_TEST(t3->at("success").as_bool() == false);

  auto ended = c->request(session_request("get_session", id), "g3");
  const auto& es = ended->at("session").as_object();
  BOOST_TEST(str(es, "status") == "terminated");
  BOOST_TEST(is_iso_date(es.at("endedAt")));
  const double frozen = es.at("metrics").as_object().at("duration").to_number<double>();
  BOOST_TEST(frozen >= 20);

  auto list = c->request(simple_request("get_sessions"), "l1");
  BOOST_TEST_REQUIRE(list.has_value());
  BOOST_TEST(str(*list, "type") == "sessions_response");
  const auto& sessions = list->at("sessions").as_array();
  BOOST_TEST(sessions.size() == 2u);  // the live one and the ended one
  for (const auto& v : sessions) check_session_shape(v.as_object());

  auto h = c->request(simple_request("get_health"), "h");
  BOOST_TEST(h->at("health").as_object().at("activeSessions").as_int64() == 1);
  BOOST_TEST(d.server().live_sessions() == 1u);
  BOOST_TEST(d.server().stats().spawns_executed == 2u);
}

BOOST_AUTO_TEST_CASE(restore_semantics) {
  daemon_fixture d;
  auto c = d.connect();
  auto a = spawn(*c, "sp");
  const std::string id = str(a, "sessionId");
  json::object session = a.at("session").as_object();

  // A live session with that id exists: false, untouched.
  auto r1 = c->request(restore_request(session), "r1");
  BOOST_TEST_REQUIRE(r1.has_value());
  BOOST_TEST(str(*r1, "type") == "session_restored");
  BOOST_TEST(str(*r1, "sessionId") == id);
  BOOST_TEST(r1->at("success").as_bool() == false);

  // Ended: restored under its own id, running again, endedAt dropped.
  BOOST_TEST(c->request(session_request("terminate_session", id), "t")->at("success").as_bool());
  json::object ended = c->request(session_request("get_session", id), "g")->at("session").as_object();
  BOOST_TEST(ended.contains("endedAt"));
  json::object snap;
  snap["notes"] = "remember this";
  auto r2 = c->request(restore_request(ended, snap), "r2");
  BOOST_TEST(r2->at("success").as_bool() == true);
  auto g = c->request(session_request("get_session", id), "g2")->at("session").as_object();
  BOOST_TEST(str(g, "status") == "running");
  BOOST_TEST(!g.contains("endedAt"));
  BOOST_TEST(str(g, "orchestratorId") == "orch-1");

  // A session from another node: recreated under its id.
  json::object foreign = session;
  foreign["id"] = "foreign-1";
  foreign["status"] = "completed";
  foreign["endedAt"] = "2026-11-29T09:00:00.000Z";
  auto r3 = c->request(restore_request(foreign), "r3");
  BOOST_TEST(r3->at("success").as_bool() == true);
  auto g3 = c->request(session_request("get_session", "foreign-1"), "g3");
  BOOST_TEST(str(g3->at("session").as_object(), "status") == "running");
  BOOST_TEST(d.server().live_sessions() == 2u);
}

BOOST_AUTO_TEST_CASE(capacity_and_session_types) {
  auto o = test_daemon_options();
  o.max_sessions = 2;
  o.session_types = {session_type::claude_code};
  daemon_fixture d(o);
  auto c = d.connect();

  auto wrong = c->request(spawn_request("claude-flow"), "w");
  BOOST_TEST_REQUIRE(wrong.has_value());
  BOOST_TEST(str(*wrong, "type") == "error");
  BOOST_TEST(str(*wrong, "code") == "unsupported_session_type");
  BOOST_TEST(str(*wrong, "requestType") == "spawn_session");
  BOOST_TEST(!str(*wrong, "error").empty());

  const std::string s1 = str(spawn(*c, "a"), "sessionId");
  const std::string s2 = str(spawn(*c, "b"), "sessionId");
  auto full = c->request(spawn_request(), "c");
  BOOST_TEST(str(*full, "type") == "error");
  BOOST_TEST(str(*full, "code") == "capacity_exceeded");
  BOOST_TEST(str(*full, "requestId") == "c");

  // Near capacity: degraded.
  auto h = c->request(simple_request("get_health"), "h");
  BOOST_TEST(str(h->at("health").as_object(), "status") == "degraded");

  // Restore refused the same ways.
  json::object sess = c->request(session_request("get_session", s1), "g")->at("session").as_object();
  sess["id"] = "other";
  auto r = c->request(restore_request(sess), "r");
  BOOST_TEST(str(*r, "code") == "capacity_exceeded");
  sess["type"] = "claude-flow";
  auto r2 = c->request(restore_request(sess), "r2");
  BOOST_TEST(str(*r2, "code") == "unsupported_session_type");

  // Freeing a slot lets a new spawn in.
  BOOST_TEST(c->request(session_request("terminate_session", s2), "t")->at("success").as_bool());
  auto ok = c->request(spawn_request(), "d");
  BOOST_TEST(str(*ok, "type") == "session_spawned");
}

BOOST_AUTO_TEST_CASE(zero_capacity_node_cannot_spawn) {
  auto o = test_daemon_options();
  o.max_sessions = 0;
  daemon_fixture d(o);
  auto c = d.connect();
  auto info = c->request(simple_request("get_node_info"), "i");
  BOOST_TEST(info->at("capabilities").as_object().at("canSpawnSessions").as_bool() == false);
  auto a = c->request(spawn_request(), "s");
  BOOST_TEST(str(*a, "code") == "capacity_exceeded");
}

BOOST_AUTO_TEST_CASE(response_too_large) {
  auto o = test_daemon_options();
  o.max_message_bytes = 4096;
  daemon_fixture d(o);
  auto c = d.connect();
  // Each session is ~600 bytes on the wire: ten of them exceed 4 KiB in get_sessions.
  for (int i = 0; i < 10; ++i) BOOST_TEST(str(spawn(*c, "s" + std::to_string(i)), "type") == "session_spawned");
  auto big = c->request(simple_request("get_sessions"), "list");
  BOOST_TEST_REQUIRE(big.has_value());
  BOOST_TEST(str(*big, "type") == "error");
  BOOST_TEST(str(*big, "code") == "response_too_large");
  BOOST_TEST(str(*big, "requestType") == "get_sessions");
  // The connection is still fine.
  auto h = c->request(simple_request("get_health"), "h");
  BOOST_TEST(str(*h, "type") == "health_response");
  BOOST_TEST(d.server().stats().responses_too_large >= 1u);
}

BOOST_AUTO_TEST_CASE(idempotent_replay) {
  auto o = test_daemon_options();
  o.max_sessions = 2;
  daemon_fixture d(o);
  auto c = d.connect();

  auto first = spawn(*c, "spawn-x");
  auto again = spawn(*c, "spawn-x");
  BOOST_TEST(json::serialize(first) == json::serialize(again));  // the recorded answer itself
  BOOST_TEST(d.server().stats().spawns_executed == 1u);
  BOOST_TEST(d.server().stats().replays_served == 1u);
  BOOST_TEST(d.server().live_sessions() == 1u);

  // Replayed on another connection too (a client resending after a reconnect).
  auto c2 = d.connect();
  auto third = spawn(*c2, "spawn-x");
  BOOST_TEST(str(third, "sessionId") == str(first, "sessionId"));
  BOOST_TEST(d.server().live_sessions() == 1u);

  // The same requestId with another type is another request.
  const std::string id = str(first, "sessionId");
  auto t = c->request(session_request("terminate_session", id), "spawn-x");
  BOOST_TEST(str(*t, "type") == "session_terminated");
  BOOST_TEST(t->at("success").as_bool() == true);
  // A resent terminate gets the recorded success: true, not false.
  auto t2 = c->request(session_request("terminate_session", id), "spawn-x");
  BOOST_TEST(t2->at("success").as_bool() == true);
  BOOST_TEST(d.server().stats().requests_of(message_type::terminate_session) == 1u);

  // Error answers are recorded too: capacity_exceeded stays the answer of that requestId
  // even once there is room.
  spawn(*c, "fill-1");
  spawn(*c, "fill-2");
  auto refused = spawn(*c, "refused");
  BOOST_TEST(str(refused, "code") == "capacity_exceeded");
  // A live one (the list is in start order, and sessions started within the same millisecond
  // are in id order, which is random: the terminated first session may come last).
  std::string fill1;
  const auto listed = c->request(simple_request("get_sessions"), "l");
  BOOST_TEST_REQUIRE(listed.has_value());
  for (const auto& v : listed->at("sessions").as_array()) {
    if (str(v.as_object(), "status") != "terminated") fill1 = str(v.as_object(), "id");
  }
  BOOST_TEST_REQUIRE(!fill1.empty());
  BOOST_TEST(c->request(session_request("terminate_session", fill1), "free")->at("success").as_bool());
  auto refused_again = spawn(*c, "refused");
  BOOST_TEST(str(refused_again, "code") == "capacity_exceeded");
  auto fresh = spawn(*c, "new-attempt");
  BOOST_TEST(str(fresh, "type") == "session_spawned");

  // Restore replayed.
  json::object s = first.at("session").as_object();
  s["id"] = "restored-once";
  BOOST_TEST(c->request(session_request("terminate_session", str(fresh, "sessionId")), "free2")->at("success").as_bool());
  auto r1 = c->request(restore_request(s), "restore-1");
  BOOST_TEST(r1->at("success").as_bool() == true);
  BOOST_TEST(c->request(session_request("terminate_session", "restored-once"), "t-r")->at("success").as_bool());
  auto r2 = c->request(restore_request(s), "restore-1");
  BOOST_TEST(r2->at("success").as_bool() == true);
  auto g = c->request(session_request("get_session", "restored-once"), "g");
  BOOST_TEST(str(g->at("session").as_object(), "status") == "terminated");  // not restored twice

  // Reads are executed again.
  auto h1 = c->request(simple_request("get_sessions"), "read");
  BOOST_TEST(str(*h1, "type") == "sessions_response");
  auto h2 = c->request(simple_request("get_sessions"), "read");
  BOOST_TEST(str(*h2, "type") == "sessions_response");
  BOOST_TEST(d.server().stats().requests_of(message_type::get_sessions) >= 3u);
}

BOOST_AUTO_TEST_CASE(idempotency_window_is_bounded_in_time) {
  auto o = test_daemon_options();
  o.idempotency_window = std::chrono::milliseconds(800);  // slack for a slow repeat
  daemon_fixture d(o);
  auto c = d.connect();
  auto a = spawn(*c, "w");
  auto b = spawn(*c, "w");
  BOOST_TEST(str(a, "sessionId") == str(b, "sessionId"));
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // past the window: a new request
  auto e = spawn(*c, "w");
  BOOST_TEST(str(e, "sessionId") != str(a, "sessionId"));
}

BOOST_AUTO_TEST_CASE(ended_sessions_retention) {
  auto o = test_daemon_options();
  o.max_ended_sessions = 2;
  o.ended_session_retention = std::chrono::milliseconds(1000);  // slack for the listing below
  daemon_fixture d(o);
  auto c = d.connect();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(str(spawn(*c, "s" + std::to_string(i)), "sessionId"));
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(c->request(session_request("terminate_session", ids[i]), "t" + std::to_string(i))->at("success").as_bool());
  // At most the 2 most recent ended ones, plus the live one.
  auto l = c->request(simple_request("get_sessions"), "l");
  BOOST_TEST(l->at("sessions").as_array().size() == 3u);
  BOOST_TEST(c->request(session_request("get_session", ids[0]), "g0")->at("session").is_null());
  BOOST_TEST(!c->request(session_request("get_session", ids[2]), "g2")->at("session").is_null());
  // After the retention time only the live one is left.
  BOOST_TEST(wait_until([&] { return c->request(simple_request("get_sessions"), "l2")->at("sessions").as_array().size() == 1u; }, 5s));
}

BOOST_AUTO_TEST_CASE(answer_types_sent_to_the_daemon_are_refused) {
  daemon_fixture d;
  auto c = d.connect();
  json::object m;
  m["type"] = "session_terminated";
  m["sessionId"] = "x";
  m["success"] = true;
  auto a = c->request(m, "odd");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(str(*a, "type") == "error");
  BOOST_TEST(str(*a, "code") == "unknown_type");
  BOOST_TEST(str(*a, "requestType") == "session_terminated");
}
