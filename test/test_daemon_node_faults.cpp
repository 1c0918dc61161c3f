// daemon_node under faults: a link cut or a daemon killed mid-request, a stalled peer, refused
// and hanging reconnects, garbage frames, the queue bound and order, the backoff schedule.
#define BOOST_TEST_MODULE daemon_node_faults
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/fault_proxy.hpp"
#include "support/node_env.hpp"
#include "support/raw_ws.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <set>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

using clock_type = std::chrono::steady_clock;

/// The events of a node, kept with the time they were seen (listener on the node's strand).
struct event_log {
  struct entry {
    node_event event;
    clock_type::time_point at;
  };
  std::vector<entry> entries;
  std::mutex m;
  void attach(daemon_node& n) {
    n.add_listener([this](const node_event& e) {
      std::lock_guard lock(m);
      entries.push_back({e, clock_type::now()});
    });
  }
  std::size_t count(std::string_view name) {
    std::lock_guard lock(m);
    return static_cast<std::size_t>(std::count_if(entries.begin(), entries.end(),
                                                  [&](const entry& e) { return event_name(e.event) == name; }));
  }
  template <class E>
  std::vector<std::pair<E, clock_type::time_point>> all() {
    std::lock_guard lock(m);
    std::vector<std::pair<E, clock_type::time_point>> out;
    for (const auto& e : entries)
      if (auto* p = std::get_if<E>(&e.event)) out.emplace_back(*p, e.at);
    return out;
  }
};

/// The next get_session a scripted peer reads (other messages skipped); nullopt at the end.
awaitable<std::optional<msg::get_session>> next_get_session(scripted_peer::ws_stream& ws) {
  for (;;) {
    auto text = co_await read_text(ws);
    if (!text) co_return std::nullopt;
    auto m = decode(*text);
    if (!m) continue;
    if (auto* g = std::get_if<msg::get_session>(&m.value())) co_return std::move(*g);
  }
}

/// Answers `g`: no such session.
awaitable<bool> answer_not_found(scripted_peer::ws_stream& ws, const msg::get_session& g) {
  msg::session_state a;
  a.request_id = g.request_id;
  a.session_id = g.session_id;
  co_return co_await write_text(ws, encode(message(a)));
}

/// Spawns `n` sessions concurrently; returns the results in order.
awaitable<std::vector<result<session>>> spawn_many(daemon_node& node, int n, std::string prefix) {
  std::vector<std::optional<result<session>>> slots(static_cast<std::size_t>(n));
  int done = 0;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer all_done(ex, clock_type::time_point::max());
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(
        ex,
        [](daemon_node& node, session_spawn_request r, std::optional<result<session>>& slot, int& done, int n,
           asio::steady_timer& all_done) -> awaitable<void> {
          auto res = co_await node.spawn_session(std::move(r));
          slot.emplace(std::move(res));
          if (++done == n) all_done.cancel();
        }(node, make_spawn(prefix + std::to_string(i)), slots[static_cast<std::size_t>(i)], done, n, all_done),
        asio::detached);
  }
  while (done < n) co_await all_done.async_wait(asio::as_tuple(use_awaitable));
  std::vector<result<session>> out;
  for (auto& s : slots) out.push_back(std::move(*s));
  co_return out;
}

awaitable<void> collect(awaitable<std::vector<result<session>>> a, std::optional<std::vector<result<session>>>& out) {
  out.emplace(co_await std::move(a));
}

/// One oversized frame a scripted peer writes to a node.
struct oversize_attempt {
  std::size_t bytes;
  bool read_while_writing;
};

