// The decisions of daemon_node, step by step, without sockets or sleeps: the backoff schedule,
// heartbeat liveness and the request table (states, order, deadlines, routing).
#define BOOST_TEST_MODULE node_policies
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/client/detail/liveness.hpp>
#include <neolith/client/detail/request_table.hpp>
#include <neolith/core/detail/backoff.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using neolith::detail::backoff_policy;
using neolith::detail::liveness_monitor;
using neolith::detail::request_handle;
using neolith::detail::request_table;

namespace {

/// A clock the test moves by hand.
struct mock_clock {
  using duration = std::chrono::milliseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<mock_clock, duration>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return current; }
  static inline time_point current{};
};

using table_t = request_table<int, mock_clock>;

}  // namespace

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(seed_schedule_doubles_up_to_the_cap_then_stops) {
  backoff_policy p(1000ms, 60000ms, 10);
  std::vector<long> got;
  while (auto d = p.next_delay()) got.push_back(static_cast<long>(d->count()));
  const std::vector<long> want{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000};
  BOOST_TEST(got == want, boost::test_tools::per_element());
  BOOST_TEST(p.exhausted());
  BOOST_TEST(p.attempts() == 10);
  BOOST_TEST(!p.next_delay().has_value());
}

BOOST_AUTO_TEST_CASE(reset_starts_over) {
  backoff_policy p(10ms, 1000ms, 3);
  BOOST_TEST(p.next_delay()->count() == 10);
  BOOST_TEST(p.next_delay()->count() == 20);
  p.reset();
  BOOST_TEST(p.attempts() == 0);
  BOOST_TEST(p.next_delay()->count() == 10);
}

BOOST_AUTO_TEST_CASE(zero_attempts_fails_at_once) {
  backoff_policy p(10ms, 1000ms, 0);
  BOOST_TEST(!p.next_delay().has_value());
}

BOOST_AUTO_TEST_CASE(huge_attempt_numbers_do_not_overflow) {
  backoff_policy p(1000ms, 60000ms, 1000);
  BOOST_TEST(p.delay_for(200).count() == 60000);
}

