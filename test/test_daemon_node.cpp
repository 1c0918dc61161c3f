// daemon_node against the real daemon over 127.0.0.1: every operation and event, deadlines,
// cancellation, local refusals.
#define BOOST_TEST_MODULE daemon_node
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/protocol/json.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

struct env {
  restartable_daemon daemon;
  asio::io_context ioc;
  std::optional<daemon_node> node_storage;
  daemon_node& node;

  explicit env(daemon_options d = test_daemon_options(), node_options o = fast_node_options(),
               std::optional<node_capabilities> caps = test_capabilities())
      : daemon(std::move(d)),
        node_storage(std::in_place, ioc.get_executor(), "node-a", daemon.endpoint(), std::move(caps), o),
        node(*node_storage) {}

  ~env() {
    node_storage.reset();
    drain(ioc);
  }

  void connect() {
    auto r = run(ioc, node.connect());
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().what()));
  }

  /// Every event received so far on `sub`, by name.
  static std::vector<std::string> names(event_subscription& sub) {
    std::vector<std::string> out;
    while (auto e = sub.try_receive()) out.emplace_back(event_name(*e));
    return out;
  }
};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Starts a request with `start(handler)`, the handler bound to a cancellation signal; once the
// request is on the wire, cancels it (total) and returns what it completed with.
template <class Result, class Start>
std::optional<Result> cancel_once_written(env& e, Start start) {
  asio::cancellation_signal sig;
  std::optional<Result> got;
  start(asio::bind_cancellation_slot(sig.slot(), [&](Result r) { got = std::move(r); }));
  BOOST_TEST(run_until(e.ioc, [&] { return e.node.statistics().frames_sent == 1u; }, 5s));
  sig.emit(asio::cancellation_type::total);
  BOOST_TEST(run_until(e.ioc, [&] { return got.has_value(); }, 1s));
  return got;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(operations)

BOOST_AUTO_TEST_CASE(construction_and_getters) {
  env e;
  BOOST_TEST(e.node.id() == "node-a");
  BOOST_TEST((e.node.state() == connection_state::disconnected));
  BOOST_TEST(!e.node.is_healthy());
  BOOST_TEST((e.node.cached_health().status == node_status::offline));
  BOOST_TEST(e.node.capabilities_known());
  auto caps = e.node.capabilities();
  caps.max_concurrent_sessions = 1;  // a copy: the node's stay as they are
  BOOST_TEST(e.node.capabilities().max_concurrent_sessions == 100);
  BOOST_TEST(e.node.endpoint().port == e.daemon.port());
}

BOOST_AUTO_TEST_CASE(connect_spawn_get_terminate_restore_list) {
  env e;
  auto sub = e.node.subscribe();
  e.connect();
  BOOST_TEST((e.node.state() == connection_state::connected));

  auto spawned = run(e.ioc, e.node.spawn_session(make_spawn("t-1")));
  BOOST_TEST_REQUIRE(spawned.has_value(), (spawned ? "" : spawned.error().what()));
  const session s = spawned.value();
  BOOST_TEST(!s.id.empty());
  BOOST_TEST(s.task.id == "t-1");
  BOOST_TEST((s.status == session_status::running || s.status == session_status::initializing));

  auto got = run(e.ioc, e.node.get_session(s.id));
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST_REQUIRE(got.value().has_value());
  BOOST_TEST(got.value()->id == s.id);

  auto unknown = run(e.ioc, e.node.get_session("no-such-session"));
  BOOST_TEST_REQUIRE(unknown.has_value());
  BOOST_TEST(!unknown.value().has_value());

  auto list = run(e.ioc, e.node.get_sessions());
  BOOST_TEST_REQUIRE(list.has_value());
  BOOST_TEST(list.value().size() == 1u);

  auto term = run(e.ioc, e.node.terminate_session(s.id));
  BOOST_TEST_REQUIRE(term.has_value());
  BOOST_TEST(term.value() == true);
  auto term2 = run(e.ioc, e.node.terminate_session(s.id));
  BOOST_TEST_REQUIRE(term2.has_value());
  BOOST_TEST(term2.value() == false);

  // Restore the terminated session: running again under its own id.
  serialized_session ser;
  ser.session = got.value().value();
  ser.memory_snapshot["note"] = "from the test";
  ser.metadata.serialized_at = now_timestamp();
  ser.metadata.node_id = "node-a";
  ser.metadata.version = "1";
  auto restored = run(e.ioc, e.node.restore_session(ser));
  BOOST_TEST_REQUIRE(restored.has_value(), (restored ? "" : restored.error().what()));
  BOOST_TEST(restored.value() == true);
  auto again = run(e.ioc, e.node.restore_session(ser));  // a live session has that id now
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST(again.value() == false);
  auto after = run(e.ioc, e.node.get_session(s.id));
  BOOST_TEST_REQUIRE(after.has_value());
  BOOST_TEST((after.value()->status == session_status::running));

  BOOST_TEST(run_until(e.ioc, [&] {
    std::vector<std::string> n;
    return e.daemon.server()->live_sessions() == 1;
  }));
  const auto names = env::names(sub);
  BOOST_TEST(contains(names, "connecting"));
  BOOST_TEST(contains(names, "connected"));
  BOOST_TEST(contains(names, "session-spawned"));
  BOOST_TEST(contains(names, "session-terminated"));
  BOOST_TEST(contains(names, "session-restored"));
}

BOOST_AUTO_TEST_CASE(node_info_and_health) {
  env e;
  e.connect();
  auto info = run(e.ioc, e.node.get_node_info());
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info.value().protocol == 1);
  BOOST_TEST(info.value().capabilities.can_spawn_sessions);

  auto h = run(e.ioc, e.node.get_health());
  BOOST_TEST_REQUIRE(h.has_value());
  BOOST_TEST((h.value().status != node_status::offline));
  BOOST_TEST((e.node.cached_health().status == h.value().status));
  BOOST_TEST(e.node.is_healthy() == (h.value().status != node_status::unhealthy));
}