/// A peer's connection: the next of `attempts` while some are left (what it saw goes to
/// `seen`), then an ordinary daemon answering get_session. (A free coroutine: its arguments
/// live in its frame.)
awaitable<void> oversize_then_serve(std::shared_ptr<scripted_peer::ws_stream> ws, std::vector<oversize_attempt> attempts,
                                    std::shared_ptr<std::vector<oversized_exchange>> seen) {
  if (seen->size() < attempts.size()) {
    const oversize_attempt a = attempts[seen->size()];
    seen->push_back(oversized_exchange{});
    const std::size_t index = seen->size() - 1;
    auto r = co_await write_oversized_frame(ws->next_layer().socket(), a.bytes, a.read_while_writing);
    (*seen)[index] = std::move(r);
    co_return;
  }
  for (;;) {
    auto text = co_await read_text(*ws);
    if (!text) co_return;
    auto m = decode(*text);
    if (!m) continue;
    if (auto* g = std::get_if<msg::get_session>(&m.value())) {
      msg::session_state a;
      a.request_id = g->request_id;
      a.session_id = g->session_id;
      co_await write_text(*ws, encode(message(a)));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(no_loss_no_duplicate)

BOOST_AUTO_TEST_CASE(link_cut_mid_request_resends_with_the_same_ids_and_nothing_runs_twice) {
  auto d = test_daemon_options();
  d.response_delay = 200ms;  // answers are still pending when the link is cut
  restartable_daemon daemon(d);
  asio::io_context ioc;
  fault_proxy proxy(ioc.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon.port()));
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", proxy.endpoint().port()), test_capabilities(),
                   fast_node_options());
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());

  constexpr int n = 20;
  std::optional<std::vector<result<session>>> results;
  asio::co_spawn(ioc, collect(spawn_many(node, n, "cut-"), results), asio::detached);
  // Every spawn reached the daemon and is being executed; then the link is cut.
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return daemon.server()->stats().spawns_executed == n; }, 5s));
  proxy.cut();
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return results.has_value(); }, 10s));
  for (const auto& r : *results) BOOST_TEST(r.has_value(), (r ? "" : r.error().what()));
  // Each was executed once: the re-sends were answered from the daemon's idempotency window.
  BOOST_TEST(daemon.server()->stats().spawns_executed == static_cast<std::uint64_t>(n));
  BOOST_TEST(daemon.server()->live_sessions() == static_cast<std::size_t>(n));
  BOOST_TEST(daemon.server()->stats().replays_served >= 1u);
  BOOST_TEST(node.statistics().resent >= 1u);
  std::set<std::string> ids;
  for (const auto& r : *results)
    if (r) ids.insert(r.value().id);
  BOOST_TEST(ids.size() == static_cast<std::size_t>(n));
  BOOST_TEST(log.count("disconnected") == 1u);
  BOOST_TEST(log.count("connected") == 2u);
}

BOOST_AUTO_TEST_CASE(daemon_killed_mid_request_and_restarted) {
  auto d = test_daemon_options();
  d.response_delay = 1000ms;  // the kill below comes well before any answer leaves
  restartable_daemon daemon(d);
  asio::io_context ioc;
  daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), fast_node_options());
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  constexpr int n = 10;
  std::optional<std::vector<result<session>>> results;
  asio::co_spawn(ioc, collect(spawn_many(node, n, "kill-"), results), asio::detached);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return node.statistics().frames_sent >= static_cast<std::uint64_t>(n); }, 5s));
  daemon.kill();  // a crash: its sessions and its idempotency window are gone with it
  BOOST_TEST(run_until(ioc, [&] { return node.state() == connection_state::reconnecting; }, 5s));
  daemon.start();
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return results.has_value(); }, 10s));
  std::size_t ok = 0;
  for (const auto& r : *results) {
    if (r) ++ok;
    else BOOST_TEST((r.error() == error::timeout || r.error() == error::not_connected), r.error().what());
  }
  // Every request was answered once by the new daemon: its sessions are exactly the successes.
  BOOST_TEST(ok == static_cast<std::size_t>(n));
  BOOST_TEST(daemon.server()->live_sessions() == ok);
  BOOST_TEST(daemon.server()->stats().spawns_executed == ok);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reconnection)

