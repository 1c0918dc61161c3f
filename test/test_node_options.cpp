// node_options are validated as daemon_options are (issue 11, item 9): every option a node
// cannot work with gives `error::invalid_options`, from validate() and from connect(), which
// then starts nothing.
#define BOOST_TEST_MODULE node_options
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/node_env.hpp"

#include <neolith/client/daemon_node.hpp>
#include <neolith/client/node_options.hpp>

#include <functional>

using namespace neolith;
using namespace neolith::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct bad_option {
  const char* name;  // appears in the message
  std::function<void(node_options&)> change;
};

const std::vector<bad_option>& bad_options() {
  static const std::vector<bad_option> all{
      {"connect_timeout", [](node_options& o) { o.connect_timeout = 0ms; }},
      {"connect_timeout", [](node_options& o) { o.connect_timeout = -5ms; }},
      {"request_timeout", [](node_options& o) { o.request_timeout = 0ms; }},
      {"request_timeout", [](node_options& o) { o.request_timeout = -1ms; }},
      {"health_timeout", [](node_options& o) { o.health_timeout = 0ms; }},
      {"heartbeat_interval", [](node_options& o) { o.heartbeat_interval = 0ms; }},
      {"heartbeat_interval", [](node_options& o) { o.heartbeat_interval = -10ms; }},
      {"heartbeat_timeout", [](node_options& o) { o.heartbeat_timeout = 0ms; }},
      {"backoff_base", [](node_options& o) { o.backoff_base = -1ms; }},
      {"backoff_max", [](node_options& o) { o.backoff_max = 0ms; }},
      {"backoff_base must not exceed backoff_max", [](node_options& o) {
         o.backoff_base = 2s;
         o.backoff_max = 1s;
       }},
      {"max_attempts", [](node_options& o) { o.max_attempts = -1; }},
      {"jitter", [](node_options& o) { o.jitter = -0.1; }},
      {"jitter", [](node_options& o) { o.jitter = 1.5; }},
      {"queue_max", [](node_options& o) { o.queue_max = 0; }},
      {"max_message_bytes", [](node_options& o) { o.max_message_bytes = 100; }},
      {"event_queue_capacity", [](node_options& o) { o.event_queue_capacity = 0; }},
      {"bearer_token", [](node_options& o) { o.bearer_token = ""; }},
  };
  return all;
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_and_test_options_are_valid) {
  BOOST_TEST(validate(node_options{}).has_value());
  BOOST_TEST(validate(fast_node_options()).has_value());
  auto o = fast_node_options();
  o.max_attempts = 0;  // no reconnection: valid
  o.backoff_base = 0ms;
  o.jitter = 1.0;
  o.deflate_threshold = 0;
  BOOST_TEST(validate(o).has_value());
}

BOOST_AUTO_TEST_CASE(each_bad_option_is_refused_with_its_name) {
  for (const auto& b : bad_options()) {
    auto o = fast_node_options();
    b.change(o);
    const auto v = validate(o);
    BOOST_TEST_CONTEXT(b.name) {
      BOOST_TEST_REQUIRE(!v.has_value());
      BOOST_TEST(v.error() == error::invalid_options);
      BOOST_TEST(v.error().message.find(b.name) != std::string::npos, v.error().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(connect_fails_at_once_and_starts_nothing) {
  restartable_daemon daemon;
  for (const auto& b : bad_options()) {
    asio::io_context ioc;
    auto o = fast_node_options();
    b.change(o);
    daemon_node node(ioc.get_executor(), "n", daemon.endpoint(), test_capabilities(), o);
    BOOST_TEST_CONTEXT(b.name) {
      auto c = run(ioc, node.connect());
      BOOST_TEST_REQUIRE(!c.has_value());
      BOOST_TEST(c.error() == error::invalid_options);
      BOOST_TEST(c.error().message.find(b.name) != std::string::npos);
      BOOST_TEST((node.state() == connection_state::disconnected));
      BOOST_TEST(node.statistics().connections == 0u);
      auto r = run(ioc, node.get_sessions(1s));
      BOOST_TEST(r.error() == error::not_connected);
    }
    drain(ioc);
  }
  BOOST_TEST(daemon.server()->stats().connections_accepted == 0u);
}