BOOST_AUTO_TEST_CASE(capabilities_are_learned_from_node_info) {
  env e(test_daemon_options(), fast_node_options(), std::nullopt);
  BOOST_TEST(!e.node.capabilities_known());
  e.connect();
  auto s = run(e.ioc, e.node.spawn_session(make_spawn("t-caps")));
  BOOST_TEST_REQUIRE(s.has_value(), (s ? "" : s.error().what()));
  BOOST_TEST(e.node.capabilities_known());
  BOOST_TEST(e.node.capabilities().max_concurrent_sessions == e.daemon.server()->capabilities().max_concurrent_sessions);
}

BOOST_AUTO_TEST_CASE(health_is_offline_without_a_request_when_disconnected) {
  env e;
  auto h = run(e.ioc, e.node.get_health());
  BOOST_TEST_REQUIRE(h.has_value());
  BOOST_TEST((h.value().status == node_status::offline));
  BOOST_TEST(e.daemon.server()->stats().requests_of(message_type::get_health) == 0u);
}

BOOST_AUTO_TEST_CASE(daemon_heartbeats_update_the_cached_health) {
  auto d = test_daemon_options();
  d.heartbeat_interval = 20ms;
  env e(d);
  e.connect();
  BOOST_TEST(run_until(e.ioc, [&] { return e.node.cached_health().last_heartbeat != timestamp{}; }, 5s));
  BOOST_TEST(e.node.is_healthy());
}

BOOST_AUTO_TEST_CASE(requests_fail_at_once_when_disconnected) {
  env e;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(e.ioc, e.node.get_sessions());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::not_connected);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
}

BOOST_AUTO_TEST_CASE(daemon_errors_come_back_with_their_code_and_text) {
  auto d = test_daemon_options();
  d.max_sessions = 1;
  env e(d);
  e.connect();
  BOOST_TEST_REQUIRE(run(e.ioc, e.node.spawn_session(make_spawn("t-1"))).has_value());
  auto r = run(e.ioc, e.node.spawn_session(make_spawn("t-2")));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::capacity_exceeded);
  BOOST_TEST(!r.error().message.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(local_refusals)

BOOST_AUTO_TEST_CASE(spawn_refused_when_the_node_cannot_spawn) {
  auto caps = test_capabilities();
  caps.can_spawn_sessions = false;
  env e(test_daemon_options(), fast_node_options(), caps);
  e.connect();
  auto r = run(e.ioc, e.node.spawn_session(make_spawn("t")));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::spawn_not_supported);
  BOOST_TEST(e.daemon.server()->stats().requests_of(message_type::spawn_session) == 0u);
  BOOST_TEST(e.node.statistics().requests == 0u);
}

