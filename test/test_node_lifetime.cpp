// Destroying a daemon_node while each of its operations waits (issue 11, item 1): the operation
// completes (shutting_down, or what the operation makes of it) and touches nothing of the
// destroyed node. Meant for ASan: before the fix, get_health read the freed node's state after
// its request failed with shutting_down.
#define BOOST_TEST_MODULE node_lifetime
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"

#include <neolith/client/daemon_node.hpp>

#include <boost/asio/ip/tcp.hpp>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

/// A peer that reads every frame and answers none (heartbeats included).
scripted_peer silent_peer(asio::io_context& ioc) {
  return scripted_peer(ioc.get_executor(), [](std::shared_ptr<scripted_peer::ws_stream> ws) -> awaitable<void> {
    for (;;) {
      if (!co_await read_text(*ws)) co_return;
    }
  });
}

/// Starts `a` on `ioc`; its result lands in the optional returned.
template <class T>
std::shared_ptr<std::optional<T>> start(asio::io_context& ioc, awaitable<T> a) {
  auto out = std::make_shared<std::optional<T>>();
  asio::co_spawn(ioc, [](awaitable<T> a, std::shared_ptr<std::optional<T>> out) -> awaitable<void> {
    out->emplace(co_await std::move(a));
  }(std::move(a), out), asio::detached);
  return out;
}

/// Lets the destroyed node's connection close (bounded; the peer's acceptor never lets the
/// context run out of work, so drain() would wait its whole limit).
void settle(asio::io_context& ioc) { (void)run_until(ioc, [] { return false; }, 100ms); }

node_options patient_options() {
  auto o = fast_node_options();
  o.heartbeat_timeout = 60s;  // the silent peer must not be declared dead during a test
  o.request_timeout = 60s;
  o.health_timeout = 60s;
  return o;
}

/// A node connected to `peer`.
std::unique_ptr<daemon_node> connected_node(asio::io_context& ioc, scripted_peer& peer,
                                            std::optional<node_capabilities> caps = test_capabilities()) {
  auto node = std::make_unique<daemon_node>(ioc.get_executor(), "n", peer.endpoint(), std::move(caps), patient_options());
  BOOST_TEST_REQUIRE(run(ioc, node->connect()).has_value());
  return node;
}

/// Starts `op(node)` on a node connected to a silent peer, waits until the operation has
/// written its request (when `requests` > 0) or has started, destroys the node, and returns
/// what the operation completed with.
/// (`requests` 0: the node is destroyed before the operation starts.)
template <class T, class Op>
std::optional<T> destroy_while_pending(Op op, std::uint64_t requests = 1,
                                       std::optional<node_capabilities> caps = test_capabilities()) {
  asio::io_context ioc;
  auto peer = silent_peer(ioc);
  auto node = connected_node(ioc, peer, std::move(caps));
  auto got = start(ioc, op(*node));
  if (requests > 0) {
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return node->statistics().frames_sent >= requests; }, 5s));
  }
  BOOST_TEST_REQUIRE(!got->has_value());
  node.reset();
  BOOST_TEST(run_until(ioc, [&] { return got->has_value(); }, 5s));
  settle(ioc);
  return std::move(*got);
}

template <class R>
void expect_shutting_down(const std::optional<R>& r) {
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST_REQUIRE(!r->has_value());
  BOOST_TEST(r->error() == error::shutting_down);
  BOOST_TEST((r->error().sent == send_state::may_have_executed));
}

}  // namespace

BOOST_AUTO_TEST_CASE(destroyed_while_get_health) {
  auto r = destroy_while_pending<result<node_health>>([](daemon_node& n) { return n.get_health(); });
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST_REQUIRE(r->has_value());  // as the seed: a failed health request is a value
  BOOST_TEST((r->value().status != node_status::healthy));
}

