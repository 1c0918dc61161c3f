// The Redis side of the location registry: URLs, the RESP reader and formatter, the
// reconnection state machine (no sockets), and against a real redis-server or a fake one:
// no key of another cluster touched, scripts reloaded after a flush, an outage (operations
// fail fast and clearly, then succeed again once Redis is back), garbage and wrong replies,
// deadlines, cancellation, destruction while a request is pending.
#define BOOST_TEST_MODULE cluster_redis
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/redis_server.hpp"
#include "support/registry_env.hpp"
#include "support/wait.hpp"

#include <neolith/cluster/detail/redis_reply.hpp>
#include <neolith/cluster/detail/redis_run_fsm.hpp>
#include <neolith/cluster/detail/redis_url.hpp>
#include <neolith/cluster/redis_registry.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>

namespace asio = boost::asio;
using namespace neolith::cluster;
using neolith::error;
using neolith::test::io_thread;
using neolith::test::loc;
using neolith::test::to;
using neolith::test::why;
using neolith::test::redis_server;
using namespace std::chrono_literals;
namespace d = neolith::cluster::detail;

namespace {

std::unique_ptr<redis_registry> make(io_thread& io, std::string url, std::string cluster = "c",
                                     std::chrono::milliseconds request_timeout = 2000ms) {
  redis_registry_options o;
  o.url = std::move(url);
  o.cluster = std::move(cluster);
  o.request_timeout = request_timeout;
  o.connect_timeout = 500ms;
  o.reconnect_base = 10ms;
  o.reconnect_max = 100ms;
  auto r = redis_registry::create(io.executor(), o);
  BOOST_TEST_REQUIRE(r.has_value(), why(r));
  return std::move(r).value();
}

std::unique_ptr<redis_registry> connected(io_thread& io, std::string url, std::string cluster = "c") {
  auto reg = make(io, std::move(url), std::move(cluster));
  auto up = io.sync(reg->wait_connected(10s));
  BOOST_TEST_REQUIRE(up.has_value(), why(up));
  return reg;
}

}  // namespace

// ----- No I/O ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(urls) {
  auto tcp = d::parse_redis_url("redis://cache.local:6380/3");
  BOOST_TEST_REQUIRE(tcp.has_value(), why(tcp));
  BOOST_TEST(!tcp.value().unix_socket);
  BOOST_TEST(tcp.value().host == "cache.local");
  BOOST_TEST(tcp.value().port == 6380);
  BOOST_TEST(tcp.value().db == 3);
  BOOST_TEST(tcp.value().url() == "redis://cache.local:6380/3");
  auto dflt = d::parse_redis_url("redis://127.0.0.1");
  BOOST_TEST_REQUIRE(dflt.has_value());
  BOOST_TEST(dflt.value().port == 6379);
  BOOST_TEST(dflt.value().db == 0);
  BOOST_TEST(d::parse_redis_url("redis://h:1/").value().db == 0);
  auto unix = d::parse_redis_url("unix:///tmp/x/redis.sock");
  BOOST_TEST_REQUIRE(unix.has_value(), why(unix));
  BOOST_TEST(unix.value().unix_socket);
  BOOST_TEST(unix.value().path == "/tmp/x/redis.sock");
  for (const char* bad : {"", "redis", "http://h:1", "redis://", "redis://h:0", "redis://h:70000", "redis://h:x",
                          "redis://h:1/x", "redis://h:1/-1", "redis://u:p@h:1", "redis://h:1?db=2", "unix://",
                          "unix://relative/path", "rediss://h:1"}) {
    auto r = d::parse_redis_url(bad);
    BOOST_TEST(!r.has_value(), bad);
    if (!r) BOOST_TEST(r.error() == error::invalid_endpoint, bad);
  }
}