BOOST_AUTO_TEST_CASE(spawn_refused_for_an_unsupported_type) {
  auto caps = test_capabilities();
  caps.supported_session_types = {session_type::claude_code};
  env e(test_daemon_options(), fast_node_options(), caps);
  // No connection needed: the refusal never touches the network.
  auto r = run(e.ioc, e.node.spawn_session(make_spawn("t", session_type::claude_flow)));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::unsupported_session_type);
  BOOST_TEST(e.node.statistics().requests == 0u);
}

BOOST_AUTO_TEST_CASE(ruflo_and_claude_flow_are_reported_as_spelled) {
  // The platform renamed claude-flow to ruflo: one kind of session, each reported with the
  // spelling it was spawned or restored with (issue 11). Each session is a process that ends
  // at once, so the daemon pushes its session_updated; claude-flow's command serves ruflo.
  auto o = test_daemon_options();
  o.runner = runner_kind::process;
  o.exec[session_type::claude_code] = "exit 0";
  o.exec[session_type::claude_flow] = "exit 0";
  env e(o);
  auto sub = e.node.subscribe();
  e.connect();
  auto info = run(e.ioc, e.node.get_node_info());
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST((info.value().capabilities.supported_session_types ==
              std::vector<session_type>{session_type::claude_code, session_type::claude_flow, session_type::ruflo}));
  auto ruflo = run(e.ioc, e.node.spawn_session(make_spawn("r", session_type::ruflo)));
  BOOST_TEST_REQUIRE(ruflo.has_value(), (ruflo ? "" : ruflo.error().what()));
  BOOST_TEST((ruflo.value().type == session_type::ruflo));
  auto flow = run(e.ioc, e.node.spawn_session(make_spawn("f", session_type::claude_flow)));
  BOOST_TEST_REQUIRE(flow.has_value());
  BOOST_TEST((flow.value().type == session_type::claude_flow));
  auto list = run(e.ioc, e.node.get_sessions());
  BOOST_TEST_REQUIRE(list.has_value());
  BOOST_TEST_REQUIRE(list.value().size() == 2u);
  for (const session& s : list.value())
    BOOST_TEST((s.type == (s.id == ruflo.value().id ? session_type::ruflo : session_type::claude_flow)));
  auto got = run(e.ioc, e.node.get_session(ruflo.value().id));
  BOOST_TEST_REQUIRE((got.has_value() && got.value().has_value()));
  BOOST_TEST((got.value()->type == session_type::ruflo));

  // Its session_updated push (the process ended) says ruflo too.
  std::optional<session> updated;
  BOOST_TEST(run_until(e.ioc, [&] {
    while (auto ev = sub.try_receive()) {
      const auto* m = std::get_if<event::message>(&*ev);
      if (!m) continue;
      if (const auto* u = std::get_if<msg::session_updated>(&m->message); u && u->session_id == ruflo.value().id)
        updated = u->session;
    }
    return updated.has_value() && is_ended(updated->status);
  }, 5s));
  BOOST_TEST_REQUIRE(updated.has_value());
  BOOST_TEST((updated->type == session_type::ruflo));

  // Restored as ruflo, it stays ruflo; as claude-flow, claude-flow.
  serialized_session ser;
  ser.session = *got.value();
  ser.metadata.serialized_at = now_timestamp();
  ser.metadata.node_id = "node-a";
  ser.metadata.version = "1";
  auto restored = run(e.ioc, e.node.restore_session(ser));
  BOOST_TEST_REQUIRE(restored.has_value(), (restored ? "" : restored.error().what()));
  auto after = run(e.ioc, e.node.get_session(ruflo.value().id));
  BOOST_TEST_REQUIRE((after.has_value() && after.value().has_value()));
  BOOST_TEST((after.value()->type == session_type::ruflo));
  ser.session.id = "restored-as-claude-flow";
  ser.session.type = session_type::claude_flow;
  BOOST_TEST_REQUIRE(run(e.ioc, e.node.restore_session(ser)).has_value());
  auto as_flow = run(e.ioc, e.node.get_session("restored-as-claude-flow"));
  BOOST_TEST_REQUIRE((as_flow.has_value() && as_flow.value().has_value()));
  BOOST_TEST((as_flow.value()->type == session_type::claude_flow));
}