BOOST_AUTO_TEST_CASE(jitter_randomises_only_its_fraction) {
  backoff_policy p(1000ms, 60000ms, 10, 0.25);
  BOOST_TEST(p.delay_for(1, 0.0).count() == 750);   // all of the random part at 0
  BOOST_TEST(p.delay_for(1, 0.5).count() == 875);
  BOOST_TEST(p.delay_for(1, 0.999).count() >= 999);
  BOOST_TEST(p.delay_for(1, 0.999).count() <= 1000);
  backoff_policy none(1000ms, 60000ms, 10, 0.0);
  BOOST_TEST(none.delay_for(1, 0.3).count() == 1000);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(liveness)

using lm = liveness_monitor<mock_clock>;

BOOST_AUTO_TEST_CASE(heartbeat_every_interval) {
  const mock_clock::time_point t0{};
  lm m(10ms, 60ms, t0);
  BOOST_TEST((m.poll(t0 + 5ms) == lm::action::none));
  BOOST_TEST((m.next_wakeup() == t0 + 10ms));
  m.on_received(t0 + 9ms);
  BOOST_TEST((m.poll(t0 + 10ms) == lm::action::send_heartbeat));
  BOOST_TEST((m.poll(t0 + 10ms) == lm::action::none));  // only once
  BOOST_TEST((m.next_wakeup() == t0 + 20ms));
}

BOOST_AUTO_TEST_CASE(peer_dead_after_timeout_of_silence) {
  const mock_clock::time_point t0{};
  lm m(10ms, 35ms, t0);
  m.on_received(t0 + 20ms);
  BOOST_TEST((m.poll(t0 + 54ms) != lm::action::peer_dead));
  BOOST_TEST((m.poll(t0 + 55ms) == lm::action::peer_dead));
}

BOOST_AUTO_TEST_CASE(any_frame_keeps_it_alive) {
  const mock_clock::time_point t0{};
  lm m(10ms, 30ms, t0);
  for (int i = 1; i <= 100; ++i) {
    m.on_received(t0 + std::chrono::milliseconds(i * 20));
    BOOST_TEST((m.poll(t0 + std::chrono::milliseconds(i * 20 + 5)) != lm::action::peer_dead));
  }
}

BOOST_AUTO_TEST_CASE(missed_beats_collapse_into_one) {
  const mock_clock::time_point t0{};
  lm m(10ms, 1000ms, t0);
  BOOST_TEST((m.poll(t0 + 95ms) == lm::action::send_heartbeat));
  BOOST_TEST((m.poll(t0 + 96ms) == lm::action::none));
  BOOST_TEST((m.next_wakeup() == t0 + 100ms));
}

BOOST_AUTO_TEST_CASE(wakeup_is_the_earlier_of_beat_and_death) {
  const mock_clock::time_point t0{};
  lm m(100ms, 30ms, t0);
  BOOST_TEST((m.next_wakeup() == t0 + 30ms));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(requests)

const mock_clock::time_point t0{};

BOOST_AUTO_TEST_CASE(queued_requests_go_out_in_order) {
  table_t t("abc.");
  const auto a = t.add(1, t0 + 100ms, 10);
  const auto b = t.add(1, t0 + 100ms, 20);
  const auto c = t.add(1, t0 + 100ms, 30);
  BOOST_TEST(t.queued() == 3u);
  BOOST_TEST((t.take_next_to_send() == a));
  BOOST_TEST((t.take_next_to_send() == b));
  BOOST_TEST((t.take_next_to_send() == c));
  BOOST_TEST(!t.take_next_to_send().has_value());
  BOOST_TEST(t.written() == 3u);
  BOOST_TEST(t.queued() == 0u);
}

BOOST_AUTO_TEST_CASE(ids_route_answers_and_are_unique) {
  table_t t("n0nce.");
  std::set<std::string> ids;
  std::vector<request_handle> hs;
  for (int i = 0; i < 1000; ++i) {
    hs.push_back(t.add(1, t0 + 1s, i));
    ids.insert(t.id_of(hs.back()));
  }
  BOOST_TEST(ids.size() == 1000u);
  for (const auto& h : hs) BOOST_TEST((t.find(t.id_of(h)) == h));
  BOOST_TEST(!t.find("other.1.1").has_value());
  BOOST_TEST(!t.find("n0nce.").has_value());
  BOOST_TEST(!t.find("n0nce.zz").has_value());
  BOOST_TEST(!t.find("n0nce.1.").has_value());
  BOOST_TEST(!t.find("n0nce.99999.1").has_value());
  BOOST_TEST(!t.find("").has_value());
}

BOOST_AUTO_TEST_CASE(a_released_request_is_not_found_even_when_its_slot_is_reused) {
  table_t t("p.");
  const auto a = t.add(1, t0 + 1s, 1);
  const std::string id_a = t.id_of(a);
  auto c = t.release(a);
  BOOST_TEST(c.has_value());
  BOOST_TEST(*c == 1);
  BOOST_TEST(!t.release(a).has_value());  // twice: nothing
  const auto b = t.add(1, t0 + 1s, 2);
  BOOST_TEST(b.slot == a.slot);  // slot reused
  BOOST_TEST(!t.find(id_a).has_value());
  BOOST_TEST((t.find(t.id_of(b)) == b));
}

BOOST_AUTO_TEST_CASE(lost_connection_requeues_written_ahead_of_queued) {
  table_t t("p.");
  const auto a = t.add(1, t0 + 1s, 1);
  const auto b = t.add(1, t0 + 1s, 2);
  const auto c = t.add(1, t0 + 1s, 3);
  (void)t.take_next_to_send();
  (void)t.take_next_to_send();  // a, b written
  const auto d = t.add(1, t0 + 1s, 4);
  BOOST_TEST(t.requeue_written() == 2u);
  BOOST_TEST(t.written() == 0u);
  BOOST_TEST(t.queued() == 4u);
  BOOST_TEST((t.take_next_to_send() == a));
  BOOST_TEST((t.take_next_to_send() == b));
  BOOST_TEST((t.take_next_to_send() == c));
  BOOST_TEST((t.take_next_to_send() == d));
  // The same requestIds are kept for the re-send.
  BOOST_TEST((t.find(t.id_of(a)) == a));
}

BOOST_AUTO_TEST_CASE(a_cancelled_queued_request_is_never_sent) {
  table_t t("p.");
  const auto a = t.add(1, t0 + 1s, 1);
  const auto b = t.add(1, t0 + 1s, 2);
  (void)t.release(a);
  BOOST_TEST(t.queued() == 1u);
  BOOST_TEST((t.take_next_to_send() == b));
  BOOST_TEST(!t.take_next_to_send().has_value());
}

BOOST_AUTO_TEST_CASE(deadlines_expire_in_order_and_only_when_due) {
  table_t t("p.");
  const auto late = t.add(1, t0 + 300ms, 1);
  const auto early = t.add(1, t0 + 100ms, 2);
  const auto mid = t.add(1, t0 + 200ms, 3);
  BOOST_TEST((*t.next_deadline() == t0 + 100ms));
  BOOST_TEST(t.expired(t0 + 99ms).empty());
  auto e = t.expired(t0 + 200ms);
  BOOST_TEST(e.size() == 2u);
  BOOST_TEST((e[0] == early));
  BOOST_TEST((e[1] == mid));
  for (auto h : e) (void)t.release(h);
  BOOST_TEST((*t.next_deadline() == t0 + 300ms));
  (void)t.release(late);
  BOOST_TEST(!t.next_deadline().has_value());
  BOOST_TEST(t.expired(t0 + 10s).empty());
}

BOOST_AUTO_TEST_CASE(released_requests_leave_no_unbounded_state) {
  table_t t("p.");
  // 100,000 requests, each answered right away, with one long-lived request in the table.
  const auto keep = t.add(1, t0 + 1h, -1);
  BOOST_TEST_REQUIRE((t.take_next_to_send() == keep));
  for (int i = 0; i < 100000; ++i) {
    const auto h = t.add(1, t0 + 30s, i);
    BOOST_TEST_REQUIRE((t.take_next_to_send() == h));
    BOOST_TEST_REQUIRE(t.release(h).has_value());
  }
  BOOST_TEST(t.live() == 1u);
  BOOST_TEST(t.slab_size() <= 2u);
  BOOST_TEST(t.heap_items() <= 2u * t.live() + 65u);
  BOOST_TEST(t.queue_items() <= 2u * t.queued() + 65u);
}

BOOST_AUTO_TEST_CASE(all_lists_every_live_request_in_submission_order) {
  table_t t("p.");
  const auto a = t.add(1, t0 + 1s, 1);
  const auto b = t.add(1, t0 + 1s, 2);
  const auto c = t.add(1, t0 + 1s, 3);
  (void)t.release(b);
  const auto d = t.add(1, t0 + 1s, 4);  // reuses b's slot, later seq
  const auto all = t.all();
  BOOST_TEST(all.size() == 3u);
  BOOST_TEST((all[0] == a));
  BOOST_TEST((all[1] == c));
  BOOST_TEST((all[2] == d));
}

BOOST_AUTO_TEST_SUITE_END()
