// Concurrency: 200 requests in flight on one connection (answers matched by requestId),
// 200 connections at once, concurrent spawns racing for capacity and for one requestId, and
// pushes to many clients, with the daemon on several threads.
#define BOOST_TEST_MODULE daemon_concurrency
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/wait.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <set>
#include <thread>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;

BOOST_AUTO_TEST_CASE(two_hundred_requests_in_flight_on_one_connection) {
  auto o = test_daemon_options();
  o.response_delay = std::chrono::milliseconds(20);  // keeps them all in flight together
  daemon_fixture d(o, 3);
  auto c = d.connect();
  constexpr int n = 200;
  const char* types[] = {"get_health", "get_sessions", "get_node_info", "heartbeat", "spawn_session"};
  const char* answers[] = {"health_response", "sessions_response", "node_info", "heartbeat_ack", "session_spawned"};
  for (int i = 0; i < n; ++i) {
    json::object r = i % 5 == 4 ? spawn_request() : simple_request(types[i % 5]);
    r["requestId"] = "req-" + std::to_string(i);
    BOOST_TEST_REQUIRE(!c->send_json(r));
  }
  std::set<std::string> got;
  for (int i = 0; i < n; ++i) {
    auto a = c->next_answer(10s);
    BOOST_TEST_REQUIRE(a.has_value(), "only " << i << " answers");
    const std::string id = str(*a, "requestId");
    BOOST_TEST_REQUIRE(id.starts_with("req-"));
    const int k = std::stoi(id.substr(4));
    BOOST_TEST(str(*a, "type") == answers[k % 5], id);
    BOOST_TEST(got.insert(id).second, "answered twice: " << id);
  }
  BOOST_TEST(got.size() == static_cast<std::size_t>(n));
  BOOST_TEST(d.server().live_sessions() == 40u);
}

BOOST_AUTO_TEST_CASE(two_hundred_connections_at_once) {
  daemon_fixture d(test_daemon_options(), 2);
  constexpr int n = 200;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < n; ++i) clients.push_back(d.connect());
  BOOST_TEST(wait_until([&] { return d.server().stats().connections == static_cast<std::size_t>(n); }, 5s));
  for (int i = 0; i < n; ++i) {
    json::object r = i % 2 ? spawn_request() : simple_request("get_health");
    r["requestId"] = "c" + std::to_string(i);
    BOOST_TEST_REQUIRE(!clients[static_cast<std::size_t>(i)]->send_json(r));
  }
  for (int i = 0; i < n; ++i) {
    auto a = clients[static_cast<std::size_t>(i)]->next_answer(10s);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(str(*a, "requestId") == "c" + std::to_string(i));
    BOOST_TEST(str(*a, "type") == (i % 2 ? "session_spawned" : "health_response"));
  }
  BOOST_TEST(d.server().live_sessions() == 100u);
  clients.clear();
  BOOST_TEST(wait_until([&] { return d.server().stats().connections == 0u; }, 5s));
}

BOOST_AUTO_TEST_CASE(concurrent_spawns_respect_capacity_and_idempotency) {
  auto o = test_daemon_options();
  o.max_sessions = 25;
  daemon_fixture d(o, 4);
  constexpr int threads = 8;
  constexpr int per_thread = 10;
  std::atomic<int> spawned{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::string> shared_ids(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ws_client c;
      if (c.connect(d.port())) {
        ++other;
        return;
      }
      for (int i = 0; i < per_thread; ++i) {
        auto a = c.request(spawn_request(), "t" + std::to_string(t) + "-" + std::to_string(i), 10s);
        if (!a) ++other;
        else if (str(*a, "type") == "session_spawned") ++spawned;
        else if (str(*a, "code") == "capacity_exceeded") ++refused;
        else ++other;
      }
      // Every thread sends the same requestId: one execution, one session id for all.
      auto s = c.request(simple_request("get_health"), "warm", 10s);
      (void)s;
      auto same = c.request(session_request("terminate_session", "none"), "shared-terminate", 10s);
      if (same) shared_ids[static_cast<std::size_t>(t)] = json::serialize(*same);
    });
  }
  for (auto& th : pool) th.join();
  BOOST_TEST(other.load() == 0);
  BOOST_TEST(spawned.load() == 25);
  BOOST_TEST(refused.load() == threads * per_thread - 25);
  BOOST_TEST(d.server().live_sessions() == 25u);
  for (const auto& s : shared_ids) BOOST_TEST(s == shared_ids.front());
  BOOST_TEST(d.server().stats().requests_of(message_type::terminate_session) == 1u);
}

BOOST_AUTO_TEST_CASE(heartbeats_to_many_clients_while_requests_run) {
  auto o = test_daemon_options();
  o.heartbeat_interval = std::chrono::milliseconds(10);
  daemon_fixture d(o, 3);
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(d.connect());
  for (int round = 0; round < 5; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto a = clients[i]->request(simple_request("get_sessions"), "r" + std::to_string(round), 10s);
      BOOST_TEST_REQUIRE(a.has_value());
    }
  }
  for (auto& c : clients) {
    auto hb = c->next_matching([](const json::object& m) { return str(m, "type") == "heartbeat"; }, 5s);
    BOOST_TEST(hb.has_value());
  }
}