BOOST_AUTO_TEST_CASE(ruflo_on_a_node_that_lists_claude_flow_only_and_the_error_text) {
  // An older daemon lists claude-flow only: the local check lets ruflo through (same kind).
  auto caps = test_capabilities();
  caps.supported_session_types = {session_type::claude_flow};
  env e(test_daemon_options(), fast_node_options(), caps);
  e.connect();
  auto r = run(e.ioc, e.node.spawn_session(make_spawn("r", session_type::ruflo)));
  BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().what()));
  BOOST_TEST((r.value().type == session_type::ruflo));
  // A daemon that runs claude-code only refuses ruflo, naming it as sent.
  auto o = test_daemon_options();
  o.session_types = {session_type::claude_code};
  env code_only(o, fast_node_options(), test_capabilities());  // the node believes it does
  code_only.connect();
  auto refused = run(code_only.ioc, code_only.node.spawn_session(make_spawn("x", session_type::ruflo)));
  BOOST_TEST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error() == error::unsupported_session_type);
  BOOST_TEST(refused.error().what().find("'ruflo'") != std::string::npos, refused.error().what());
  BOOST_TEST(refused.error().what().find("claude-flow") == std::string::npos, refused.error().what());
  // The local refusal names it the same way.
  caps.supported_session_types = {session_type::claude_code};
  env local(test_daemon_options(), fast_node_options(), caps);
  auto here = run(local.ioc, local.node.spawn_session(make_spawn("y", session_type::ruflo)));
  BOOST_TEST_REQUIRE(!here.has_value());
  BOOST_TEST(here.error().what().find("'ruflo'") != std::string::npos, here.error().what());
}

BOOST_AUTO_TEST_CASE(a_request_above_the_size_limit_is_not_sent) {
  auto o = fast_node_options();
  o.max_message_bytes = 2048;
  env e(test_daemon_options(), o);
  e.connect();
  auto req = make_spawn("big");
  req.task.description = std::string(4096, 'x');
  auto r = run(e.ioc, e.node.spawn_session(req));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::message_too_large);
  BOOST_TEST(e.daemon.server()->stats().requests_of(message_type::spawn_session) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deadlines_and_cancellation)

BOOST_AUTO_TEST_CASE(a_deadline_ends_the_wait_and_a_late_answer_is_dropped) {
  auto d = test_daemon_options();
  d.response_delay = 1500ms;
  // Every answer, heartbeat acks too, arrives 1.5 s late: no liveness verdict meanwhile.
  auto o = fast_node_options();
  o.heartbeat_timeout = 10s;
  env e(d, o);
  e.connect();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(e.ioc, e.node.get_sessions(50ms));
  const auto waited = std::chrono::steady_clock::now() - t0;
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::timeout);
  BOOST_TEST((waited >= 50ms));
  BOOST_TEST((waited < 1200ms));
  BOOST_TEST(run_until(e.ioc, [&] { return e.node.statistics().unmatched_replies == 1u; }, 5s));
  BOOST_TEST(e.node.statistics().timeouts == 1u);
  // The node is still fine.
  auto ok = run(e.ioc, e.node.get_sessions(5000ms));
  BOOST_TEST(ok.has_value());
}

awaitable<std::variant<result<std::vector<session>>, std::tuple<boost::system::error_code>>> race(daemon_node& node,
                                                                                                std::chrono::milliseconds t) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_return co_await (node.get_sessions() || timer.async_wait(asio::as_tuple(use_awaitable)));
}