BOOST_AUTO_TEST_CASE(backoff_schedule_and_max_attempts) {
  restartable_daemon daemon;
  const auto ep = daemon.endpoint();
  daemon.kill();  // nothing listens: every attempt is refused
  asio::io_context ioc;
  auto o = fast_node_options();
  o.backoff_base = 20ms;
  o.backoff_max = 80ms;
  o.max_attempts = 5;
  daemon_node node(ioc.get_executor(), "n", ep, test_capabilities(), o);
  event_log log;
  log.attach(node);
  auto c = run(ioc, node.connect());
  BOOST_TEST_REQUIRE(!c.has_value());
  BOOST_TEST(c.error() == error::connect_failed);
  // A request made while reconnecting waits in the queue...
  std::optional<result<message>> pending;
  node.async_request(msg::get_sessions{}, 10000ms, [&](result<message> r) { pending = std::move(r); });
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return node.state() == connection_state::failed; }, 5s));
  // ...and fails when the node enters `failed`.
  BOOST_TEST(run_until(ioc, [&] { return pending.has_value(); }, 1s));
  BOOST_TEST_REQUIRE(pending.has_value());
  BOOST_TEST(pending->error() == error::not_connected);

  const auto rec = log.all<event::reconnecting>();
  BOOST_TEST_REQUIRE(rec.size() == 5u);
  const long want[] = {20, 40, 80, 80, 80};
  for (std::size_t i = 0; i < rec.size(); ++i) {
    BOOST_TEST(rec[i].first.attempt == static_cast<int>(i + 1));
    BOOST_TEST(rec[i].first.delay.count() == want[i]);
  }
  // The delays were really waited: each attempt starts at least its delay after the event.
  const auto attempts = log.all<event::connecting>();
  BOOST_TEST_REQUIRE(attempts.size() == 6u);  // the first attempt and five reconnections
  for (std::size_t i = 0; i < rec.size(); ++i) {
    BOOST_TEST((attempts[i + 1].second - rec[i].second >= rec[i].first.delay));
    BOOST_TEST(attempts[i + 1].first.attempt == static_cast<int>(i + 1));
  }
  const auto failed = log.all<event::reconnect_failed>();
  BOOST_TEST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(failed[0].first.attempts == 5);

  // Requests fail at once now; a later connect() starts over.
  auto r = run(ioc, node.get_sessions());
  BOOST_TEST(r.error() == error::not_connected);
  daemon.start();
  BOOST_TEST(run(ioc, node.connect()).has_value());
  BOOST_TEST(run(ioc, node.get_sessions()).has_value());
}

BOOST_AUTO_TEST_CASE(backoff_counter_resets_once_connected) {
  restartable_daemon daemon;
  asio::io_context ioc;
  fault_proxy proxy(ioc.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon.port()));
  auto o = fast_node_options();
  o.backoff_base = 10ms;
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", proxy.endpoint().port()), test_capabilities(), o);
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  for (int round = 0; round < 2; ++round) {
    proxy.refuse(true);
    proxy.cut();
    BOOST_TEST(run_until(ioc, [&] { return log.count("reconnecting") >= static_cast<std::size_t>(3 * (round + 1)); }, 5s));
    proxy.refuse(false);
    BOOST_TEST(run_until(ioc, [&] { return log.count("connected") == static_cast<std::size_t>(round + 2); }, 5s));
    const auto before = log.count("reconnecting");
    (void)before;
  }
  // After each established connection the schedule started over at attempt 1.
  const auto rec = log.all<event::reconnecting>();
  std::size_t ones = 0;
  for (const auto& r : rec)
    if (r.first.attempt == 1) {
      ++ones;
      BOOST_TEST(r.first.delay.count() == 10);
    }
  BOOST_TEST(ones == 2u);
}

