// The location registry's contract, one suite run against both implementations (memory and a
// real redis-server): every operation, conflicts, concurrent compare-and-set races between
// two orchestrators (exactly one wins, over many repetitions), clusters isolated by name.
#define BOOST_TEST_MODULE cluster_registry_contract
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/redis_server.hpp"
#include "support/registry_env.hpp"

#include <neolith/cluster/memory_registry.hpp>
#include <neolith/cluster/redis_registry.hpp>

#include <boost/mpl/list.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace asio = boost::asio;
using namespace neolith::cluster;
using neolith::error;
using neolith::test::io_thread;
using neolith::test::loc;
using neolith::test::to;
using neolith::test::why;

namespace {

// A backend opens registries of a cluster; two opens of one cluster are two orchestrators
// sharing it (the same object for memory, two connections for Redis).
struct memory_backend {
  static constexpr const char* name = "memory";
  std::map<std::string, std::shared_ptr<memory_registry>> clusters;
  std::shared_ptr<location_registry> open(const std::string& cluster, io_thread&) {
    auto& r = clusters[cluster];
    if (!r) r = std::make_shared<memory_registry>();
    return r;
  }
};

struct redis_backend {
  static constexpr const char* name = "redis";
  neolith::test::redis_server server;
  std::shared_ptr<location_registry> open(const std::string& cluster, io_thread& io) {
    redis_registry_options o;
    o.url = server.url();
    o.cluster = cluster;
    auto r = redis_registry::create(io.executor(), o);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    std::shared_ptr<redis_registry> reg = std::move(r).value();
    auto up = io.sync(reg->wait_connected(std::chrono::seconds(10)));
    BOOST_TEST_REQUIRE(up.has_value(), why(up));
    return reg;
  }
};

using backends = boost::mpl::list<memory_backend, redis_backend>;

// The environment of one test: a backend and io threads; registries are destroyed before the
// threads (declared after them).
template <class Backend>
struct env {
  Backend backend;
  io_thread io;
  io_thread io2;
  std::shared_ptr<location_registry> reg;
  env() { reg = backend.open("contract", io); }

