// Stopping a daemon: graceful stop (close 1001, sessions ended, fully-stopped notification,
// the port reusable at once), requests in flight, peers that never answer the close, abort
// (no close frames), thread-safe idempotent stop/abort, and destruction while running.
#define BOOST_TEST_MODULE daemon_shutdown
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/daemon_fixture.hpp"
#include "support/wait.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace neolith;
using namespace neolith::test;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

BOOST_AUTO_TEST_CASE(graceful_stop_closes_with_1001_and_ends_sessions) {
  std::uint16_t port = 0;
  {
    daemon_fixture d;
    port = d.port();
    auto a = d.connect();
    auto b = d.connect();
    const std::string id = str(*a->request(spawn_request(), "s"), "sessionId");
    std::atomic<bool> notified{false};
    d.server().on_stopped([&] { notified = true; });
    BOOST_TEST(d.stop_and_wait(5s));
    BOOST_TEST(notified.load());
    BOOST_TEST(d.server().stopped());
    for (ws_client* c : {a.get(), b.get()}) {
      BOOST_TEST(c->wait_closed(2s));
      BOOST_TEST(c->close_reason().code == static_cast<std::uint16_t>(websocket::close_code::going_away));
    }
    const auto sessions = d.server().sessions();
    BOOST_TEST_REQUIRE(sessions.size() == 1u);
    BOOST_TEST(sessions[0].id == id);
    BOOST_TEST((sessions[0].status == session_status::terminated));
    BOOST_TEST(d.server().live_sessions() == 0u);
    // Stop again, abort after stop: harmless.
    d.server().stop();
    d.server().abort();
    // Registered after the stop: called at once.
    std::atomic<bool> late{false};
    d.server().on_stopped([&] { late = true; });
    BOOST_TEST(wait_until([&] { return late.load(); }, 2s));
    // No new connections.
    ws_client c;
    BOOST_TEST(c.connect(port, milliseconds(1000)));
  }
  // A new daemon on the same port right away (SO_REUSEADDR).
  auto o = test_daemon_options();
  o.port = port;
  daemon_fixture again(o);
  BOOST_TEST(again.port() == port);
  auto c = again.connect();
  BOOST_TEST(c->request(simple_request("get_health"), "h").has_value());
}

BOOST_AUTO_TEST_CASE(stop_does_not_wait_for_delayed_answers) {
  auto o = test_daemon_options();
  o.response_delay = milliseconds(3000);
  // The client answers the close only when it reads, after the stop: the daemon waits
  // close_timeout for it. Short, so that the bound below measures the held-back answers.
  o.close_timeout = milliseconds(200);
  daemon_fixture d(o);
  auto c = d.connect();
  for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(!c->send_json(spawn_request()));
  BOOST_TEST(wait_until([&] { return d.server().stats().spawns_executed == 10u; }, 5s));
  const auto t0 = steady_clock::now();
  BOOST_TEST(d.stop_and_wait(5s));
  BOOST_TEST((steady_clock::now() - t0 < milliseconds(1500)));
  BOOST_TEST(c->wait_closed(2s));
  BOOST_TEST(c->close_reason().code == static_cast<std::uint16_t>(websocket::close_code::going_away));
  BOOST_TEST(c->queued() == 0u);  // the held-back answers were never sent
}

BOOST_AUTO_TEST_CASE(peer_that_ignores_the_close_is_cut_after_close_timeout) {
  auto o = test_daemon_options();
  o.close_timeout = milliseconds(300);
  daemon_fixture d(o);
  // A raw peer that upgrades and then never reads nor answers the close frame.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), d.port()});
  const std::string req =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(req));
  std::string head;
  boost::asio::read_until(sock, boost::asio::dynamic_buffer(head), "\r\n\r\n");
  BOOST_TEST_REQUIRE(head.starts_with("HTTP/1.1 101"));
  BOOST_TEST(wait_until([&] { return d.server().stats().connections == 1u; }, 2s));
  const auto t0 = steady_clock::now();
  BOOST_TEST(d.stop_and_wait(5s));
  const auto took = steady_clock::now() - t0;
  BOOST_TEST((took >= milliseconds(250)));
  BOOST_TEST((took < milliseconds(3000)));
}

