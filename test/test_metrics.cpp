// Prometheus exposition of a node's and a daemon's counters.
#define BOOST_TEST_MODULE metrics
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"

#include <neolith/client/metrics.hpp>
#include <neolith/daemon/metrics.hpp>

#include <sstream>

using namespace neolith;
using namespace neolith::test;

namespace {

/// Every line is a comment or `name{labels} value` with a parseable value.
void check_well_formed(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    BOOST_TEST_REQUIRE(!line.empty());
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    const auto brace = line.find('{');
    const auto close = line.rfind("} ");
    BOOST_TEST_REQUIRE(brace != std::string::npos, line);
    BOOST_TEST_REQUIRE(close != std::string::npos, line);
    const std::string value = line.substr(close + 2);
    char* end = nullptr;
    (void)std::strtod(value.c_str(), &end);
    BOOST_TEST((end && *end == '\0'), line);
    ++samples;
  }
  BOOST_TEST(samples > 10);
}

}  // namespace

BOOST_AUTO_TEST_CASE(node_exposition) {
  node_statistics s;
  s.requests = 12;
  s.timeouts = 3;
  s.frames_compressed = 4;
  s.deflate_input_bytes = 4000;
  s.deflate_output_bytes = 900;
  node_health h;
  h.status = node_status::degraded;
  h.cpu_usage = 12.5;
  std::string out;
  append_prometheus(out, "node \"a\"\n", s, connection_state::reconnecting, h);
  check_well_formed(out);
  BOOST_TEST(out.find("neolith_client_requests_total{node=\"node \\\"a\\\"\\n\"} 12\n") != std::string::npos);
  BOOST_TEST(out.find("neolith_client_timeouts_total{node=\"node \\\"a\\\"\\n\"} 3\n") != std::string::npos);
  BOOST_TEST(out.find("neolith_client_frames_compressed_total{node=\"node \\\"a\\\"\\n\"} 4\n") != std::string::npos);
  BOOST_TEST(out.find("neolith_client_deflate_input_bytes_total{node=\"node \\\"a\\\"\\n\"} 4000\n") != std::string::npos);
  BOOST_TEST(out.find("neolith_client_deflate_output_bytes_total{node=\"node \\\"a\\\"\\n\"} 900\n") != std::string::npos);
  BOOST_TEST(out.find("state=\"reconnecting\"} 1\n") != std::string::npos);
  BOOST_TEST(out.find("state=\"connected\"} 0\n") != std::string::npos);
  BOOST_TEST(out.find("status=\"degraded\"} 1\n") != std::string::npos);
  BOOST_TEST(out.find("neolith_node_cpu_usage_percent{node=\"node \\\"a\\\"\\n\"} 12.5\n") != std::string::npos);
  BOOST_TEST(out.find("# TYPE neolith_client_requests_total counter\n") != std::string::npos);
  // A second node in the same exposition: no repeated headers.
  const auto headers = std::count(out.begin(), out.end(), '#');
  append_prometheus(out, "b", s, connection_state::connected, h, false);
  BOOST_TEST(std::count(out.begin(), out.end(), '#') == headers);
  check_well_formed(out);
}

BOOST_AUTO_TEST_CASE(daemon_exposition_counts_requests_by_type) {
  restartable_daemon daemon;
  auto client = std::make_unique<ws_client>();
  BOOST_TEST_REQUIRE(!client->connect(daemon.port()));
  BOOST_TEST_REQUIRE(!client->send_json(simple_request("get_sessions")));
  BOOST_TEST_REQUIRE(client->next_answer().has_value());
  const auto text = prometheus_text(*daemon.server());
  check_well_formed(text);
  BOOST_TEST(text.find("neolith_daemon_requests_total{node=\"" + escape_label_value(daemon.server()->node_id()) +
                       "\",type=\"get_sessions\"} 1\n") != std::string::npos);
  BOOST_TEST(text.find("type=\"session_spawned\"") == std::string::npos);  // answers are not requests
  BOOST_TEST(text.find("neolith_daemon_frames_compressed_total{node=\"" +
                       escape_label_value(daemon.server()->node_id()) + "\"} 0\n") != std::string::npos);
  BOOST_TEST(text.find("neolith_daemon_tls_handshakes_failed_total{node=\"" +
                       escape_label_value(daemon.server()->node_id()) + "\"} 0\n") != std::string::npos);
}