  template <class T>
  T sync(asio::awaitable<T> aw) {
    return io.sync(std::move(aw));
  }
};

std::set<std::string> ids(const std::vector<session_location>& v) {
  std::set<std::string> out;
  for (const auto& l : v) out.insert(l.session_id);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_then_get_round_trips_every_field, B, backends) {
  env<B> e;
  // Ids and metadata with separators, spaces, quotes and a NUL byte.
  const std::string meta = std::string("{\"snapshot\":\"s:1\"} \n\t") + '\0' + "end";
  auto claimed = e.sync(e.reg->claim(loc("sess:1 a", "node:one", meta)));
  BOOST_TEST_REQUIRE(claimed.has_value(), why(claimed));
  BOOST_TEST(claimed.value().epoch == 1u);
  BOOST_TEST(claimed.value().node_id == "node:one");
  auto got = e.sync(e.reg->get("sess:1 a"));
  BOOST_TEST_REQUIRE(got.has_value(), why(got));
  BOOST_TEST((got.value() == claimed.value()));
  BOOST_TEST(got.value().metadata == meta);
  BOOST_TEST(got.value().session_type == "claude-code");
  BOOST_TEST((got.value().state == location_state::placed));
  // A claim may record another initial state (e.g. a spawn still in progress).
  auto moving = loc("sess:2", "n2");
  moving.state = location_state::moving;
  moving.epoch = 99;  // ignored: a claim starts at 1
  auto c2 = e.sync(e.reg->claim(moving));
  BOOST_TEST_REQUIRE(c2.has_value(), why(c2));
  BOOST_TEST(c2.value().epoch == 1u);
  BOOST_TEST((e.sync(e.reg->get("sess:2")).value().state == location_state::moving));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_second_claim_of_an_id_fails_and_changes_nothing, B, backends) {
  env<B> e;
  BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s1", "n1"))).has_value());
  auto again = e.sync(e.reg->claim(loc("s1", "n2")));
  BOOST_TEST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error() == error::location_exists, again.error().what());
  BOOST_TEST(again.error().message.find("n1") != std::string::npos, again.error().message);
  auto got = e.sync(e.reg->get("s1"));
  BOOST_TEST(got.value().node_id == "n1");
  BOOST_TEST(got.value().epoch == 1u);
  BOOST_TEST(e.sync(e.reg->list_node("n2")).value().empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unknown_ids_and_empty_arguments, B, backends) {
  env<B> e;
  BOOST_TEST(e.sync(e.reg->get("nope")).error() == error::session_not_found);
  BOOST_TEST(e.sync(e.reg->compare_and_set("nope", "n1", 1, to("n2"))).error() == error::session_not_found);
  BOOST_TEST(e.sync(e.reg->remove("nope", std::nullopt)).error() == error::session_not_found);
  BOOST_TEST(e.sync(e.reg->claim(loc("", "n1"))).error() == error::invalid_argument);
  BOOST_TEST(e.sync(e.reg->claim(loc("s", ""))).error() == error::invalid_argument);
  BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s", "n1"))).has_value());
  BOOST_TEST(e.sync(e.reg->compare_and_set("s", "n1", 1, to(""))).error() == error::invalid_argument);
  BOOST_TEST(e.sync(e.reg->list_node("nobody")).value().empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(lists_by_node_and_all, B, backends) {
  env<B> e;
  BOOST_TEST(e.sync(e.reg->list_all()).value().empty());
  for (int i = 0; i < 10; ++i) {
    const auto node = i % 3 == 0 ? "a" : (i % 3 == 1 ? "b" : "c");
    BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s" + std::to_string(i), node))).has_value());
  }
  BOOST_TEST((ids(e.sync(e.reg->list_node("a")).value()) == std::set<std::string>{"s0", "s3", "s6", "s9"}));
  BOOST_TEST((ids(e.sync(e.reg->list_node("b")).value()) == std::set<std::string>{"s1", "s4", "s7"}));
  const auto all = e.sync(e.reg->list_all()).value();
  BOOST_TEST(all.size() == 10u);
  for (const auto& l : all) {
    BOOST_TEST(l.epoch == 1u);
    BOOST_TEST((l == e.sync(e.reg->get(l.session_id)).value()));
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(compare_and_set_moves_bumps_the_epoch_and_refuses_stale_expectations, B, backends) {
  env<B> e;
  BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s1", "n1", "m0"))).has_value());
  // (n1, 1) -> (n2, 2), moving, new metadata.
  auto moved = e.sync(e.reg->compare_and_set("s1", "n1", 1, to("n2", location_state::moving, "m1")));
  BOOST_TEST_REQUIRE(moved.has_value(), why(moved));
  BOOST_TEST(moved.value().node_id == "n2");
  BOOST_TEST(moved.value().epoch == 2u);
  BOOST_TEST((moved.value().state == location_state::moving));
  BOOST_TEST(moved.value().metadata == "m1");
  BOOST_TEST(moved.value().session_type == "claude-code");
  BOOST_TEST((e.sync(e.reg->get("s1")).value() == moved.value()));
  BOOST_TEST(e.sync(e.reg->list_node("n1")).value().empty());
  BOOST_TEST((ids(e.sync(e.reg->list_node("n2")).value()) == std::set<std::string>{"s1"}));
  // The old expectation, a wrong epoch, a wrong node: conflicts naming the current place.
  for (auto [node, epoch] : std::vector<std::pair<std::string, std::uint64_t>>{{"n1", 1}, {"n2", 1}, {"n2", 3}, {"n1", 2}}) {
    auto stale = e.sync(e.reg->compare_and_set("s1", node, epoch, to("n3")));
    BOOST_TEST_REQUIRE(!stale.has_value());
    BOOST_TEST(stale.error() == error::location_conflict, stale.error().what());
    BOOST_TEST(stale.error().message.find("node n2 epoch 2") != std::string::npos, stale.error().message);
  }
  BOOST_TEST((e.sync(e.reg->get("s1")).value() == moved.value()));
  // Same node, new state; metadata kept when the update has none.
  auto placed = e.sync(e.reg->compare_and_set("s1", "n2", 2, to("n2", location_state::placed)));
  BOOST_TEST_REQUIRE(placed.has_value(), why(placed));
  BOOST_TEST(placed.value().epoch == 3u);
  BOOST_TEST(placed.value().metadata == "m1");
  BOOST_TEST((ids(e.sync(e.reg->list_node("n2")).value()) == std::set<std::string>{"s1"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_ended_session_stays_a_tombstone_until_removed, B, backends) {
  env<B> e;
  BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s1", "n1"))).has_value());
  auto ended = e.sync(e.reg->compare_and_set("s1", "n1", 1, to("n1", location_state::ended)));
  BOOST_TEST_REQUIRE(ended.has_value(), why(ended));
  BOOST_TEST((ended.value().state == location_state::ended));
  // A failover that read epoch 1 cannot move it any more, nor can a new claim reuse the id.
  BOOST_TEST(e.sync(e.reg->compare_and_set("s1", "n1", 1, to("n2"))).error() == error::location_conflict);
  BOOST_TEST(e.sync(e.reg->claim(loc("s1", "n2"))).error() == error::location_exists);
  BOOST_TEST((e.sync(e.reg->list_node("n1")).value().at(0).state == location_state::ended));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(remove_with_and_without_an_expected_epoch, B, backends) {
  env<B> e;
  BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s1", "n1"))).has_value());
  BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("s2", "n1"))).has_value());
  BOOST_TEST_REQUIRE(e.sync(e.reg->compare_and_set("s1", "n1", 1, to("n2"))).has_value());
  auto wrong = e.sync(e.reg->remove("s1", 1));
  BOOST_TEST_REQUIRE(!wrong.has_value());
  BOOST_TEST(wrong.error() == error::location_conflict, wrong.error().what());
  BOOST_TEST(e.sync(e.reg->get("s1")).has_value());
  BOOST_TEST_REQUIRE(e.sync(e.reg->remove("s1", 2)).has_value());
  BOOST_TEST(e.sync(e.reg->get("s1")).error() == error::session_not_found);
  BOOST_TEST(e.sync(e.reg->list_node("n2")).value().empty());
  BOOST_TEST(e.sync(e.reg->remove("s1", std::nullopt)).error() == error::session_not_found);
  BOOST_TEST_REQUIRE(e.sync(e.reg->remove("s2", std::nullopt)).has_value());
  BOOST_TEST(e.sync(e.reg->list_all()).value().empty());
  // A removed id can be claimed again, from epoch 1.
  auto again = e.sync(e.reg->claim(loc("s1", "n3")));
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST(again.value().epoch == 1u);
}

// Two orchestrators (two registries of one cluster, each on its own thread) see the same
// (node, epoch) and race to move the session: exactly one wins, every time.
BOOST_AUTO_TEST_CASE_TEMPLATE(two_contenders_racing_exactly_one_wins, B, backends) {
  env<B> e;
  auto other = e.backend.open("contract", e.io2);
  constexpr int repetitions = 200;
  int wins_a = 0;
  int wins_b = 0;
  for (int i = 0; i < repetitions; ++i) {
    const auto id = "race-" + std::to_string(i);
    BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc(id, "lost"))).has_value());
    auto fa = e.io.spawn(e.reg->compare_and_set(id, "lost", 1, to("node-a", location_state::moving)));
    auto fb = e.io2.spawn(other->compare_and_set(id, "lost", 1, to("node-b", location_state::moving)));
    BOOST_TEST_REQUIRE((fa.wait_for(std::chrono::seconds(20)) == std::future_status::ready));
    BOOST_TEST_REQUIRE((fb.wait_for(std::chrono::seconds(20)) == std::future_status::ready));
    auto a = fa.get();
    auto b = fb.get();
    BOOST_TEST_REQUIRE((a.has_value() != b.has_value()), "repetition " << i << ": both or neither won");
    const auto& loser = a.has_value() ? b : a;
    BOOST_TEST(loser.error() == error::location_conflict, loser.error().what());
    const auto winner = a.has_value() ? a.value() : b.value();
    BOOST_TEST(winner.epoch == 2u);
    BOOST_TEST((e.sync(other->get(id)).value() == winner));
    (a.has_value() ? wins_a : wins_b) += 1;
  }
  BOOST_TEST(wins_a + wins_b == repetitions);
  BOOST_TEST_MESSAGE(B::name << ": a won " << wins_a << ", b won " << wins_b);
}

// The same race over many sessions at once (pipelined on each connection): one winner each.
BOOST_AUTO_TEST_CASE_TEMPLATE(two_contenders_racing_over_many_sessions_at_once, B, backends) {
  env<B> e;
  auto other = e.backend.open("contract", e.io2);
  constexpr int sessions = 100;
  for (int i = 0; i < sessions; ++i)
    BOOST_TEST_REQUIRE(e.sync(e.reg->claim(loc("bulk-" + std::to_string(i), "lost"))).has_value());
  std::vector<std::future<neolith::result<session_location>>> fa, fb;
  for (int i = 0; i < sessions; ++i) {
    const auto id = "bulk-" + std::to_string(i);
    fa.push_back(e.io.spawn(e.reg->compare_and_set(id, "lost", 1, to("node-a"))));
    fb.push_back(e.io2.spawn(other->compare_and_set(id, "lost", 1, to("node-b"))));
  }
  int wins = 0;
  for (int i = 0; i < sessions; ++i) {
    BOOST_TEST_REQUIRE((fa[i].wait_for(std::chrono::seconds(20)) == std::future_status::ready));
    BOOST_TEST_REQUIRE((fb[i].wait_for(std::chrono::seconds(20)) == std::future_status::ready));
    auto a = fa[i].get();
    auto b = fb[i].get();
    BOOST_TEST((a.has_value() != b.has_value()), "session " << i);
    wins += a.has_value() + b.has_value();
  }
  BOOST_TEST(wins == sessions);
  const auto na = e.sync(e.reg->list_node("node-a")).value().size();
  const auto nb = e.sync(e.reg->list_node("node-b")).value().size();
  BOOST_TEST(na + nb == static_cast<std::size_t>(sessions));
  BOOST_TEST(e.sync(e.reg->list_node("lost")).value().empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(clusters_are_isolated_by_name, B, backends) {
  env<B> e;
  auto alpha = e.backend.open("alpha", e.io);
  auto beta = e.backend.open("beta", e.io);
  // "alpha.x" would share a prefix with "alpha" if names were not delimited.
  auto alpha_x = e.backend.open("alpha.x", e.io);
  BOOST_TEST_REQUIRE(e.sync(alpha->claim(loc("same", "n1"))).has_value());
  BOOST_TEST_REQUIRE(e.sync(beta->claim(loc("same", "n9"))).has_value());
  BOOST_TEST_REQUIRE(e.sync(alpha_x->claim(loc("x", "n1"))).has_value());
  BOOST_TEST_REQUIRE(e.sync(alpha->compare_and_set("same", "n1", 1, to("n2"))).has_value());
  BOOST_TEST(e.sync(beta->get("same")).value().node_id == "n9");
  BOOST_TEST(e.sync(beta->get("same")).value().epoch == 1u);
  BOOST_TEST((ids(e.sync(alpha->list_all()).value()) == std::set<std::string>{"same"}));
  BOOST_TEST((ids(e.sync(alpha->list_node("n1")).value()).empty()));
  BOOST_TEST((ids(e.sync(alpha_x->list_node("n1")).value()) == std::set<std::string>{"x"}));
  BOOST_TEST_REQUIRE(e.sync(beta->remove("same", std::nullopt)).has_value());
  BOOST_TEST(e.sync(alpha->get("same")).value().node_id == "n2");
  BOOST_TEST(e.sync(e.reg->list_all()).value().empty());
}
