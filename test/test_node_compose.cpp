// Composing node operations as Asio users do (issue 11, item 6): the `async_*` forms
// (`void(error_code, T)`) with co_spawn, deferred and parallel groups; first_success / all_of
// over a range of nodes; and the examples of docs/client.md, compiled and run here against a
// real daemon (each example sits between "// [doc:NAME]" and "// [/doc]"; a test checks that
// docs/client.md shows the same lines).
#define BOOST_TEST_MODULE node_compose
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/client/fan_out.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <iostream>
#include <fstream>
#include <sstream>

using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

/// Two nodes: `down` was never connected (every request fails at once with not_connected),
/// `up` is connected to a real daemon.
struct two_nodes {
  restartable_daemon daemon;
  asio::io_context ioc;
  std::vector<std::unique_ptr<neolith::daemon_node>> owned;
  neolith::daemon_node& down;
  neolith::daemon_node& up;

  two_nodes()
      : owned(make(ioc, daemon)),
        down(*owned[0]),
        up(*owned[1]) {
    auto c = run(ioc, up.connect());
    BOOST_TEST_REQUIRE(c.has_value());
  }
  ~two_nodes() {
    owned.clear();
    drain(ioc);
  }
  static std::vector<std::unique_ptr<neolith::daemon_node>> make(asio::io_context& ioc, restartable_daemon& d) {
    std::vector<std::unique_ptr<neolith::daemon_node>> v;
    v.push_back(std::make_unique<neolith::daemon_node>(ioc.get_executor(), "down", neolith::node_endpoint::ws("127.0.0.1", 1),
                                                       test_capabilities(), fast_node_options()));
    v.push_back(std::make_unique<neolith::daemon_node>(ioc.get_executor(), "up", d.endpoint(), test_capabilities(),
                                                       fast_node_options()));
    return v;
  }
};

// ----- The examples of docs/client.md ----------------------------------------------------

// [doc:first-answer]
// Ask two nodes at once; the first to answer successfully wins, the other is cancelled.
asio::awaitable<std::optional<neolith::msg::node_info>> first_answer(neolith::daemon_node& node_a,
                                                                    neolith::daemon_node& node_b) {
  namespace exp = boost::asio::experimental;
  auto [order, ec_a, info_a, ec_b, info_b] =
      co_await exp::make_parallel_group(node_a.async_get_node_info(2s, asio::deferred),
                                        node_b.async_get_node_info(2s, asio::deferred))
          .async_wait(exp::wait_for_one_success(), asio::use_awaitable);
  if (!ec_a) co_return info_a;
  if (!ec_b) co_return info_b;
  co_return std::nullopt;  // both failed: ec_a and ec_b say why
}
// [/doc]

// [doc:fan-out]
// Spawn on whichever node of the cluster takes the session first.
asio::awaitable<neolith::result<std::size_t>> spawn_anywhere(std::vector<std::unique_ptr<neolith::daemon_node>>& cluster,
                                                             neolith::session_spawn_request request) {
  auto r = co_await neolith::first_success(cluster, [&](auto& node) { return node->spawn_session(request, 5s); });
  if (!r) co_return r.error();  // every node failed; r.error().message lists why
  co_return r.value().index;    // r.value().value is the session
}

// Every node's sessions (one result per node, in order).
asio::awaitable<std::size_t> count_sessions(std::vector<std::unique_ptr<neolith::daemon_node>>& cluster) {
  auto all = co_await neolith::all_of(cluster, [](auto& node) { return node->get_sessions(); });
  std::size_t n = 0;
  for (auto& r : all)
    if (r) n += r.value().size();
  co_return n;
}
// [/doc]

// [doc:diagnostics]
asio::awaitable<void> sessions_or_why(neolith::daemon_node& node) {
  neolith::error_info why;  // must live until the operation completes
  auto [ec, sessions] = co_await node.async_get_sessions(2s, why, asio::as_tuple(asio::use_awaitable));
  if (ec) std::cerr << why.what() << '\n';  // "the node is not connected (not_connected)"
}
// [/doc]

/// The lines of `text` between "// [doc:NAME]" and "// [/doc]".
std::string block(const std::string& text, const std::string& name) {
  const auto begin = text.find("// [doc:" + name + "]\n");
  BOOST_TEST_REQUIRE(begin != std::string::npos, "no block " << name);
  const auto start = text.find('\n', begin) + 1;
  const auto end = text.find("// [/doc]", start);
  BOOST_TEST_REQUIRE(end != std::string::npos);
  return text.substr(start, end - start);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(docs_show_the_examples_compiled_here) {
  const char* src = std::getenv("NEOLITH_SOURCE_DIR");
  BOOST_TEST_REQUIRE(src != nullptr, "NEOLITH_SOURCE_DIR is not set (run through ctest)");
  const auto self = read_file(std::string(src) + "/test/test_node_compose.cpp");
  const auto docs = read_file(std::string(src) + "/docs/client.md");
  for (const char* name : {"first-answer", "fan-out", "diagnostics"}) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(docs.find(block(self, name)) != std::string::npos); }
  }
}