BOOST_AUTO_TEST_CASE(destroyed_while_spawn_session) {
  expect_shutting_down(destroy_while_pending<result<session>>([](daemon_node& n) { return n.spawn_session(make_spawn("t")); }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_spawn_session_while_learning_the_capabilities) {
  expect_shutting_down(destroy_while_pending<result<session>>(
      [](daemon_node& n) { return n.spawn_session(make_spawn("t")); }, 1, std::nullopt));
}

BOOST_AUTO_TEST_CASE(destroyed_while_get_session) {
  expect_shutting_down(destroy_while_pending<result<std::optional<session>>>([](daemon_node& n) { return n.get_session("s"); }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_terminate_session) {
  expect_shutting_down(destroy_while_pending<result<bool>>([](daemon_node& n) { return n.terminate_session("s"); }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_restore_session) {
  serialized_session s;
  s.session.id = "s";
  s.session.task.id = "t";
  expect_shutting_down(destroy_while_pending<result<bool>>([&](daemon_node& n) { return n.restore_session(s); }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_get_sessions) {
  expect_shutting_down(destroy_while_pending<result<std::vector<session>>>([](daemon_node& n) { return n.get_sessions(); }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_get_node_info) {
  expect_shutting_down(destroy_while_pending<result<msg::node_info>>([](daemon_node& n) { return n.get_node_info(); }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_async_request_and_async_call) {
  expect_shutting_down(destroy_while_pending<result<message>>([](daemon_node& n) {
    return n.async_request(msg::get_sessions{}, {}, asio::use_awaitable);
  }));
  expect_shutting_down(destroy_while_pending<result<msg::sessions_response>>([](daemon_node& n) {
    return n.async_call<msg::sessions_response>(msg::get_sessions{}, {}, asio::use_awaitable);
  }));
}

BOOST_AUTO_TEST_CASE(destroyed_while_async_forms) {
  auto r = destroy_while_pending<std::tuple<error_code, std::vector<session>>>([](daemon_node& n) {
    return n.async_get_sessions({}, asio::as_tuple(asio::use_awaitable));
  });
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST((std::get<0>(*r) == error::shutting_down));
}

BOOST_AUTO_TEST_CASE(operations_made_before_and_started_after_the_destruction) {
  // The awaitable is made while the node lives; the coroutine starts once it is gone.
  asio::io_context ioc;
  auto peer = silent_peer(ioc);
  auto node = connected_node(ioc, peer);
  auto health = node->get_health();
  auto sessions = node->get_sessions();
  auto events = node->subscribe();
  auto receive = events.receive();
  node.reset();
  BOOST_TEST(run(ioc, std::move(health)).has_value());
  BOOST_TEST(run(ioc, std::move(sessions)).error() == error::shutting_down);
  BOOST_TEST(run(ioc, std::move(receive)).error() == error::shutting_down);
  settle(ioc);
}

BOOST_AUTO_TEST_CASE(destroyed_while_connect) {
  // A peer that accepts the TCP connection and never answers the upgrade: connect() waits.
  asio::io_context ioc;
  asio::ip::tcp::acceptor silent(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  auto o = patient_options();
  o.connect_timeout = 60s;
  auto node = std::make_unique<daemon_node>(ioc.get_executor(), "n",
                                            node_endpoint::ws("127.0.0.1", silent.local_endpoint().port()),
                                            test_capabilities(), o);
  auto got = start(ioc, node->connect());
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return node->state() == connection_state::connecting; }, 5s));
  for (int i = 0; i < 20; ++i) ioc.poll_one();
  node.reset();
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return got->has_value(); }, 5s));
  BOOST_TEST((*got)->error() == error::shutting_down);
  settle(ioc);
}

BOOST_AUTO_TEST_CASE(destroyed_while_disconnect) {
  auto r = destroy_while_pending<result<void>>([](daemon_node& n) { return n.disconnect(); }, 0);
  BOOST_TEST(r.has_value());
}

BOOST_AUTO_TEST_CASE(destroyed_while_event_subscription_receive) {
  asio::io_context ioc;
  auto peer = silent_peer(ioc);
  auto node = connected_node(ioc, peer);
  auto sub = node->subscribe();
  while (sub.try_receive()) {
  }
  auto got = start(ioc, sub.receive());
  for (int i = 0; i < 20; ++i) ioc.poll_one();
  BOOST_TEST_REQUIRE(!got->has_value());
  node.reset();
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return got->has_value(); }, 5s));
  // The node's last events (disconnected) may come first; then the end (bounded).
  for (int i = 0; i < 10 && (*got)->has_value(); ++i) {
    got = start(ioc, sub.receive());
    BOOST_TEST_REQUIRE(run_until(ioc, [&] { return got->has_value(); }, 5s));
  }
  BOOST_TEST((*got)->error() == error::shutting_down);
  settle(ioc);
}