BOOST_AUTO_TEST_CASE(cancellation_through_or_frees_the_slot_at_once) {
  auto d = test_daemon_options();
  d.response_delay = 3000ms;
  env e(d);
  e.connect();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(e.ioc, race(e.node, 30ms));
  BOOST_TEST(r.index() == 1u);  // the timer won
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2000ms));
  BOOST_TEST(e.node.statistics().cancelled == 1u);
}

BOOST_AUTO_TEST_CASE(cancellation_through_a_parallel_group) {
  auto d = test_daemon_options();
  d.response_delay = 3000ms;
  env e(d);
  e.connect();
  auto body = [](daemon_node& node) -> awaitable<std::size_t> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 30ms);
    auto [order, r1, r2, tec] = co_await asio::experimental::make_parallel_group(
                                    node.async_request(msg::get_sessions{}, 5000ms, asio::deferred),
                                    node.async_request(msg::get_health{}, 5000ms, asio::deferred),
                                    timer.async_wait(asio::deferred))
                                    .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    BOOST_TEST(order[0] == 2u);  // the timer first
    BOOST_TEST(!r1.has_value());
    BOOST_TEST(r1.error() == error::cancelled);
    BOOST_TEST(r2.error() == error::cancelled);
    (void)tec;
    co_return order[0];
  };
  const auto t0 = std::chrono::steady_clock::now();
  (void)run(e.ioc, body(e.node));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2000ms));
  BOOST_TEST(e.node.statistics().cancelled == 2u);
}

BOOST_AUTO_TEST_CASE(cancellation_through_a_signal) {
  auto d = test_daemon_options();
  d.response_delay = 3000ms;
  env e(d);
  e.connect();
  const auto got = cancel_once_written<result<message>>(
      e, [&](auto handler) { e.node.async_request(msg::get_sessions{}, 5000ms, std::move(handler)); });
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got->error() == error::cancelled);
}

BOOST_AUTO_TEST_CASE(typed_calls_complete_with_their_answer_type) {
  env e;
  e.connect();
  // A callback, the answer's own type.
  std::optional<result<msg::health_response>> health;
  e.node.async_call<msg::health_response>(msg::get_health{}, 5000ms,
                                          [&](result<msg::health_response> r) { health = std::move(r); });
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return health.has_value(); }, 5s));
  BOOST_TEST_REQUIRE(health->has_value());
  BOOST_TEST(health->value().health.active_sessions == 0);

  // Another answer than the one asked for: unexpected_response, named.
  std::optional<result<msg::session_state>> wrong;
  e.node.async_call<msg::session_state>(msg::get_health{}, 5000ms,
                                        [&](result<msg::session_state> r) { wrong = std::move(r); });
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return wrong.has_value(); }, 5s));
  BOOST_TEST_REQUIRE(!wrong->has_value());
  BOOST_TEST(wrong->error() == error::unexpected_response);
  BOOST_TEST(wrong->error().what().find("health_response") != std::string::npos, wrong->error().what());

  // An unknown session: the daemon's answer (a session_state without session), typed.
  msg::get_session gs;
  gs.session_id = "no-such-session";
  auto body = [](daemon_node& node, msg::get_session req) -> awaitable<result<msg::session_state>> {
    co_return co_await node.async_call<msg::session_state>(std::move(req), 5000ms, use_awaitable);
  };
  auto r = run(e.ioc, body(e.node, gs));
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r.value().session_id == "no-such-session");
  BOOST_TEST(!r.value().session.has_value());
}

BOOST_AUTO_TEST_CASE(typed_calls_keep_the_callers_cancellation) {
  // The typed adapter wraps the caller's handler: its cancellation slot must still reach the
  // request (a signal, and the timer of a parallel group).
  auto d = test_daemon_options();
  d.response_delay = 3000ms;
  env e(d);
  e.connect();
  const auto got = cancel_once_written<result<msg::sessions_response>>(e, [&](auto handler) {
    e.node.async_call<msg::sessions_response>(msg::get_sessions{}, 5000ms, std::move(handler));
  });
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got->error() == error::cancelled);

  auto body = [](daemon_node& node) -> awaitable<std::size_t> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 30ms);
    auto [order, r1, tec] = co_await asio::experimental::make_parallel_group(
                                node.async_call<msg::health_response>(msg::get_health{}, 5000ms, asio::deferred),
                                timer.async_wait(asio::deferred))
                                .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    BOOST_TEST(order[0] == 1u);  // the timer first
    BOOST_TEST(r1.error() == error::cancelled);
    (void)tec;
    co_return order[0];
  };
  const auto t0 = std::chrono::steady_clock::now();
  (void)run(e.ioc, body(e.node));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2000ms));
  BOOST_TEST(e.node.statistics().cancelled == 2u);
}