BOOST_AUTO_TEST_CASE(a_stalled_daemon_is_detected_by_the_heartbeat_timeout) {
  restartable_daemon daemon;
  asio::io_context ioc;
  fault_proxy proxy(ioc.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon.port()));
  auto o = fast_node_options();
  o.heartbeat_interval = 20ms;
  o.heartbeat_timeout = 200ms;
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", proxy.endpoint().port()), test_capabilities(), o);
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  proxy.stall(true);  // the socket stays open, nothing flows
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return log.count("disconnected") == 1u; }, 5s));
  const auto d = log.all<event::disconnected>();
  BOOST_TEST(d[0].first.reason == error::heartbeat_timeout);
  proxy.stall(false);
  BOOST_TEST(run_until(ioc, [&] { return node.state() == connection_state::connected; }, 5s));
  BOOST_TEST(run(ioc, node.get_sessions()).has_value());
}

BOOST_AUTO_TEST_CASE(a_hanging_handshake_is_bounded_by_the_connect_timeout) {
  restartable_daemon daemon;
  asio::io_context ioc;
  fault_proxy proxy(ioc.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon.port()));
  proxy.blackhole_new(true);
  auto o = fast_node_options();
  o.connect_timeout = 100ms;
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", proxy.endpoint().port()), test_capabilities(), o);
  auto c = run(ioc, node.connect());
  BOOST_TEST_REQUIRE(!c.has_value());
  BOOST_TEST(c.error() == error::connect_timeout, c.error().what());
  proxy.blackhole_new(false);
  BOOST_TEST(run_until(ioc, [&] { return node.state() == connection_state::connected; }, 5s));
}

