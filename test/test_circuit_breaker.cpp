// The circuit breaker's transitions, step by step on a mock clock.
#define BOOST_TEST_MODULE circuit_breaker
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/cluster/circuit_breaker.hpp>

using namespace neolith;
using namespace std::chrono_literals;

namespace {
struct mock_clock {
  using duration = std::chrono::milliseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<mock_clock, duration>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return {}; }
};
using breaker = basic_circuit_breaker<mock_clock>;
const mock_clock::time_point t0{};
}  // namespace

BOOST_AUTO_TEST_CASE(opens_after_consecutive_failures_only) {
  breaker b({3, 1000ms, 1});
  b.on_failure(t0);
  b.on_failure(t0);
  b.on_success();  // resets the streak
  b.on_failure(t0);
  b.on_failure(t0);
  BOOST_TEST((b.state() == circuit_state::closed));
  b.on_failure(t0);
  BOOST_TEST((b.state() == circuit_state::open));
  BOOST_TEST(!b.allow(t0 + 999ms));
  BOOST_TEST(b.times_opened() == 1u);
}

BOOST_AUTO_TEST_CASE(half_open_lets_one_probe_through) {
  breaker b({1, 100ms, 2});
  b.on_failure(t0);
  BOOST_TEST(b.allow(t0 + 100ms));
  BOOST_TEST((b.state() == circuit_state::half_open));
  BOOST_TEST(!b.allow(t0 + 100ms));  // one probe at a time
  b.on_success();
  BOOST_TEST((b.state() == circuit_state::half_open));  // needs two successes
  BOOST_TEST(b.allow(t0 + 101ms));
  b.on_success();
  BOOST_TEST((b.state() == circuit_state::closed));
  BOOST_TEST(b.allow(t0 + 101ms));
}

BOOST_AUTO_TEST_CASE(a_failed_probe_opens_again) {
  breaker b({1, 100ms, 1});
  b.on_failure(t0);
  BOOST_TEST(b.allow(t0 + 150ms));
  b.on_failure(t0 + 150ms);
  BOOST_TEST((b.state() == circuit_state::open));
  BOOST_TEST(!b.allow(t0 + 249ms));
  BOOST_TEST(b.allow(t0 + 250ms));
}

BOOST_AUTO_TEST_CASE(record_classifies_errors) {
  breaker b({1, 100ms, 1});
  b.record(result<int>(error_info(error::cancelled)), t0);
  b.record(result<int>(error_info(error::unsupported_session_type)), t0);
  b.record(result<int>(error_info(error::capacity_exceeded)), t0);
  BOOST_TEST((b.state() == circuit_state::closed));
  b.record(result<int>(error_info(error::timeout)), t0);
  BOOST_TEST((b.state() == circuit_state::open));
  BOOST_TEST(counts_as_node_failure(error_info(make_error_code(boost::system::errc::connection_refused))));
  BOOST_TEST(!counts_as_node_failure(error_info(error::spawn_not_supported)));
  // An inconclusive probe frees the probe slot.
  BOOST_TEST(b.allow(t0 + 100ms));
  b.record(result<int>(error_info(error::cancelled)), t0 + 100ms);
  BOOST_TEST(b.allow(t0 + 100ms));
}