BOOST_AUTO_TEST_CASE(a_request_made_by_an_answer_s_handler_goes_out_without_a_strand_hop) {
  // A handler resumed by its answer (inline, on the node's strand) that asks again: the request
  // is submitted at once. A chain of 2,000 requests, each made by the previous one's handler,
  // all answered, in order, on a bounded stack (ASan would see an overflow).
  env e;
  e.connect();
  const auto before = e.node.statistics();
  constexpr int chain = 2000;
  int answered = 0;
  bool failed = false;
  std::function<void(result<msg::health_response>)> next;
  next = [&](result<msg::health_response> r) {
    if (!r) {
      failed = true;
      return;
    }
    if (++answered < chain) e.node.async_call<msg::health_response>(msg::get_health{}, 5000ms, next);
  };
  e.node.async_call<msg::health_response>(msg::get_health{}, 5000ms, next);
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return answered == chain || failed; }, 20s));
  BOOST_TEST(!failed);
  BOOST_TEST(e.node.statistics().frames_sent - before.frames_sent == static_cast<std::uint64_t>(chain));
  BOOST_TEST(e.node.statistics().answered - before.answered == static_cast<std::uint64_t>(chain));
}

BOOST_AUTO_TEST_CASE(a_request_failing_at_once_never_completes_inside_its_initiation) {
  // Asio's rule: a handler is never called from within the initiating function. A request made
  // on the node's strand that fails at once (not a request; the node disconnected) completes
  // later, and a chain of such failures does not recurse.
  env e;
  e.connect();
  bool inside = false;
  bool called_inside = false;
  int failures = 0;
  std::optional<result<message>> first;
  e.node.async_request(msg::get_health{}, 5000ms, [&](result<message> r) {
    first = std::move(r);
    // Running on the node's strand (resumed by the answer): a non-request fails at once.
    inside = true;
    e.node.async_request(msg::heartbeat_ack{}, 5000ms, [&](result<message> bad) {
      called_inside = called_inside || inside;
      BOOST_TEST(bad.error() == error::invalid_argument);
      ++failures;
    });
    inside = false;
  });
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return failures == 1; }, 5s));
  BOOST_TEST(first->has_value());
  BOOST_TEST(!called_inside);

  // Disconnected: 5,000 requests, each made by the previous one's failure.
  BOOST_TEST_REQUIRE(run(e.ioc, e.node.disconnect()).has_value());
  int chained = 0;
  std::function<void(result<message>)> again;
  again = [&](result<message> r) {
    BOOST_TEST_REQUIRE(!r.has_value());
    if (++chained < 5000) e.node.async_request(msg::get_health{}, 5000ms, again);
  };
  e.node.async_request(msg::get_health{}, 5000ms, again);
  BOOST_TEST(run_until(e.ioc, [&] { return chained == 5000; }, 10s));
}

BOOST_AUTO_TEST_CASE(requests_made_at_once_leave_in_few_socket_writes) {
  // 100 requests made in one go: the first leaves at once (a lone request pays no delay), the
  // 99 made while that write was in flight leave together in the next one. No heartbeat
  // during the burst (its writes would be counted too, however slow the machine).
  auto o = fast_node_options();
  o.heartbeat_interval = 60s;
  o.heartbeat_timeout = 120s;
  env e(test_daemon_options(), o);
  e.connect();
  const auto before = e.node.statistics();
  int answered = 0, failed = 0;
  for (int i = 0; i < 100; ++i) {
    e.node.async_request(msg::get_health{}, 5000ms, [&](result<message> r) { ++(r ? answered : failed); });
  }
  BOOST_TEST_REQUIRE(run_until(e.ioc, [&] { return answered + failed == 100; }, 5s));
  BOOST_TEST(answered == 100);
  const auto after = e.node.statistics();
  BOOST_TEST(after.frames_sent - before.frames_sent == 100u);
  BOOST_TEST(after.socket_writes - before.socket_writes <= 2u);
  BOOST_TEST(after.socket_writes - before.socket_writes >= 1u);
  BOOST_TEST_MESSAGE("socket writes for the burst: " << after.socket_writes - before.socket_writes);
}