BOOST_AUTO_TEST_CASE(first_answer_is_the_first_success_not_the_first_completion) {
  two_nodes t;
  // The down node fails first (at once): it must not win.
  auto info = run(t.ioc, first_answer(t.down, t.up));
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(!info->node_id.empty());
  auto again = run(t.ioc, first_answer(t.up, t.down));
  BOOST_TEST(again.has_value());
}

BOOST_AUTO_TEST_CASE(fan_out_helpers) {
  two_nodes t;
  auto idx = run(t.ioc, spawn_anywhere(t.owned, make_spawn("t1")));
  BOOST_TEST_REQUIRE(idx.has_value(), (idx ? "" : idx.error().what()));
  BOOST_TEST(idx.value() == 1u);
  BOOST_TEST(run(t.ioc, count_sessions(t.owned)) == 1u);
  auto all = run(t.ioc, neolith::all_of(t.owned, [](auto& n) { return n->get_sessions(); }));
  BOOST_TEST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].error() == neolith::error::not_connected);
  BOOST_TEST(all[1].value().size() == 1u);
  run(t.ioc, sessions_or_why(t.down));
}

BOOST_AUTO_TEST_CASE(first_success_when_every_node_fails) {
  two_nodes t;
  std::vector<neolith::daemon_node*> downs{&t.down, &t.down};
  auto r = run(t.ioc, neolith::first_success(downs, [](neolith::daemon_node* n) { return n->get_sessions(); }));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == neolith::error::not_connected);
  BOOST_TEST(r.error().message.find("[0]") != std::string::npos);
  BOOST_TEST(r.error().message.find("[1]") != std::string::npos);
  BOOST_TEST((r.error().sent == neolith::send_state::never_sent));
  std::vector<neolith::daemon_node*> none;
  auto e = run(t.ioc, neolith::first_success(none, [](neolith::daemon_node* n) { return n->get_sessions(); }));
  BOOST_TEST(e.error() == neolith::error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(first_success_cancels_the_losers) {
  // One node answers; the other's daemon holds its answers: that request is cancelled.
  auto slow = test_daemon_options();
  slow.response_delay = 3000ms;
  restartable_daemon slow_daemon(slow);
  two_nodes t;
  neolith::daemon_node held(t.ioc.get_executor(), "held", slow_daemon.endpoint(), test_capabilities(), fast_node_options());
  BOOST_TEST_REQUIRE(run(t.ioc, held.connect()).has_value());
  std::vector<neolith::daemon_node*> nodes{&held, &t.up};
  const auto start = std::chrono::steady_clock::now();
  auto r = run(t.ioc, neolith::first_success(nodes, [](neolith::daemon_node* n) { return n->get_sessions(); }));
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r.value().index == 1u);
  BOOST_TEST(held.statistics().cancelled == 1u);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 3000ms));
}

BOOST_AUTO_TEST_CASE(async_forms_compose_with_co_spawn_and_tokens) {
  two_nodes t;
  // co_spawn of an async form awaited with use_awaitable (T is default-constructible).
  std::optional<neolith::node_health> health;
  asio::co_spawn(t.ioc, t.up.async_get_health({}, asio::use_awaitable),
                 [&](std::exception_ptr e, neolith::node_health h) {
                   BOOST_TEST(!e);
                   health = h;
                 });
  BOOST_TEST_REQUIRE(run_until(t.ioc, [&] { return health.has_value(); }, 5s));
  BOOST_TEST((health->status != neolith::node_status::offline));
  asio::co_spawn(t.ioc, t.up.async_get_health({}, asio::use_awaitable), asio::detached);

  // A plain callback, with the diagnostics.
  neolith::error_info why;
  std::optional<neolith::error_code> got;
  t.down.async_get_session("s", 1s, why, [&](neolith::error_code ec, std::optional<neolith::session>) { got = ec; });
  BOOST_TEST_REQUIRE(run_until(t.ioc, [&] { return got.has_value(); }, 5s));
  BOOST_TEST((*got == neolith::error::not_connected));
  BOOST_TEST(why == neolith::error::not_connected);
  BOOST_TEST(!why.message.empty());
  BOOST_TEST((why.sent == neolith::send_state::never_sent));

  // use_awaitable throws system_error on failure.
  auto throws = [](neolith::daemon_node& n) -> awaitable<bool> {
    try {
      (void)co_await n.async_get_sessions({}, asio::use_awaitable);
      co_return false;
    } catch (const boost::system::system_error& e) {
      co_return e.code() == neolith::error::not_connected;
    }
  };
  BOOST_TEST(run(t.ioc, throws(t.down)));

  // co_spawn(..., deferred) of a coroutine, in a parallel group: wait_for_one_success sees
  // the exception of the failing one.
  namespace exp = asio::experimental;
  auto [order, e1, s1, e2, s2] = run(
      t.ioc, exp::make_parallel_group(asio::co_spawn(t.ioc, t.down.async_get_sessions({}, asio::use_awaitable), asio::deferred),
                                      asio::co_spawn(t.ioc, t.up.async_get_sessions({}, asio::use_awaitable), asio::deferred))
                 .async_wait(exp::wait_for_one_success(), asio::use_awaitable));
  BOOST_TEST(order[0] == 0u);
  BOOST_TEST(static_cast<bool>(e1));
  BOOST_TEST(!e2);
  (void)s1;
  (void)s2;
}
