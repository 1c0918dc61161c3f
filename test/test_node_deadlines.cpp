// Deadlines (issue 11, items 7 and 8): whether a request that failed without an answer was ever
// written (`error_info::sent`), and absolute deadlines (one steady_clock budget through several
// calls).
#define BOOST_TEST_MODULE node_deadlines
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/client/deadline.hpp>

#include <functional>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using steady = std::chrono::steady_clock;

namespace {

/// A peer that answers `get_node_info` after `delay` and never answers anything else.
scripted_peer slow_info_peer(asio::io_context& ioc, std::chrono::milliseconds delay) {
  return scripted_peer(ioc.get_executor(), [delay](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
    for (;;) {
      auto text = co_await read_text(*ws);
      if (!text) co_return;
      auto m = decode(*text);
      if (!m) continue;
      if (auto* g = std::get_if<msg::get_node_info>(&m.value())) {
        asio::steady_timer t(ws->get_executor(), delay);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        msg::node_info a;
        a.request_id = g->request_id;
        a.node_id = "peer";
        a.version = "1";
        a.capabilities = test_capabilities();
        if (!co_await write_text(*ws, encode(message(a)))) co_return;
      }
    }
  });
}

node_options patient_options() {
  auto o = fast_node_options();
  o.heartbeat_timeout = 60s;  // the peer answers no heartbeat
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(call_deadline_resolves_durations_and_time_points) {
  const auto now = steady::now();
  BOOST_TEST(!call_deadline().has_value());
  BOOST_TEST((call_deadline().resolve(5s, now) == now + 5s));
  BOOST_TEST((call_deadline(std::nullopt).resolve(5s, now) == now + 5s));
  BOOST_TEST((call_deadline(250ms).resolve(5s, now) == now + 250ms));
  BOOST_TEST((call_deadline(2s).resolve(5s, now) == now + 2s));
  BOOST_TEST((call_deadline(std::optional<std::chrono::milliseconds>(7ms)).resolve(5s, now) == now + 7ms));
  BOOST_TEST(call_deadline(now + 1s).is_absolute());
  BOOST_TEST((call_deadline(now + 1s).resolve(5s, now + 900ms) == now + 1s));
  BOOST_TEST((call_deadline(std::chrono::hours::max()).resolve(5s, now) == steady::time_point::max()));
  daemon_node::deadline d = 3s;  // the CLI's way
  BOOST_TEST((d.resolve(5s, now) == now + 3s));
}

BOOST_AUTO_TEST_CASE(one_budget_across_two_calls) {
  // The first call takes 500 ms (the peer's delay); the second is never answered. With one
  // absolute budget of 1 s for both, the second times out at the budget, not 1 s after it
  // started.
  asio::io_context ioc;
  auto peer = slow_info_peer(ioc, 500ms);
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), std::nullopt, patient_options());
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  const auto budget = steady::now() + 1000ms;
  auto info = run(ioc, node.get_node_info(budget));
  BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().what()));
  const auto second_start = steady::now();
  BOOST_TEST_REQUIRE((second_start < budget));
  auto sessions = run(ioc, node.get_sessions(budget));
  const auto end = steady::now();
  BOOST_TEST_REQUIRE(!sessions.has_value());
  BOOST_TEST(sessions.error() == error::timeout);
  BOOST_TEST((sessions.error().sent == send_state::may_have_executed));
  BOOST_TEST((end >= budget));
  // A relative 1 s would have ended at second_start + 1 s, at least 500 ms later than this.
  BOOST_TEST((end < second_start + 1000ms));
}

BOOST_AUTO_TEST_CASE(a_budget_already_spent_times_out_at_once_unsent) {
  asio::io_context ioc;
  auto peer = slow_info_peer(ioc, 0ms);
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), patient_options());
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  auto r = run(ioc, node.get_sessions(steady::now() - 1ms));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::timeout);
  BOOST_TEST((r.error().sent == send_state::never_sent));
  BOOST_TEST(node.statistics().frames_sent == 0u);
}

BOOST_AUTO_TEST_CASE(timeout_while_queued_during_reconnect_is_never_sent) {
  restartable_daemon daemon;
  daemon.kill();  // nothing listens: the node reconnects and queues
  asio::io_context ioc;
  auto o = patient_options();
  o.max_attempts = 1000;
  daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), o);
  BOOST_TEST(!run(ioc, node.connect()).has_value());
  auto r = run(ioc, node.get_sessions(100ms));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::timeout);
  BOOST_TEST((r.error().sent == send_state::never_sent));
  BOOST_TEST(to_string(r.error().sent) == "never_sent");
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(timeout_after_written_to_a_stalled_daemon_may_have_executed) {
  asio::io_context ioc;
  auto peer = slow_info_peer(ioc, 0ms);
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), patient_options());
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  auto r = run(ioc, node.spawn_session(make_spawn("t"), 100ms));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::timeout);
  BOOST_TEST((r.error().sent == send_state::may_have_executed));
  BOOST_TEST(to_string(r.error().sent) == "may_have_executed");
}

/// Makes a get_sessions request on `node`, cancels it once `ready(node)` holds, and returns
/// the error it completed with.
static error_info cancel_when(asio::io_context& ioc, daemon_node& node, std::function<bool(const node_statistics&)> ready) {
  asio::cancellation_signal sig;
  std::optional<result<msg::sessions_response>> got;
  node.async_call<msg::sessions_response>(
      msg::get_sessions{}, 60s,
      asio::bind_cancellation_slot(sig.slot(), [&](result<msg::sessions_response> r) { got = std::move(r); }));
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return ready(node.statistics()); }, 5s));
  sig.emit(asio::cancellation_type::terminal);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return got.has_value(); }, 5s));
  BOOST_TEST_REQUIRE(!got->has_value());
  return got->error();
}

BOOST_AUTO_TEST_CASE(cancelled_after_written_may_have_executed) {
  asio::io_context ioc;
  auto peer = slow_info_peer(ioc, 0ms);  // never answers get_sessions
  daemon_node node(ioc.get_executor(), "n", peer.endpoint(), test_capabilities(), patient_options());
  BOOST_TEST_REQUIRE(run(ioc, node.connect()).has_value());
  const auto e = cancel_when(ioc, node, [](const node_statistics& s) { return s.frames_sent == 1u; });
  BOOST_TEST(e == error::cancelled);
  BOOST_TEST((e.sent == send_state::may_have_executed));
}

BOOST_AUTO_TEST_CASE(cancelled_while_queued_during_reconnect_is_never_sent) {
  restartable_daemon daemon;
  daemon.kill();
  asio::io_context ioc;
  auto o = patient_options();
  o.max_attempts = 1000;
  daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), o);
  BOOST_TEST(!run(ioc, node.connect()).has_value());
  const auto e = cancel_when(ioc, node, [](const node_statistics& s) { return s.requests == 1u; });
  BOOST_TEST(e == error::cancelled);
  BOOST_TEST((e.sent == send_state::never_sent));
  (void)run(ioc, node.disconnect());
}

BOOST_AUTO_TEST_CASE(refused_at_once_is_never_sent) {
  asio::io_context ioc;
  daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", 1), test_capabilities(), patient_options());
  auto r = run(ioc, node.get_sessions());
  BOOST_TEST(r.error() == error::not_connected);
  BOOST_TEST((r.error().sent == send_state::never_sent));
}