BOOST_AUTO_TEST_CASE(resp_reader_and_formatter) {
  BOOST_TEST(d::format_command({"SET", "k", std::string("a\0b", 3)}) ==
             std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n", 29));
  d::resp_reader rd;
  // Split anywhere: nothing until the reply is complete.
  const std::string bytes = "*3\r\n:42\r\n$5\r\nhello\r\n$-1\r\n+OK\r\n-ERR nope\r\n";
  for (std::size_t i = 0; i < 20; ++i) {
    BOOST_TEST_REQUIRE(rd.feed(bytes.data() + i, 1).has_value());
    BOOST_TEST(!rd.next().value().has_value());
  }
  BOOST_TEST_REQUIRE(rd.feed(bytes.data() + 20, bytes.size() - 20).has_value());
  auto arr = rd.next().value();
  BOOST_TEST_REQUIRE(arr.has_value());
  BOOST_TEST((arr->type == d::redis_reply::kind::array));
  BOOST_TEST_REQUIRE(arr->elements.size() == 3u);
  BOOST_TEST(arr->elements[0].integer == 42);
  BOOST_TEST(arr->elements[1].str == "hello");
  BOOST_TEST((arr->elements[2].type == d::redis_reply::kind::nil));
  BOOST_TEST((rd.next().value()->type == d::redis_reply::kind::status));
  auto err = rd.next().value();
  BOOST_TEST(err->is_error());
  BOOST_TEST(err->str == "ERR nope");
  BOOST_TEST(!rd.next().value().has_value());
  // Garbage is a protocol error, not a crash.
  d::resp_reader bad;
  BOOST_TEST_REQUIRE(bad.feed("?garbage\r\n", 10).has_value());
  auto r = bad.next();
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::registry_protocol, r.error().what());
  d::resp_reader bad_len;
  BOOST_TEST_REQUIRE(bad_len.feed("$abc\r\n", 6).has_value());
  BOOST_TEST(bad_len.next().error() == error::registry_protocol);
}

BOOST_AUTO_TEST_CASE(run_fsm_decisions) {
  using kind = d::redis_run_action::kind;
  using state = d::redis_run_fsm::state;
  d::redis_run_fsm fsm(neolith::detail::backoff_policy(10ms, 80ms, 3));
  BOOST_TEST((fsm.current() == state::idle));
  BOOST_TEST(!fsm.accepting_requests());
  BOOST_TEST((fsm.start().what == kind::connect));
  // A failed attempt (or a loss) waits `ms`, refusing requests meanwhile, then connects again.
  auto waits_then_connects = [&fsm](d::redis_run_action a, int ms) {
    BOOST_TEST((a.what == kind::wait));
    BOOST_TEST(a.delay.count() == ms);
    BOOST_TEST(!fsm.accepting_requests());
    BOOST_TEST((fsm.on_wait_done().what == kind::connect));
  };
  // Connection refused: backoff 10, 20 ms.
  waits_then_connects(fsm.on_connect_result(false), 10);
  waits_then_connects(fsm.on_connect_result(false), 20);
  // Up: requests accepted, backoff reset.
  BOOST_TEST((fsm.on_connect_result(true).what == kind::run));
  BOOST_TEST(fsm.accepting_requests());
  BOOST_TEST(fsm.connections() == 1u);
  // Lost: requests refused at once, waits from the first delay again: 10, 20, 40 ms.
  waits_then_connects(fsm.on_connection_lost(), 10);
  waits_then_connects(fsm.on_connect_result(false), 20);
  waits_then_connects(fsm.on_connect_result(false), 40);
  // The attempts are spent: stop for good.
  BOOST_TEST((fsm.on_connect_result(false).what == kind::stop));
  BOOST_TEST((fsm.current() == state::stopped));
  BOOST_TEST((fsm.on_wait_done().what == kind::stop));
  BOOST_TEST((fsm.on_connect_result(true).what == kind::stop));
  BOOST_TEST(!fsm.accepting_requests());
}

