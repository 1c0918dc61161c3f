// The placement policy (no I/O): filters, errors, affinity, best of k random candidates, and
// the balance of 10,000 placements over 8 nodes.
#define BOOST_TEST_MODULE cluster_placement
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/cluster/placement.hpp>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

using namespace neolith::cluster;
using neolith::error;
using neolith::session_type;

namespace {

placement_candidate node(std::string id, std::int64_t active = 0, std::int64_t max = 100) {
  placement_candidate c;
  c.node_id = std::move(id);
  c.connected = true;
  c.capabilities.can_spawn_sessions = true;
  c.capabilities.max_concurrent_sessions = max;
  c.capabilities.supported_session_types = {session_type::claude_code, session_type::claude_flow};
  c.health.active_sessions = active;
  return c;
}

std::string why(const neolith::result<std::string>& r) { return r.has_value() ? r.value() : r.error().what(); }

}  // namespace

BOOST_AUTO_TEST_CASE(skips_every_node_that_cannot_take_the_session) {
  std::vector<placement_candidate> nodes{node("disconnected"), node("draining"), node("open"), node("full", 5, 5),
                                         node("no-max", 0, 0),  node("no-spawn"), node("flow-only"), node("ok")};
  nodes[0].connected = false;
  nodes[1].draining = true;
  nodes[2].circuit_open = true;
  nodes[5].capabilities.can_spawn_sessions = false;
  nodes[6].capabilities.supported_session_types = {session_type::claude_flow};
  placement_policy p(1);
  for (int i = 0; i < 200; ++i) {
    auto r = p.place(nodes, {});
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(r.value() == "ok");
  }
  placement_request flow;
  flow.type = session_type::claude_flow;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(p.place(nodes, flow).value());
  BOOST_TEST((seen == std::set<std::string>{"flow-only", "ok"}));
}

BOOST_AUTO_TEST_CASE(capabilities_are_required) {
  std::vector<placement_candidate> nodes{node("plain"), node("gpu"), node("big"), node("custom")};
  nodes[1].capabilities.has_gpu_access = true;
  nodes[2].capabilities.has_high_memory = true;
  nodes[3].capabilities.custom_capabilities = std::map<std::string, bool>{{"docker", true}, {"tpu", false}};
  placement_policy p(2);
  placement_request gpu;
  gpu.needs_gpu = true;
  BOOST_TEST(p.place(nodes, gpu).value() == "gpu");
  placement_request big;
  big.needs_high_memory = true;
  BOOST_TEST(p.place(nodes, big).value() == "big");
  placement_request docker;
  docker.custom_capabilities = {"docker"};
  BOOST_TEST(p.place(nodes, docker).value() == "custom");
  placement_request tpu;
  tpu.custom_capabilities = {"tpu"};
  BOOST_TEST(p.place(nodes, tpu).error() == error::unsupported_session_type);
}

BOOST_AUTO_TEST_CASE(clear_errors_when_no_node_fits) {
  placement_policy p(3);
  BOOST_TEST(p.place({}, {}).error() == error::unsupported_session_type);
  std::vector<placement_candidate> full{node("a", 2, 2), node("b", 3, 3)};
  auto r = p.place(full, {});
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::capacity_exceeded, r.error().what());
  BOOST_TEST(r.error().message.find("2 full") != std::string::npos, r.error().message);
  std::vector<placement_candidate> down{node("a", 2, 2), node("b")};
  down[1].connected = false;
  auto d = p.place(down, {});
  BOOST_TEST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error() == error::not_connected, d.error().what());
  BOOST_TEST(d.error().message.find("1 not connected") != std::string::npos, d.error().message);
}

BOOST_AUTO_TEST_CASE(affinity_wins_when_the_node_can_take_it) {
  std::vector<placement_candidate> nodes{node("idle"), node("busy", 90)};
  placement_policy p(4);
  placement_request req;
  req.affinity = "busy";
  BOOST_TEST(p.place(nodes, req).value() == "busy");
  nodes[1].draining = true;
  BOOST_TEST(p.place(nodes, req).value() == "idle");
  req.affinity = "unknown";
  BOOST_TEST(p.place(nodes, req).value() == "idle");
}

BOOST_AUTO_TEST_CASE(load_weighs_sessions_cpu_and_memory) {
  placement_policy p(5, {0.5, 0.25, 0.25});
  auto n = node("a", 50, 100);
  n.health.cpu_usage = 100;
  n.health.memory_usage = 20;
  BOOST_TEST(p.load(n) == 0.5 * 0.5 + 0.25 * 1.0 + 0.25 * 0.2, boost::test_tools::tolerance(1e-12));
  n.health.cpu_usage = 250;  // clamped
  BOOST_TEST(p.load(n) == 0.5 * 0.5 + 0.25 * 1.0 + 0.25 * 0.2, boost::test_tools::tolerance(1e-12));
  // With two candidates (k = ceil(sqrt(2)) = 2, both drawn) the less loaded always wins.
  std::vector<placement_candidate> two{node("hot", 10), node("cold", 10)};
  two[0].health.cpu_usage = 90;
  for (int i = 0; i < 100; ++i) BOOST_TEST(p.place(two, {}).value() == "cold");
}

BOOST_AUTO_TEST_CASE(ten_thousand_placements_over_eight_nodes_stay_balanced) {
  std::vector<placement_candidate> nodes;
  for (int i = 0; i < 8; ++i) nodes.push_back(node("n" + std::to_string(i), 0, 5000));
  placement_policy p(42);
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < nodes.size(); ++i) index[nodes[i].node_id] = i;
  for (int s = 0; s < 10000; ++s) {
    auto r = p.place(nodes, {});
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    ++nodes[index[r.value()]].health.active_sessions;
  }
  std::int64_t max = 0, total = 0;
  for (const auto& n : nodes) {
    max = std::max(max, n.health.active_sessions);
    total += n.health.active_sessions;
  }
  BOOST_TEST(total == 10000);
  const double mean = static_cast<double>(total) / static_cast<double>(nodes.size());
  BOOST_TEST_MESSAGE("max/mean " << static_cast<double>(max) / mean);
  BOOST_TEST(static_cast<double>(max) / mean <= 1.10);
  // Every seed, not just a lucky one.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (auto& n : nodes) n.health.active_sessions = 0;
    placement_policy q(seed);
    for (int s = 0; s < 10000; ++s) ++nodes[index[q.place(nodes, {}).value()]].health.active_sessions;
    std::int64_t m = 0;
    for (const auto& n : nodes) m = std::max(m, n.health.active_sessions);
    BOOST_TEST(static_cast<double>(m) / 1250.0 <= 1.10, "seed " << seed);
  }
}