BOOST_AUTO_TEST_CASE(abort_closes_without_close_frames) {
  auto o = test_daemon_options();
  o.response_delay = milliseconds(2000);
  daemon_fixture d(o);
  auto c = d.connect();
  auto other = d.connect();
  BOOST_TEST_REQUIRE(!c->send_json([] { auto r = spawn_request(); r["requestId"] = "in-flight"; return r; }()));
  BOOST_TEST(wait_until([&] { return d.server().stats().spawns_executed == 1u; }, 5s));
  BOOST_TEST(d.abort_and_wait(5s));
  for (ws_client* x : {c.get(), other.get()}) {
    BOOST_TEST(x->wait_closed(2s));
    BOOST_TEST(x->close_reason().code == 0);  // no close frame: the TCP connection just ended
    BOOST_TEST((x->end_error() != boost::beast::websocket::error::closed));
  }
  BOOST_TEST(c->queued() == 0u);
}

BOOST_AUTO_TEST_CASE(stop_and_abort_from_many_threads) {
  daemon_fixture d(test_daemon_options(), 3);
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(d.connect());
  std::vector<std::thread> pool;
  for (int i = 0; i < 6; ++i)
    pool.emplace_back([&, i] {
      if (i % 3 == 2) d.server().abort();
      else d.server().stop();
      (void)d.server().stats();
      (void)d.server().health();
    });
  for (auto& t : pool) t.join();
  std::atomic<bool> done{false};
  d.server().on_stopped([&] { done = true; });
  BOOST_TEST(wait_until([&] { return done.load(); }, 5s));
  for (auto& c : clients) BOOST_TEST(c->wait_closed(2s));
}

BOOST_AUTO_TEST_CASE(stopped_callbacks_run_in_registration_order) {
  // Four io threads: the callbacks must still run one after the other, in order, so that a
  // waiter registered last sees every earlier callback done.
  daemon_fixture d(test_daemon_options(), 4);
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  for (int i = 0; i < 32; ++i)
    d.server().on_stopped([&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      {
        std::lock_guard lock(mu);
        order.push_back(i);
      }
      running.fetch_sub(1);
    });
  BOOST_TEST_REQUIRE(d.stop_and_wait(5s));
  std::lock_guard lock(mu);
  BOOST_TEST_REQUIRE(order.size() == 32u);
  for (int i = 0; i < 32; ++i) BOOST_TEST(order[static_cast<std::size_t>(i)] == i);
  BOOST_TEST(!overlapped.load());
}

BOOST_AUTO_TEST_CASE(async_wait_stopped_resumes_a_coroutine) {
  daemon_fixture d;
  std::atomic<bool> resumed{false};
  boost::asio::co_spawn(
      d.ioc(),
      [&]() -> boost::asio::awaitable<void> {
        co_await d.server().async_wait_stopped();
        resumed = true;
      },
      boost::asio::detached);
  std::this_thread::sleep_for(milliseconds(20));
  BOOST_TEST(!resumed.load());
  d.server().stop();
  BOOST_TEST(wait_until([&] { return resumed.load(); }, 5s));
}

BOOST_AUTO_TEST_CASE(destroying_a_running_server_is_safe) {
  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  std::thread t([&] { ioc.run(); });
  std::uint16_t port = 0;
  {
    auto o = test_daemon_options();
    daemon_server s(ioc, o);
    auto ep = s.start();
    BOOST_TEST_REQUIRE(ep.has_value());
    port = ep.value().port();
    ws_client c;
    BOOST_TEST_REQUIRE(!c.connect(port));
    BOOST_TEST(c.request(spawn_request(), "x").has_value());
    // Destroyed while connected: aborts.
  }
  work.reset();
  // Everything ends by itself: the io_context runs out of work.
  const auto deadline = steady_clock::now() + 5s;
  while (!ioc.stopped() && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(5));
  BOOST_TEST(ioc.stopped());
  ioc.stop();
  t.join();
}

BOOST_AUTO_TEST_CASE(start_errors) {
  boost::asio::io_context ioc;
  {
    auto o = test_daemon_options();
    o.heartbeat_interval = milliseconds(0);
    daemon_server s(ioc, o);
    auto r = s.start();
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error() == error::invalid_argument);
  }
  {
    daemon_fixture first;
    auto o = test_daemon_options();
    o.port = first.port();
    daemon_server s(ioc, o);
    auto r = s.start();
    BOOST_TEST(!r.has_value());  // the port is taken
  }
  {
    auto o = test_daemon_options();
    o.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
    daemon_server s(ioc, o);
    BOOST_TEST(!s.start().has_value());
  }
  {
    daemon_server s(ioc, test_daemon_options());
    BOOST_TEST(s.start().has_value());
    BOOST_TEST(!s.start().has_value());  // once
  }
  ioc.run_for(milliseconds(100));
}