BOOST_AUTO_TEST_CASE(run_fsm_stop_wins_and_events_out_of_order_stop) {
  using kind = d::redis_run_action::kind;
  d::redis_run_fsm fsm(neolith::detail::backoff_policy(10ms, 80ms, 100, 0.5));
  fsm.start();
  // Jitter: half of the delay randomised.
  const auto low = fsm.on_connect_result(false, 0.0).delay.count();
  BOOST_TEST(low == 5);
  fsm.on_wait_done();
  BOOST_TEST(fsm.on_connect_result(false, 0.999).delay.count() >= 19);
  // An event that does not fit the state (a loss while waiting) is a bug: stop, never run.
  BOOST_TEST((fsm.on_connection_lost().what == kind::stop));
  d::redis_run_fsm f2(neolith::detail::backoff_policy(10ms, 80ms, 100));
  f2.start();
  f2.on_connect_result(true);
  BOOST_TEST((f2.on_stop().what == kind::stop));
  BOOST_TEST(!f2.accepting_requests());
  BOOST_TEST((f2.on_connection_lost().what == kind::stop));
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
  io_thread io;
  redis_registry_options o;
  o.url = "http://x";
  BOOST_TEST(redis_registry::create(io.executor(), o).error() == error::invalid_endpoint);
  o.url = "unix:///tmp/none.sock";
  for (const char* bad : {"", "a:b", "a b", "a*", "ä"}) {
    o.cluster = bad;
    auto r = redis_registry::create(io.executor(), o);
    BOOST_TEST_REQUIRE(!r.has_value(), bad);
    BOOST_TEST(r.error() == error::invalid_argument, bad);
  }
  o.cluster = std::string(65, 'a');
  BOOST_TEST(redis_registry::create(io.executor(), o).error() == error::invalid_argument);
}

// ----- A real redis-server ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(keys_live_under_the_cluster_prefix_and_no_other_key_is_touched) {
  redis_server server;
  // Another cluster, a cluster whose name starts the same, and keys of other applications.
  server.command({"HSET", "neolith:other:session:s1", "node", "n1", "epoch", "7"});
  server.command({"SADD", "neolith:other:sessions", "s1"});
  server.command({"SADD", "neolith:other:node:n1", "s1"});
  server.command({"SET", "neolith:alpha", "not a cluster"});
  server.command({"SET", "neolith:alpha-2:session:s1", "x"});
  server.command({"SET", "session:s1", "someone else's"});
  server.command({"SADD", "sessions", "s1"});
  const auto before = server.dump();
  io_thread io;
  {
    auto reg = connected(io, server.url(), "alpha");
    BOOST_TEST(reg->key_prefix() == "neolith:alpha:");
    BOOST_TEST_REQUIRE(io.sync(reg->claim(loc("s1", "n1"))).has_value());
    BOOST_TEST_REQUIRE(io.sync(reg->claim(loc("s2", "n1"))).has_value());
    BOOST_TEST_REQUIRE(io.sync(reg->compare_and_set("s1", "n1", 1, to("n2", location_state::placed, "m"))).has_value());
    BOOST_TEST(io.sync(reg->list_all()).value().size() == 2u);
    BOOST_TEST(io.sync(reg->list_node("n1")).value().size() == 1u);
    BOOST_TEST(io.sync(reg->get("s1")).value().epoch == 2u);
    BOOST_TEST(io.sync(reg->compare_and_set("s1", "n1", 1, to("n3"))).error() == error::location_conflict);
    BOOST_TEST_REQUIRE(io.sync(reg->remove("s2", std::nullopt)).has_value());
  }
  auto after = server.dump();
  std::vector<std::string> ours, theirs;
  for (auto& line : after) (line.rfind("neolith:alpha:", 0) == 0 ? ours : theirs).push_back(line);
  BOOST_TEST(theirs == before, "keys outside neolith:alpha: changed");
  // Ours: the entry of s1 and its two index sets (s2 and the emptied node set are gone).
  BOOST_TEST(ours.size() == 3u);
  for (const auto& line : ours) BOOST_TEST_MESSAGE(line);
  BOOST_TEST(server.command({"HGET", "neolith:alpha:session:s1", "node"}).at(0) == "n2");
  BOOST_TEST(server.command({"HGET", "neolith:alpha:session:s1", "epoch"}).at(0) == "2");
  BOOST_TEST(server.command({"SISMEMBER", "neolith:alpha:node:n2", "s1"}).at(0) == "1");
  BOOST_TEST(server.command({"SISMEMBER", "neolith:alpha:sessions", "s1"}).at(0) == "1");
}