BOOST_AUTO_TEST_CASE(a_cancelled_queued_request_is_never_sent) {
  env e;
  e.daemon.kill();  // nothing listens: the node reconnects and queues
  auto o = fast_node_options();
  o.backoff_base = 200ms;
  o.backoff_max = 200ms;
  daemon_node node(e.ioc.get_executor(), "n", e.daemon.endpoint(), test_capabilities(), o);
  auto c = run(e.ioc, node.connect());
  BOOST_TEST(!c.has_value());
  BOOST_TEST((node.state() == connection_state::reconnecting));
  asio::cancellation_signal sig;
  std::optional<result<message>> got;
  node.async_request(msg::get_sessions{}, 5000ms,
                     asio::bind_cancellation_slot(sig.slot(), [&](result<message> r) { got = std::move(r); }));
  BOOST_TEST(run_until(e.ioc, [&] { return node.statistics().requests == 1u; }, 2s));
  sig.emit(asio::cancellation_type::terminal);
  BOOST_TEST(run_until(e.ioc, [&] { return got.has_value(); }, 1s));
  BOOST_TEST(got->error() == error::cancelled);
  BOOST_TEST((got->error().sent == send_state::never_sent));
  e.daemon.start();
  BOOST_TEST(run_until(e.ioc, [&] { return node.state() == connection_state::connected; }, 5s));
  auto r = run(e.ioc, node.get_health());
  BOOST_TEST(r.has_value());
  BOOST_TEST(e.daemon.server()->stats().requests_of(message_type::get_sessions) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(a_slow_consumer_never_stalls_the_node_and_memory_stays_bounded) {
  auto o = fast_node_options();
  o.event_queue_capacity = 4;
  env e(test_daemon_options(), o);
  auto sub = e.node.subscribe();  // never read until the end
  e.connect();
  for (int i = 0; i < 10; ++i) {
    auto r = run(e.ioc, e.node.spawn_session(make_spawn("t-" + std::to_string(i))));
    BOOST_TEST_REQUIRE(r.has_value());
  }
  BOOST_TEST(run_until(e.ioc, [&] { return sub.dropped() >= 8u; }, 2s));
  std::size_t n = 0;
  while (sub.try_receive()) ++n;
  BOOST_TEST(n == 4u);
  BOOST_TEST(e.node.statistics().dropped_events >= 8u);
}

BOOST_AUTO_TEST_CASE(receive_waits_and_can_be_cancelled) {
  env e;
  auto sub = e.node.subscribe();
  auto body = [](daemon_node& node, event_subscription& s) -> awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
    auto r = co_await (s.receive() || timer.async_wait(asio::as_tuple(use_awaitable)));
    BOOST_TEST(r.index() == 1u);  // nothing happened: the timer won, receive was cancelled
    auto c = co_await node.connect();
    BOOST_TEST(c.has_value(), (c ? "" : c.error().what()));
    auto first = co_await s.receive();
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST(event_name(first.value()) == "connecting");
    auto second = co_await s.receive();
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(event_name(second.value()) == "connected");
  };
  run(e.ioc, body(e.node, sub));
}

BOOST_AUTO_TEST_CASE(listeners_hear_events_and_can_be_removed) {
  env e;
  std::vector<std::string> heard;
  const auto id = e.node.add_listener([&](const node_event& ev) { heard.emplace_back(event_name(ev)); });
  e.connect();
  BOOST_TEST(run_until(e.ioc, [&] { return contains(heard, "connected"); }, 2s));
  e.node.remove_listener(id);
  (void)run(e.ioc, e.node.disconnect());
  const auto n = heard.size();
  (void)run(e.ioc, e.node.connect());
  BOOST_TEST(heard.size() == n);
}

BOOST_AUTO_TEST_CASE(subscription_ends_when_the_node_is_destroyed) {
  asio::io_context ioc;
  event_subscription sub;
  {
    daemon_node node(ioc.get_executor(), "n", node_endpoint::ws("127.0.0.1", 1), test_capabilities());
    sub = node.subscribe();
  }
  auto r = run(ioc, sub.receive());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::shutting_down);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(disconnect_fails_waiting_requests_and_leaves_nothing_running) {
  auto d = test_daemon_options();
  d.response_delay = 500ms;
  env e(d);
  auto sub = e.node.subscribe();
  e.connect();
  std::optional<result<message>> got;
  e.node.async_request(msg::get_sessions{}, 5000ms, [&](result<message> r) { got = std::move(r); });
  BOOST_TEST(run_until(e.ioc, [&] { return e.node.statistics().frames_sent == 1u; }, 2s));
  auto r = run(e.ioc, e.node.disconnect());
  BOOST_TEST(r.has_value());
  BOOST_TEST((e.node.state() == connection_state::disconnected));
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got->error() == error::not_connected);
  BOOST_TEST(contains(env::names(sub), "disconnected"));
  // Nothing of the connection is left: the io_context runs out of work at once.
  e.ioc.restart();
  const auto t0 = std::chrono::steady_clock::now();
  e.ioc.run_for(2s);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
  // And it can connect again.
  e.connect();
  BOOST_TEST(run(e.ioc, e.node.get_sessions()).has_value());
}

