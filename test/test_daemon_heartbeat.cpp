// Daemon heartbeats (pushed each interval with the current health) and the idle timeout
// (close 1000 "heartbeat timeout"; data frames and WebSocket pings count as activity), with
// millisecond intervals.
#define BOOST_TEST_MODULE daemon_heartbeat
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/wait.hpp"

#include <neolith/protocol/json.hpp>

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {
bool is_heartbeat(const json::object& o) { return str(o, "type") == "heartbeat"; }
/// A heartbeat sent after the test's session was spawned (each client reads its own backlog:
/// the second may hold heartbeats of ticks before the spawn).
bool is_heartbeat_with_session(const json::object& o) {
  if (!is_heartbeat(o)) return false;
  const auto* h = o.if_contains("health");
  const auto* n = h && h->is_object() ? h->as_object().if_contains("activeSessions") : nullptr;
  return n && n->is_int64() && n->as_int64() == 1;
}
}  // namespace

BOOST_AUTO_TEST_CASE(heartbeats_are_pushed_to_every_client) {
  auto o = test_daemon_options();
  o.heartbeat_interval = milliseconds(50);
  daemon_fixture d(o);
  auto a = d.connect();
  auto b = d.connect();
  // A live session shows in the pushed health.
  BOOST_TEST(str(*a->request(spawn_request(), "s"), "type") == "session_spawned");
  for (ws_client* c : {a.get(), b.get()}) {
    auto first = c->next_matching(is_heartbeat_with_session, 2s);
    BOOST_TEST_REQUIRE(first.has_value());
    const auto t0 = steady_clock::now();
    auto hb = c->next_matching(is_heartbeat, 2s);
    BOOST_TEST_REQUIRE(hb.has_value());
    const auto gap = steady_clock::now() - t0;
    BOOST_TEST((gap < milliseconds(1500)));
    BOOST_TEST(!hb->contains("requestId"));
    // A number of ms since the epoch (the TypeScript client's `timestamp: number`).
    BOOST_TEST_REQUIRE(hb->at("timestamp").is_int64());
    BOOST_TEST(hb->at("timestamp").as_int64() > 1'700'000'000'000);
    auto h = from_json<node_health>(hb->at("health"));
    BOOST_TEST_REQUIRE(h.has_value());
    BOOST_TEST(h.value().active_sessions == 1);
    BOOST_TEST((h.value().status == node_status::healthy));
  }
  // Two ticks read by each of the two clients (the daemon counts a tick's frames before
  // queueing them).
  BOOST_TEST(wait_until([&] { return d.server().stats().heartbeats_sent >= 4u; }, 2s));
}

BOOST_AUTO_TEST_CASE(idle_client_is_closed_with_1000_heartbeat_timeout) {
  auto o = test_daemon_options();
  o.heartbeat_interval = milliseconds(40);
  o.heartbeat_timeout = milliseconds(300);
  daemon_fixture d(o);
  // Before connecting: the daemon's clock starts once the upgrade is done, after this.
  const auto t0 = steady_clock::now();
  auto c = d.connect();
  // Only receiving (the daemon's heartbeats) does not count as activity.
  BOOST_TEST_REQUIRE(c->wait_closed(5s));
  const auto took = steady_clock::now() - t0;
  BOOST_TEST((took >= milliseconds(300)));
  BOOST_TEST((took < milliseconds(3000)));
  BOOST_TEST(c->close_reason().code == static_cast<std::uint16_t>(websocket::close_code::normal));
  BOOST_TEST(std::string(c->close_reason().reason.c_str()) == "heartbeat timeout");
  BOOST_TEST(d.server().stats().heartbeat_timeouts == 1u);
  BOOST_TEST(wait_until([&] { return d.server().stats().connections == 0u; }, 2s));
}

BOOST_AUTO_TEST_CASE(pings_and_requests_keep_a_client_alive) {
  auto o = test_daemon_options();
  o.heartbeat_interval = milliseconds(1000);
  o.heartbeat_timeout = milliseconds(500);
  daemon_fixture d(o);
  auto pinger = d.connect();
  auto talker = d.connect();
  auto idle = d.connect();
  const auto until = steady_clock::now() + milliseconds(1200);
  int i = 0;
  while (steady_clock::now() < until) {
    BOOST_TEST_REQUIRE(!pinger->ping());
    auto a = talker->request(simple_request("heartbeat"), "hb" + std::to_string(i++));
    BOOST_TEST_REQUIRE(a.has_value());
    std::this_thread::sleep_for(milliseconds(50));
  }
  // 1200 ms > 2 timeouts, one activity every ~50 ms: the active ones are still open, the idle one was closed.
  BOOST_TEST(idle->wait_closed(2s));
  BOOST_TEST(!pinger->ended());
  BOOST_TEST(!talker->ended());
  auto a = pinger->request(simple_request("get_health"), "still");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(d.server().stats().heartbeat_timeouts == 1u);
}
