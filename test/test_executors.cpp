// The small building blocks under daemon_node's hot path: the light strand (a strand over the
// io_context's concrete executor, type-erased without allocating), the small generator and the
// ring queue (a FIFO that holds no memory until used).
#define BOOST_TEST_MODULE executors
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/core/detail/adapted_handler.hpp>
#include <neolith/core/detail/light_strand.hpp>
#include <neolith/core/detail/ring_queue.hpp>
#include <neolith/core/detail/small_rng.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <array>
#include <deque>
#include <memory>
#include <atomic>
#include <cmath>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using neolith::detail::make_light_strand;
using neolith::detail::ring_queue;
using neolith::detail::small_rng;

BOOST_AUTO_TEST_SUITE(light_strand)

BOOST_AUTO_TEST_CASE(over_an_io_context_it_is_a_strand_of_the_concrete_executor) {
  asio::io_context ioc;
  const auto s = make_light_strand(asio::any_io_executor(ioc.get_executor()));
  BOOST_TEST((s.target<asio::strand<asio::io_context::executor_type>>() != nullptr));
  // Tracked io_context executors (e.g. from a work guard) too.
  const auto tracked = asio::require(ioc.get_executor(), asio::execution::outstanding_work.tracked);
  const auto st = make_light_strand(asio::any_io_executor(tracked));
  BOOST_TEST((st.target<asio::strand<std::decay_t<decltype(tracked)>>>() != nullptr));
  BOOST_TEST((st.target<asio::strand<asio::any_io_executor>>() == nullptr));
}

BOOST_AUTO_TEST_CASE(over_another_executor_it_is_a_strand_of_that_executor) {
  asio::thread_pool pool(1);
  const auto s = make_light_strand(asio::any_io_executor(pool.get_executor()));
  BOOST_TEST((s.target<asio::strand<asio::any_io_executor>>() != nullptr));
  std::atomic<bool> ran{false};
  asio::post(s, [&] { ran = true; });
  pool.join();
  BOOST_TEST(ran.load());
}

BOOST_AUTO_TEST_CASE(it_tells_whether_the_caller_runs_inside_it) {
  // The client submits a request in place only from inside its strand: true inside a handler
  // of that strand (each kind the strand can be), false outside, in another strand, or for an
  // executor that is no light strand.
  asio::io_context ioc;
  asio::thread_pool pool(1);
  const auto plain = make_light_strand(asio::any_io_executor(ioc.get_executor()));
  const auto tracked =
      make_light_strand(asio::any_io_executor(asio::require(ioc.get_executor(), asio::execution::outstanding_work.tracked)));
  const auto other = make_light_strand(asio::any_io_executor(ioc.get_executor()));
  const auto pooled = make_light_strand(asio::any_io_executor(pool.get_executor()));
  using neolith::detail::running_in_light_strand;
  BOOST_TEST(!running_in_light_strand(plain));
  BOOST_TEST(!running_in_light_strand(asio::any_io_executor(ioc.get_executor())));
  int checked = 0;
  asio::post(plain, [&] {
    BOOST_TEST(running_in_light_strand(plain));
    BOOST_TEST(!running_in_light_strand(other));
    BOOST_TEST(!running_in_light_strand(tracked));
    BOOST_TEST(!running_in_light_strand(asio::any_io_executor(ioc.get_executor())));  // not a strand
    ++checked;
  });
  asio::post(tracked, [&] {
    BOOST_TEST(running_in_light_strand(tracked));
    BOOST_TEST(!running_in_light_strand(plain));
    ++checked;
  });
  // (The tracked strand keeps the io_context busy: run the two handlers, not until idle.)
  for (int i = 0; i < 2; ++i) ioc.run_one_for(std::chrono::seconds(5));
  std::atomic<bool> in_pool{false};
  asio::post(pooled, [&] { in_pool = running_in_light_strand(pooled); });
  pool.join();
  BOOST_TEST(checked == 2);
  BOOST_TEST(in_pool.load());
  BOOST_TEST(!running_in_light_strand(pooled));
}

BOOST_AUTO_TEST_CASE(handlers_never_run_concurrently_and_keep_their_order) {
  // Four threads run the io_context; 4 x 2,000 handlers posted through one light strand touch
  // unsynchronized state: a strand that let two run at once would lose increments (and TSan
  // would report the race); the order of each poster's handlers is kept.
  asio::io_context ioc(4);
  const auto s = make_light_strand(asio::any_io_executor(ioc.get_executor()));
  int counter = 0;
  bool inside = false, overlapped = false;
  std::array<std::vector<int>, 4> seen;
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 2000; ++i) {
      asio::post(s, [&, p, i] {
        if (inside) overlapped = true;
        inside = true;
        ++counter;
        seen[static_cast<std::size_t>(p)].push_back(i);
        inside = false;
      });
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { ioc.run(); });
  for (auto& t : threads) t.join();
  BOOST_TEST(counter == 8000);
  BOOST_TEST(!overlapped);
  for (const auto& v : seen) {
    BOOST_TEST_REQUIRE(v.size() == 2000u);
    for (std::size_t i = 0; i < v.size(); ++i) BOOST_TEST_REQUIRE(v[i] == static_cast<int>(i));
  }
}

BOOST_AUTO_TEST_CASE(each_call_makes_a_new_strand) {
  asio::io_context ioc;
  const asio::any_io_executor ex = ioc.get_executor();
  BOOST_TEST((make_light_strand(ex) != make_light_strand(ex)));
  const auto s = make_light_strand(ex);
  BOOST_TEST((s == s));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(small_rng_suite)

BOOST_AUTO_TEST_CASE(is_deterministic_for_a_seed_and_differs_between_seeds) {
  small_rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a();
    BOOST_TEST(x == b());
    BOOST_TEST(x != c());
  }
}

