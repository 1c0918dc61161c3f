// daemon_node called from many threads and executors at once (run under TSan in CI): 8 callers
// on 2 threads hammer one node, while events are consumed on a third executor and the getters
// are read from a plain thread.
#define BOOST_TEST_MODULE daemon_node_threads
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"
#include "support/wait.hpp"

#include <neolith/client/daemon_node.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <future>
#include <set>
#include <thread>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

struct tally {
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::atomic<int> callers_done{0};
  std::mutex m;
  std::set<std::string> session_ids;
  std::vector<std::string> failures;
};

awaitable<void> caller(daemon_node& node, int who, int rounds, tally& t) {
  for (int i = 0; i < rounds; ++i) {
    const std::string task = "c" + std::to_string(who) + "-" + std::to_string(i);
    auto s = co_await node.spawn_session(make_spawn(task));
    if (!s) {
      ++t.failed;
      std::lock_guard lock(t.m);
      t.failures.push_back(s.error().what());
      continue;
    }
    const std::string id = s.value().id;
    auto g = co_await node.get_session(id);
    auto h = co_await node.get_health();
    auto term = co_await node.terminate_session(id);
    const bool good = g && g.value() && g.value()->id == id && h && term && term.value();
    (good ? t.ok : t.failed)++;
    std::lock_guard lock(t.m);
    t.session_ids.insert(id);
    if (!good) t.failures.push_back("round " + task + " failed");
  }
  ++t.callers_done;
}

}  // namespace

BOOST_AUTO_TEST_CASE(eight_callers_on_two_threads_hammer_one_node) {
  restartable_daemon daemon(test_daemon_options(), 2);
  asio::thread_pool callers(2);       // the callers' executor: 2 threads, no strand
  asio::thread_pool node_pool(1);     // the node's own executor
  auto o = fast_node_options();
  o.request_timeout = 20000ms;
  daemon_node node(node_pool.get_executor(), "hammered", daemon.endpoint(), test_capabilities(), o);

  // A consumer of events on its own strand of the callers' pool.
  std::atomic<int> spawned_events{0};
  auto sub = node.subscribe();
  auto consume = [](event_subscription& s, std::atomic<int>& n) -> awaitable<void> {
    for (;;) {
      auto e = co_await s.receive();
      if (!e) co_return;
      if (std::holds_alternative<event::session_spawned>(e.value())) ++n;
    }
  };
  asio::co_spawn(asio::make_strand(callers), consume(sub, spawned_events), asio::detached);

  std::promise<result<void>> connected;
  asio::co_spawn(
      callers,
      [](daemon_node& n, std::promise<result<void>>& p) -> awaitable<void> { p.set_value(co_await n.connect()); }(node,
                                                                                                                connected),
      asio::detached);
  auto fut = connected.get_future();
  BOOST_TEST_REQUIRE((fut.wait_for(10s) == std::future_status::ready));
  BOOST_TEST_REQUIRE(fut.get().has_value());

  constexpr int callers_n = 8;
  constexpr int rounds = 40;
  tally t;
  for (int c = 0; c < callers_n; ++c) asio::co_spawn(callers, caller(node, c, rounds, t), asio::detached);

  // Meanwhile a plain thread reads the getters.
  std::atomic<bool> stop_reader{false};
  std::thread reader([&] {
    for (int i = 0; i < 100000 && !stop_reader; ++i) {
      (void)node.state();
      (void)node.cached_health();
      (void)node.capabilities();
      (void)node.statistics();
      (void)node.is_healthy();
      std::this_thread::sleep_for(100us);
    }
  });

  const bool finished = wait_until([&] { return t.callers_done == callers_n; }, 60s);
  stop_reader = true;
  reader.join();
  BOOST_TEST_REQUIRE(finished);
  {
    std::lock_guard lock(t.m);
    for (const auto& f : t.failures) BOOST_TEST_MESSAGE("failure: " << f);
  }
  BOOST_TEST(t.ok == callers_n * rounds);
  BOOST_TEST(t.failed == 0);
  BOOST_TEST(t.session_ids.size() == static_cast<std::size_t>(callers_n * rounds));
  BOOST_TEST(daemon.server()->stats().spawns_executed == static_cast<std::uint64_t>(callers_n * rounds));
  BOOST_TEST(wait_until([&] { return spawned_events == callers_n * rounds; }, 5s));
  BOOST_TEST(node.statistics().answered == static_cast<std::uint64_t>(4 * callers_n * rounds));

  std::promise<void> disconnected;
  asio::co_spawn(
      callers,
      [](daemon_node& n, std::promise<void>& p) -> awaitable<void> {
        (void)co_await n.disconnect();
        p.set_value();
      }(node, disconnected),
      asio::detached);
  BOOST_TEST((disconnected.get_future().wait_for(10s) == std::future_status::ready));
  sub.close();
  callers.join();
  node_pool.join();
}