BOOST_AUTO_TEST_CASE(disconnect_during_reconnect_stops_everything) {
  restartable_daemon daemon;
  const auto ep = daemon.endpoint();
  daemon.kill();
  asio::io_context ioc;
  auto o = fast_node_options();
  o.backoff_base = 5s;
  o.backoff_max = 5s;
  daemon_node node(ioc.get_executor(), "n", ep, test_capabilities(), o);
  (void)run(ioc, node.connect());
  BOOST_TEST((node.state() == connection_state::reconnecting));
  std::optional<result<message>> pending;
  node.async_request(msg::get_sessions{}, 10000ms, [&](result<message> r) { pending = std::move(r); });
  const auto t0 = clock_type::now();
  BOOST_TEST(run(ioc, node.disconnect()).has_value());
  BOOST_TEST((clock_type::now() - t0 < 2s));  // did not wait for the backoff (5 s)
  BOOST_TEST((node.state() == connection_state::disconnected));
  BOOST_TEST(run_until(ioc, [&] { return pending.has_value(); }, 1s));
  BOOST_TEST(pending->error() == error::not_connected);
  ioc.restart();
  const auto t1 = clock_type::now();
  ioc.run_for(2s);  // no timer or coroutine left: returns at once
  BOOST_TEST((clock_type::now() - t1 < 1s));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(queue)

BOOST_AUTO_TEST_CASE(queued_requests_go_out_in_order_and_the_bound_holds) {
  // A scripted daemon that records the order of the requests it gets, behind a proxy whose
  // listener is closed at first (connections refused: the node queues).
  asio::io_context ioc;
  std::vector<std::string> order;
  scripted_peer peer(ioc.get_executor(), [&order](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
    for (;;) {
      auto text = co_await read_text(*ws);
      if (!text) co_return;
      auto m = decode(*text);
      if (!m) continue;
      if (auto* g = std::get_if<msg::get_session>(&m.value())) {
        order.push_back(g->session_id);
        msg::session_state a;
        a.request_id = g->request_id;
        a.session_id = g->session_id;
        if (!co_await write_text(*ws, encode(message(a)))) co_return;
      }
    }
  });
  fault_proxy proxy(ioc.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), peer.port()));
  proxy.close_listener();
  auto o = fast_node_options();
  o.queue_max = 5;
  o.backoff_base = 20ms;
  o.backoff_max = 20ms;
  o.max_attempts = 1000;
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", proxy.endpoint().port()), test_capabilities(), o);
  (void)run(ioc, node.connect());
  std::vector<std::optional<result<message>>> got(6);
  for (int i = 0; i < 6; ++i) {
    msg::get_session g;
    g.session_id = "q" + std::to_string(i);
    node.async_request(g, 10000ms, [&got, i](result<message> r) { got[static_cast<std::size_t>(i)] = std::move(r); });
  }
  // The sixth is refused at once.
  BOOST_TEST(run_until(ioc, [&] { return got[5].has_value(); }, 2s));
  BOOST_TEST_REQUIRE(got[5].has_value());
  BOOST_TEST(got[5]->error() == error::queue_full);
  for (int i = 0; i < 5; ++i) BOOST_TEST(!got[static_cast<std::size_t>(i)].has_value());
  proxy.reopen_listener();
  BOOST_TEST(run_until(ioc, [&] {
    return std::all_of(got.begin(), got.end(), [](const auto& g) { return g.has_value(); });
  }, 5s));
  for (int i = 0; i < 5; ++i) BOOST_TEST(got[static_cast<std::size_t>(i)]->has_value());
  const std::vector<std::string> want{"q0", "q1", "q2", "q3", "q4"};
  BOOST_TEST(order == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_deadline_covers_the_time_spent_queued) {
  restartable_daemon daemon;
  const auto ep = daemon.endpoint();
  daemon.kill();
  asio::io_context ioc;
  auto o = fast_node_options();
  o.backoff_base = 50ms;
  o.backoff_max = 50ms;
  o.max_attempts = 1000;
  daemon_node node(ioc.get_executor(), "n", ep, test_capabilities(), o);
  (void)run(ioc, node.connect());
  const auto t0 = clock_type::now();
  auto r = run(ioc, node.get_sessions(100ms));
  BOOST_TEST(r.error() == error::timeout);
  BOOST_TEST((clock_type::now() - t0 >= 100ms));
  daemon.start();
  BOOST_TEST(run_until(ioc, [&] { return node.state() == connection_state::connected; }, 5s));
  BOOST_TEST(run(ioc, node.get_health()).has_value());
  // The expired request never left the queue.
  BOOST_TEST(daemon.server()->stats().requests_of(message_type::get_sessions) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(garbage)

BOOST_AUTO_TEST_CASE(garbage_frames_from_the_peer_are_counted_and_survived) {
  asio::io_context ioc;
  scripted_peer peer(ioc.get_executor(), [](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
    while (auto g = co_await next_get_session(*ws)) {
      const std::string rid = *g->request_id;
      // Garbage first: not JSON, a binary frame, an unknown type (not garbage: since issue 11
      // a `message` event), a valid but unrelated answer, an error with an unknown code for
      // nobody, deep nesting.
      co_await write_text(*ws, "{not json");
      ws->binary(true);
      co_await ws->async_write(asio::buffer(std::string("\x01\x02", 2)), asio::as_tuple(use_awaitable));
      co_await write_text(*ws, R"({"type":"no_such_type","requestId":"x"})");
      co_await write_text(*ws, R"({"type":"session_terminated","sessionId":"s","success":true,"requestId":"unknown-id"})");
      co_await write_text(*ws, R"({"type":"error","error":"weird","code":"martian"})");
      co_await write_text(*ws, std::string(1000, '[') + std::string(1000, ']'));
      if (g->session_id == "wrong-type") {
        // An answer of the wrong type for the request.
        co_await write_text(*ws, R"({"type":"session_terminated","sessionId":"s","success":true,"requestId":")" + rid + "\"}");
      } else if (g->session_id == "bad-answer") {
        // An answer that does not decode but names the request.
        co_await write_text(*ws, R"({"type":"session_state","sessionId":7,"requestId":")" + rid + "\"}");
      } else {
        co_await answer_not_found(*ws, *g);
      }
    }
  });
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), fast_node_options());
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  auto ok = run(ioc, node.get_session("fine"));
  BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().what()));
  BOOST_TEST(!ok.value().has_value());
  auto wrong = run(ioc, node.get_session("wrong-type"));
  BOOST_TEST_REQUIRE(!wrong.has_value());
  BOOST_TEST(wrong.error() == error::unexpected_response);
  auto bad = run(ioc, node.get_session("bad-answer"));
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error() == error::wrong_field_type, bad.error().what());
  const auto s = node.statistics();
  BOOST_TEST(s.invalid_frames >= 3u * 3u);  // not JSON, binary, nesting, per request
  BOOST_TEST(s.unmatched_replies >= 3u);
  BOOST_TEST(log.count("error") >= 9u);
  // The unknown type answers no pending request ("x"): passed on, once per request.
  BOOST_TEST(run_until(ioc, [&] { return log.count("message") == 3u; }, 5s));
  for (const auto& [m, at] : log.all<event::message>()) {
    BOOST_TEST_REQUIRE(m.unknown.has_value());
    BOOST_TEST(*m.unknown == (boost::json::object{{"type", "no_such_type"}, {"requestId", "x"}}));
  }
  BOOST_TEST(peer.connections() == 1u);  // all of it on one connection: none broke it
  BOOST_TEST((node.state() == connection_state::connected));
}