BOOST_AUTO_TEST_CASE(known_splitmix64_values) {
  // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
  small_rng g(0);
  BOOST_TEST(g() == 0xe220a8397b1dcdafULL);
  BOOST_TEST(g() == 0x6e789e6aa1b965f4ULL);
  BOOST_TEST(g() == 0x06c45d188009454fULL);
}

BOOST_AUTO_TEST_CASE(base36_digits_and_unit_doubles_are_spread) {
  // What the node draws: base-36 digits for the requestId prefix, doubles in [0, 1) for jitter.
  small_rng g(20261129);
  std::array<int, 36> digits{};
  for (int i = 0; i < 36000; ++i) ++digits[g() % 36];
  for (int n : digits) BOOST_TEST((n > 800 && n < 1200));  // expected 1000, sd ~31
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = unit(g);
    BOOST_TEST_REQUIRE((u >= 0.0 && u < 1.0));
    sum += u;
  }
  BOOST_TEST(std::abs(sum / 10000 - 0.5) < 0.02);  // sd of the mean ~0.003
  std::set<std::uint64_t> distinct;
  for (int i = 0; i < 1000; ++i) distinct.insert(g());
  BOOST_TEST(distinct.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(random_device_seeds_differ) {
  // Two nodes of one process must not draw the same requestId prefix.
  auto a = small_rng::from_random_device();
  auto b = small_rng::from_random_device();
  BOOST_TEST(a() != b());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ring_queue_suite)

BOOST_AUTO_TEST_CASE(holds_nothing_until_used) {
  ring_queue<std::string> q;
  BOOST_TEST(q.empty());
  BOOST_TEST(q.capacity() == 0u);
  q.push_back("a");
  BOOST_TEST(q.capacity() >= 1u);
  BOOST_TEST(q.front() == "a");
}

BOOST_AUTO_TEST_CASE(behaves_as_a_deque_through_growth_and_wrap_around) {
  // Random pushes at both ends and pops, checked against std::deque at every step.
  ring_queue<int> q;
  std::deque<int> ref;
  small_rng g(7);
  for (int i = 0; i < 20000; ++i) {
    switch (g() % 4) {
      case 0:
      case 1: q.push_back(i); ref.push_back(i); break;
      case 2: q.push_front(i); ref.push_front(i); break;
      default:
        if (!ref.empty()) {
          BOOST_TEST_REQUIRE(q.front() == ref.front());
          q.pop_front();
          ref.pop_front();
        }
    }
    BOOST_TEST_REQUIRE(q.size() == ref.size());
  }
  BOOST_TEST(std::equal(q.begin(), q.end(), ref.begin(), ref.end()));
}

BOOST_AUTO_TEST_CASE(erase_if_keeps_the_order_of_the_rest) {
  ring_queue<int> q;
  for (int i = 0; i < 10; ++i) q.push_back(i);
  q.pop_front();  // wrap the storage
  q.push_back(10);
  BOOST_TEST(q.erase_if([](int v) { return v % 3 == 0; }) == 3u);  // 3, 6, 9
  const std::vector<int> expected{1, 2, 4, 5, 7, 8, 10};
  BOOST_TEST(std::equal(q.begin(), q.end(), expected.begin(), expected.end()));
}

BOOST_AUTO_TEST_CASE(holds_move_only_values) {
  ring_queue<std::unique_ptr<int>> q;
  for (int i = 0; i < 9; ++i) q.push_back(std::make_unique<int>(i));
  q.push_front(std::make_unique<int>(-1));
  BOOST_TEST(*q.front() == -1);
  q.pop_front();
  for (int i = 0; i < 9; ++i) {
    BOOST_TEST(*q.front() == i);
    q.pop_front();
  }
  BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(adapted_handler_forwards_associations_and_calls_once) {
  using namespace neolith::detail;
  boost::asio::io_context ioc;
  auto strand = boost::asio::make_strand(ioc);
  boost::asio::cancellation_signal signal;
  int calls = 0;
  int got = 0;
  auto inner = boost::asio::bind_cancellation_slot(
      signal.slot(), boost::asio::bind_executor(strand, boost::asio::bind_allocator(
                                                            boost::asio::recycling_allocator<void>(),
                                                            [&](int v) {
                                                              ++calls;
                                                              got = v;
                                                            })));
  auto keep = std::make_shared<int>(7);
  auto h = adapt_handler(std::move(inner), [keep](auto&& handler, int v) { std::move(handler)(v * 2 + *keep); });
  // Executor, allocator and cancellation slot are the wrapped handler's.
  BOOST_TEST((boost::asio::get_associated_executor(h) == strand));
  BOOST_TEST((std::is_same_v<boost::asio::associated_allocator_t<decltype(h)>, boost::asio::recycling_allocator<void>>));
  BOOST_TEST((boost::asio::get_associated_cancellation_slot(h) == signal.slot()));
  std::move(h)(5);
  BOOST_TEST(calls == 1);
  BOOST_TEST(got == 17);

  // Through a real operation: a timer wait wrapped so, cancelled through the caller's slot.
  boost::asio::steady_timer timer(ioc, std::chrono::hours(1));
  boost::system::error_code result;
  bool adapted = false;
  timer.async_wait(adapt_handler(
      boost::asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec) { result = ec; }),
      [&adapted](auto&& handler, boost::system::error_code ec) {
        adapted = true;
        std::move(handler)(ec);
      }));
  signal.emit(boost::asio::cancellation_type::terminal);
  ioc.run_for(std::chrono::seconds(2));
  BOOST_TEST(adapted);
  BOOST_TEST((result == boost::asio::error::operation_aborted));
}