BOOST_AUTO_TEST_CASE(connect_twice_is_harmless) {
  env e;
  e.connect();
  e.connect();
  BOOST_TEST(e.node.statistics().connections == 1u);
}

BOOST_AUTO_TEST_CASE(destroying_a_connected_node_ends_its_operations) {
  restartable_daemon daemon;
  asio::io_context ioc;
  std::optional<result<message>> got;
  {
    daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), fast_node_options());
    (void)run(ioc, node.connect());
    node.async_request(msg::get_sessions{}, 5000ms, [&](result<message> r) { got = std::move(r); });
  }
  BOOST_TEST(run_until(ioc, [&] { return got.has_value(); }, 2s));
  BOOST_TEST((got && !got->has_value()));
  // The connection closes by itself: the io_context runs out of work.
  ioc.restart();
  const auto t0 = std::chrono::steady_clock::now();
  ioc.run_for(3s);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
}

BOOST_AUTO_TEST_CASE(unauthorized_connect_is_a_clear_error) {
  auto d = test_daemon_options();
  d.token = "s3cret";
  env e(d);
  auto r = run(e.ioc, e.node.connect());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::unauthorized);
  (void)run(e.ioc, e.node.disconnect());

  auto o = fast_node_options();
  o.bearer_token = "s3cret";
  daemon_node good(e.ioc.get_executor(), "n", e.daemon.endpoint(), test_capabilities(), o);
  auto ok = run(e.ioc, good.connect());
  BOOST_TEST(ok.has_value());
}

BOOST_AUTO_TEST_CASE(endpoints_parse_and_refuse_clearly) {
  auto a = node_endpoint::parse("ws://127.0.0.1:7000/path?x=1");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a.value().host == "127.0.0.1");
  BOOST_TEST(a.value().port == 7000);
  BOOST_TEST(a.value().target == "/path?x=1");
  BOOST_TEST(!a.value().tls);
  auto b = node_endpoint::parse("wss://example.org");
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(b.value().port == 443);
  BOOST_TEST(b.value().tls);
  auto v6 = node_endpoint::parse("ws://[::1]:9/");
  BOOST_TEST_REQUIRE(v6.has_value());
  BOOST_TEST(v6.value().host == "::1");
  BOOST_TEST(v6.value().host_header() == "[::1]:9");
  for (const char* bad : {"http://x:1", "ws://", "not a url", "ws://h:0", "ws://h:99999", "ws://u@h:1", "ws://h:1/#f"}) {
    auto r = node_endpoint::parse(bad);
    BOOST_TEST(!r.has_value(), bad);
    if (!r) BOOST_TEST(r.error() == error::invalid_endpoint);
  }
}

BOOST_AUTO_TEST_SUITE_END()