BOOST_AUTO_TEST_CASE(pushes_of_unknown_types_reach_the_application_as_received) {
  // A newer daemon pushes messages this library does not know: each is a `message` event with
  // the object as received. Malformed frames stay `error` events; an unknown type that names
  // a pending request fails that request.
  static const std::string push =
      R"({"type":"custom_push","payload":{"n":1.5,"big":9007199254740993,"list":[1,"a",null,{"deep":[true]}]}})";
  static const std::string push_with_id = R"({"requestId":"nobody","type":"custom_push","seq":2})";
  asio::io_context ioc;
  scripted_peer peer(ioc.get_executor(), [](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
    while (auto g = co_await next_get_session(*ws)) {
      const std::string rid = *g->request_id;
      if (g->session_id == "claimed") {
        co_await write_text(*ws, R"({"type":"custom_push","requestId":")" + rid + "\"}");
        continue;
      }
      co_await write_text(*ws, push);
      co_await write_text(*ws, R"({"payload":{}})");          // no type
      co_await write_text(*ws, R"({"type":7})");               // a type that is no string
      co_await write_text(*ws, R"(["custom_push"])");          // not an object
      co_await write_text(*ws, R"({"type":"custom_push",)");   // not JSON
      co_await write_text(*ws, push_with_id);
      co_await answer_not_found(*ws, *g);
    }
  });
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), fast_node_options());
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  auto ok = run(ioc, node.get_session("pushes"));
  BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().what()));
  BOOST_TEST(run_until(ioc, [&] { return log.count("message") == 2u && log.count("error") == 4u; }, 5s));
  const auto messages = log.all<event::message>();
  BOOST_TEST_REQUIRE(messages.size() == 2u);
  BOOST_TEST_REQUIRE(messages[0].first.unknown.has_value());
  BOOST_TEST(*messages[0].first.unknown == boost::json::parse(push).as_object());
  BOOST_TEST(messages[0].first.type_name() == "custom_push");
  BOOST_TEST(messages[0].first.unknown->at("payload").at("big").is_int64());  // exactly as written
  BOOST_TEST_REQUIRE(messages[1].first.unknown.has_value());
  BOOST_TEST(*messages[1].first.unknown == boost::json::parse(push_with_id).as_object());
  BOOST_TEST(node.statistics().invalid_frames == 4u);  // the malformed ones only
  // An unknown type in answer to a pending request fails it; it is no event.
  auto claimed = run(ioc, node.get_session("claimed"));
  BOOST_TEST_REQUIRE(!claimed.has_value());
  BOOST_TEST(claimed.error() == error::unknown_type, claimed.error().what());
  BOOST_TEST(log.count("message") == 2u);
  BOOST_TEST(peer.connections() == 1u);
  BOOST_TEST((node.state() == connection_state::connected));
}