BOOST_AUTO_TEST_CASE(scripts_are_reloaded_after_a_script_flush) {
  redis_server server;
  io_thread io;
  auto reg = connected(io, server.url());
  BOOST_TEST_REQUIRE(io.sync(reg->claim(loc("s1", "n1"))).has_value());
  server.command({"SCRIPT", "FLUSH"});
  auto moved = io.sync(reg->compare_and_set("s1", "n1", 1, to("n2")));
  BOOST_TEST_REQUIRE(moved.has_value(), why(moved));
  BOOST_TEST(moved.value().epoch == 2u);
  server.command({"SCRIPT", "FLUSH"});
  BOOST_TEST(io.sync(reg->list_all()).value().size() == 1u);
  BOOST_TEST(io.sync(reg->claim(loc("s2", "n1"))).has_value());
  BOOST_TEST(io.sync(reg->remove("s2", 1)).has_value());
}

BOOST_AUTO_TEST_CASE(tcp_and_a_selected_database) {
  redis_server server(redis_server::transport::tcp);
  io_thread io;
  auto reg = connected(io, server.url() + "/2");
  BOOST_TEST_REQUIRE(io.sync(reg->claim(loc("s1", "n1"))).has_value());
  BOOST_TEST(io.sync(reg->get("s1")).value().node_id == "n1");
  // The entry is in database 2, not 0.
  BOOST_TEST(server.command({"EXISTS", "neolith:c:session:s1"}).at(0) == "0");
  BOOST_TEST(server.command({"EVAL", "redis.call('SELECT', 2) return redis.call('EXISTS', KEYS[1])", "1",
                             "neolith:c:session:s1"})
                 .at(0) == "1");
}

BOOST_AUTO_TEST_CASE(an_unreachable_redis_fails_fast_and_clearly) {
  io_thread io;
  auto reg = make(io, "unix:///nonexistent/neolith-test/redis.sock");
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = io.sync(reg->get("s1"));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error() == error::registry_unavailable, r.error().what());
    BOOST_TEST(r.error().message.find("unix:///nonexistent/neolith-test/redis.sock") != std::string::npos,
               r.error().message);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
  }
  BOOST_TEST(io.sync(reg->wait_connected(50ms)).error() == error::registry_unavailable);
}

BOOST_AUTO_TEST_CASE(an_outage_fails_operations_then_they_succeed_again_when_redis_is_back) {
  redis_server server;
  io_thread io;
  auto reg = connected(io, server.url());
  BOOST_TEST_REQUIRE(io.sync(reg->claim(loc("before", "n1"))).has_value());
  BOOST_TEST(reg->connections() == 1u);
  server.kill();
  // Every operation fails (the first may find the connection breaking under it), clearly and
  // fast, never hangs.
  BOOST_TEST_REQUIRE(neolith::test::wait_until([&] { return !reg->connected(); }, 10s));
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r = io.sync(reg->claim(loc("during-" + std::to_string(i), "n1")));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error() == error::registry_unavailable, r.error().what());
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
  }
  server.restart();
  // Back (the restarted Redis is empty: no persistence in the tests): operations succeed again
  // once the connection is made (bounded polling; a read that finds nothing is an answer).
  BOOST_TEST_REQUIRE(neolith::test::wait_until(
      [&] {
        auto probe = io.sync(reg->get("probe"));
        return !probe.has_value() && probe.error() == error::session_not_found;
      },
      10s));
  auto after = io.sync(reg->claim(loc("after", "n1")));
  BOOST_TEST_REQUIRE(after.has_value(), why(after));
  BOOST_TEST(io.sync(reg->get("after")).value().node_id == "n1");
  BOOST_TEST(reg->connections() >= 2u);  // reconnected (at least once)
}