BOOST_AUTO_TEST_CASE(an_oversized_frame_breaks_the_connection_which_is_reconnected) {
  asio::io_context ioc;
  scripted_peer peer(ioc.get_executor(), [](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
    for (;;) {
      auto text = co_await read_text(*ws);
      if (!text) co_return;
      auto m = decode(*text);
      if (!m) continue;
      auto* g = std::get_if<msg::get_session>(&m.value());
      if (!g) continue;
      if (g->session_id == "big") {
        co_await write_text(*ws, R"({"type":"error","error":")" + std::string(8192, 'x') + R"(","code":"internal"})");
        continue;
      }
      msg::session_state a;
      a.request_id = g->request_id;
      a.session_id = g->session_id;
      co_await write_text(*ws, encode(message(a)));
    }
  });
  auto o = fast_node_options();
  o.max_message_bytes = 4096;
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), o);
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  std::optional<result<message>> big;
  msg::get_session g;
  g.session_id = "big";
  node.async_request(g, 300ms, [&](result<message> r) { big = std::move(r); });
  BOOST_TEST(run_until(ioc, [&] { return log.count("disconnected") == 1u; }, 5s));
  const auto d = log.all<event::disconnected>();
  BOOST_TEST_REQUIRE(d.size() == 1u);
  BOOST_TEST(d[0].first.reason == error::message_too_large);
  BOOST_TEST(run_until(ioc, [&] { return node.state() == connection_state::connected; }, 5s));
  BOOST_TEST(run(ioc, node.get_session("small")).has_value());
  BOOST_TEST(run_until(ioc, [&] { return big.has_value(); }, 5s));
}

BOOST_AUTO_TEST_CASE(a_frame_far_above_the_limit_gets_1009_from_the_node) {
  // A peer writes 2 MiB, then 16 MiB, in one frame to a node with the default 1 MiB limit,
  // reading after it has written, then while writing. The node refuses each at its header,
  // sends 1009, and reads (drops) the rest of the frame, so the close frame reaches the peer
  // rather than a reset; it then reconnects.
  const std::vector<oversize_attempt> attempts{
      {2u << 20, false}, {16u << 20, false}, {2u << 20, true}, {16u << 20, true}};
  auto seen = std::make_shared<std::vector<oversized_exchange>>();
  asio::io_context ioc;
  scripted_peer peer(ioc.get_executor(), [attempts, seen](std::shared_ptr<scripted_peer::ws_stream> ws) {
    return oversize_then_serve(std::move(ws), attempts, seen);
  });
  auto o = fast_node_options();
  BOOST_TEST_REQUIRE(o.max_message_bytes == 1024u * 1024);
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), o);
  event_log log;
  log.attach(node);
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  auto all_seen = [&] {
    return seen->size() == attempts.size() && (seen->back().close_code != 0 || !seen->back().problem.empty());
  };
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return all_seen() && node.state() == connection_state::connected; }, 30s));
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const auto& r = (*seen)[i];
    BOOST_TEST_CONTEXT((attempts[i].bytes >> 20) << " MiB, reading "
                                                 << (attempts[i].read_while_writing ? "while writing" : "after writing")) {
      BOOST_TEST(r.write_completed, r.problem);
      BOOST_TEST(r.close_code == 1009u, r.problem);
    }
  }
  for (const auto& [d, at] : log.all<event::disconnected>()) BOOST_TEST(d.reason == error::message_too_large, d.reason.what());
  BOOST_TEST(node.statistics().connection_losses == attempts.size());
  BOOST_TEST(run(ioc, node.get_session("after")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