BOOST_AUTO_TEST_CASE(a_pending_operation_when_the_connection_breaks_fails_clearly) {
  redis_server server;
  io_thread io;
  auto reg = connected(io, server.url());
  // Requests sent as Redis dies: each is answered before the kill or fails with the
  // connection, never hangs.
  std::vector<std::future<neolith::result<session_location>>> pending;
  for (int i = 0; i < 50; ++i) pending.push_back(io.spawn(reg->get("x" + std::to_string(i))));
  server.kill();
  for (auto& f : pending) {
    BOOST_TEST_REQUIRE((f.wait_for(10s) == std::future_status::ready));
    auto r = f.get();
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error() == error::registry_unavailable || r.error() == error::session_not_found), r.error().what());
  }
}

// ----- A fake server: garbage, wrong replies, silence -------------------------------------

namespace {

// Accepts connections on 127.0.0.1 and answers each read with `answer` (nothing when empty).
class fake_redis {
 public:
  explicit fake_redis(std::string answer) : answer_(std::move(answer)), acceptor_(io_.context()) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_.context(), accept_loop(), asio::detached);
  }
  ~fake_redis() {
    // Close everything on its thread, and wait: the serving coroutines then end.
    std::promise<void> done;
    asio::post(io_.context(), [this, &done] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& s : sockets_) s->close(ignored);
      done.set_value();
    });
    done.get_future().wait();
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(); }
  /// Reads that brought bytes (requests seen), over every connection.
  int reads() const { return reads_->load(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++accepted_;
      sockets_.push_back(std::make_shared<asio::ip::tcp::socket>(std::move(sock)));
      asio::co_spawn(io_.context(), serve(sockets_.back(), answer_, reads_), asio::detached);
    }
  }
  static asio::awaitable<void> serve(std::shared_ptr<asio::ip::tcp::socket> sock, std::string answer,
                                     std::shared_ptr<std::atomic<int>> reads) {
    std::array<char, 4096> buf{};
    for (int i = 0; i < 1000; ++i) {
      auto [ec, n] = co_await sock->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++*reads;
      if (answer.empty()) continue;
      auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  std::string answer_;
  io_thread io_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> accepted_{0};
  std::shared_ptr<std::atomic<int>> reads_ = std::make_shared<std::atomic<int>>(0);
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;  ///< touched on io_'s thread only
};

}  // namespace

BOOST_AUTO_TEST_CASE(garbage_from_the_socket_is_a_protocol_error_and_the_client_reconnects) {
  fake_redis fake("?this is not RESP\r\n");
  io_thread io;
  auto reg = connected(io, fake.url());
  auto r = io.sync(reg->get("s1"));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::registry_protocol, r.error().what());
  // The connection was dropped and a new one made.
  BOOST_TEST(neolith::test::wait_until([&] { return fake.accepted() >= 2; }, 10s));
  for (const char* garbage : {"$5\r\nab\r\n\r\n\r\n", "*-5\r\n", ":notanumber\r\n", "$99999999999999999999\r\n"}) {
    fake_redis g(garbage);
    auto reg2 = connected(io, g.url());
    auto r2 = io.sync(reg2->claim(loc("s1", "n1")));
    BOOST_TEST(!r2.has_value(), garbage);
    if (!r2) BOOST_TEST_MESSAGE(garbage << " -> " << r2.error().what());
  }
}

BOOST_AUTO_TEST_CASE(well_formed_replies_of_the_wrong_shape_are_protocol_errors) {
  io_thread io;
  for (const char* answer : {":5\r\n", "+OK\r\n", "*2\r\n:1\r\n:2\r\n", "*6\r\n$1\r\nn\r\n$1\r\nx\r\n$1\r\ns\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n",
                             "-ERR unknown command\r\n"}) {
    fake_redis fake(answer);
    auto reg = connected(io, fake.url());
    auto g = io.sync(reg->get("s1"));
    BOOST_TEST_REQUIRE(!g.has_value(), answer);
    BOOST_TEST(g.error() == error::registry_protocol, answer << ": " << g.error().what());
    auto c = io.sync(reg->compare_and_set("s1", "n1", 1, to("n2")));
    BOOST_TEST_REQUIRE(!c.has_value(), answer);
    BOOST_TEST(c.error() == error::registry_protocol, answer << ": " << c.error().what());
    auto l = io.sync(reg->list_all());
    BOOST_TEST_REQUIRE(!l.has_value(), answer);
    BOOST_TEST(l.error() == error::registry_protocol, answer << ": " << l.error().what());
  }
}

BOOST_AUTO_TEST_CASE(a_silent_server_gives_a_timeout_at_the_deadline) {
  fake_redis fake("");
  io_thread io;
  auto reg = make(io, fake.url(), "c", 100ms);
  BOOST_TEST_REQUIRE(io.sync(reg->wait_connected(10s)).has_value());
  const auto start = std::chrono::steady_clock::now();
  auto r = io.sync(reg->get("s1"));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::timeout, r.error().what());
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 100ms));
  // Still usable: the next request times out the same way (its reply would be matched in order).
  BOOST_TEST(io.sync(reg->claim(loc("s", "n"))).error() == error::timeout);
}

namespace {
template <class T>
asio::awaitable<void> store(asio::awaitable<T> aw, std::shared_ptr<std::promise<T>> p) {
  p->set_value(co_await std::move(aw));
}

asio::awaitable<neolith::result<session_location>> get_cancelled_after(redis_registry& reg, std::chrono::milliseconds after) {
  asio::cancellation_signal sig;
  asio::steady_timer timer(co_await asio::this_coro::executor, after);
  auto ex = co_await asio::this_coro::executor;
  auto p = std::make_shared<std::promise<neolith::result<session_location>>>();
  auto f = p->get_future();
  asio::co_spawn(ex, store(reg.get("s1"), p), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  co_await timer.async_wait(asio::use_awaitable);
  sig.emit(asio::cancellation_type::terminal);
  // Wait (bounded) for the cancelled operation to complete.
  for (int i = 0; i < 5000 && f.wait_for(0s) != std::future_status::ready; ++i) {
    timer.expires_after(1ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (f.wait_for(0s) != std::future_status::ready) co_return neolith::error_info(error::internal, "never completed");
  co_return f.get();
}
}  // namespace

BOOST_AUTO_TEST_CASE(an_operation_can_be_cancelled) {
  fake_redis fake("");
  io_thread io;
  auto reg = make(io, fake.url(), "c", 10000ms);
  BOOST_TEST_REQUIRE(io.sync(reg->wait_connected(10s)).has_value());
  auto r = io.sync(get_cancelled_after(*reg, 30ms));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::cancelled, r.error().what());
}

BOOST_AUTO_TEST_CASE(destroying_the_registry_with_an_operation_pending) {
  fake_redis fake("");
  io_thread io;
  auto reg = make(io, fake.url(), "c", 10000ms);
  BOOST_TEST_REQUIRE(io.sync(reg->wait_connected(10s)).has_value());
  auto pending = io.spawn(reg->get("s1"));
  // Once the request reached the server, destroy the registry under it.
  BOOST_TEST_REQUIRE(neolith::test::wait_until([&] { return fake.reads() >= 1; }, 10s));
  reg.reset();
  BOOST_TEST_REQUIRE((pending.wait_for(10s) == std::future_status::ready));
  auto r = pending.get();
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == error::shutting_down, r.error().what());
}
