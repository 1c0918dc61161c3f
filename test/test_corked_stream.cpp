// corked_stream (the write-coalescing layer under the WebSocket streams of daemon_node and the
// daemon): coalescing, flush without a cork, ordering, backpressure, latched errors, WebSocket
// handshake/ping/close through it, and destruction with a flush in flight.
#define BOOST_TEST_MODULE corked_stream
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <neolith/transport/detail/corked_stream.hpp>
#include <neolith/transport/detail/ws_frame.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using neolith::detail::corked_stream;
using namespace std::chrono_literals;

namespace {

/// Runs `ioc` until `cond()` holds (bounded: fails the test after `limit`).
bool run_until(asio::io_context& ioc, const std::function<bool()>& cond, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    if (ioc.stopped()) ioc.restart();  // ran out of work earlier (poll)
    ioc.run_one_for(10ms);
  }
  return true;
}

/// Runs every handler that is ready now (and those they make ready), without waiting.
void run_ready(asio::io_context& ioc) {
  ioc.restart();
  ioc.poll();
}

/// A connected pair of TCP sockets on 127.0.0.1.
struct socket_pair {
  explicit socket_pair(asio::io_context& ioc) : a(ioc), b(ioc) {
    tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    a.connect(acc.local_endpoint());
    acc.accept(b);
    a.set_option(tcp::no_delay(true));
    b.set_option(tcp::no_delay(true));
  }
  tcp::socket a, b;
};

/// Reads exactly `n` bytes from `s` (bounded by run_until in the caller).
struct reader {
  std::string data;
  bool done = false;
  error_code ec;
};

void read_exactly(tcp::socket& s, std::size_t n, reader& r) {
  r.data.assign(n, '\0');
  asio::async_read(s, asio::buffer(r.data), [&r](error_code ec, std::size_t) {
    r.ec = ec;
    r.done = true;
  });
}

}  // namespace

BOOST_AUTO_TEST_CASE(writes_while_corked_go_out_in_one_flush_in_order) {
  asio::io_context ioc;
  socket_pair p(ioc);
  corked_stream<tcp::socket> s(std::move(p.a));
  std::vector<std::string> frames;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    frames.push_back("frame-" + std::to_string(i) + ";");
    expected += frames.back();
  }
  int completed = 0;
  s.cork();
  for (auto& f : frames) {
    s.async_write_some(asio::buffer(f), [&](error_code ec, std::size_t n) {
      BOOST_TEST(!ec);
      BOOST_TEST(n > 0u);
      ++completed;
    });
  }
  BOOST_TEST(completed == 0);  // never completed inline
  run_ready(ioc);
  BOOST_TEST(completed == 100);   // completed at once, before anything was written
  BOOST_TEST(s.flushes() == 0u);
  BOOST_TEST(s.buffered() == expected.size());
  s.uncork();
  reader r;
  read_exactly(p.b, expected.size(), r);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return r.done && s.buffered() == 0; }));
  BOOST_TEST(!r.ec);
  BOOST_TEST(r.data == expected);
  BOOST_TEST(s.flushes() == 1u);
  BOOST_TEST(s.bytes_written() == expected.size());
}

BOOST_AUTO_TEST_CASE(an_uncorked_write_is_flushed_at_once_and_bytes_appended_meanwhile_follow) {
  asio::io_context ioc;
  socket_pair p(ioc);
  corked_stream<tcp::socket> s(std::move(p.a));
  std::string one = "first", two = "second", three = "third";
  int completed = 0;
  auto count = [&](error_code ec, std::size_t) {
    BOOST_TEST(!ec);
    ++completed;
  };
  s.async_write_some(asio::buffer(one), count);
  s.async_write_some(asio::buffer(two), count);    // a flush is in flight: appended
  s.async_write_some(asio::buffer(three), count);  // appended too
  reader r;
  read_exactly(p.b, one.size() + two.size() + three.size(), r);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return r.done && completed == 3 && s.buffered() == 0; }));
  BOOST_TEST(r.data == one + two + three);
  BOOST_TEST(s.flushes() == 2u);  // "first" alone, then the two that came while it was written
}

BOOST_AUTO_TEST_CASE(a_peer_that_does_not_read_holds_the_writer_back_then_releases_it) {
  asio::io_context ioc;
  socket_pair p(ioc);
  p.a.set_option(asio::socket_base::send_buffer_size(4096));
  p.b.set_option(asio::socket_base::receive_buffer_size(4096));
  corked_stream<tcp::socket> s(std::move(p.a));
  s.limit(16 * 1024);
  const std::string chunk(8 * 1024, 'x');
  std::size_t accepted = 0;
  bool held = false;
  // Write until one write is not completed: the kernel buffers are full and so is ours.
  for (int i = 0; i < 10'000 && !held; ++i) {
    bool done = false;
    s.async_write_some(asio::buffer(chunk), [&](error_code ec, std::size_t n) {
      BOOST_TEST(!ec);
      accepted += n;
      done = true;
    });
    run_ready(ioc);
    if (!done) {
      // Nothing the peer does not read can complete it: give the loop a bounded chance.
      run_until(ioc, [&] { return done; }, 200ms);
      held = !done;
      if (!held) continue;
      BOOST_TEST(s.buffered() > s.limit());
      BOOST_TEST(s.buffered() <= s.limit() + chunk.size());
      // The peer reads everything: the held write completes.
      const std::size_t total = accepted + chunk.size();
      reader r;
      read_exactly(p.b, total, r);
      BOOST_TEST_REQUIRE(run_until(ioc, [&] { return done && r.done; }));
      BOOST_TEST(r.data == std::string(total, 'x'));
    }
  }
  BOOST_TEST(held);
}

BOOST_AUTO_TEST_CASE(a_failed_flush_is_latched_and_fails_every_later_write) {
  asio::io_context ioc;
  socket_pair p(ioc);
  corked_stream<tcp::socket> s(std::move(p.a));
  p.b.set_option(asio::socket_base::linger(true, 0));  // close with RST
  p.b.close();
  const std::string chunk(64 * 1024, 'y');
  // The first writes may be accepted by the kernel before the reset arrives; within a bounded
  // number of them a flush fails.
  bool failed = false;
  for (int i = 0; i < 1000 && !failed; ++i) {
    s.async_write_some(asio::buffer(chunk), [](error_code, std::size_t) {});
    run_until(ioc, [&] { return s.buffered() == 0 || bool(s.write_error()); }, 1s);
    failed = bool(s.write_error());
  }
  BOOST_TEST_REQUIRE(failed);
  const auto latched = s.write_error();
  error_code got;
  bool done = false;
  std::size_t n = 99;
  s.async_write_some(asio::buffer(chunk), [&](error_code ec, std::size_t written) {
    got = ec;
    n = written;
    done = true;
  });
  BOOST_TEST(!done);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return done; }));
  BOOST_TEST(got == latched);
  BOOST_TEST(n == 0u);
  BOOST_TEST(s.buffered() == 0u);
  bool drained = false;
  s.async_drain([&](error_code ec) {
    BOOST_TEST(ec == latched);
    drained = true;
  });
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return drained; }));
}

BOOST_AUTO_TEST_CASE(drain_completes_once_everything_is_written_even_when_corked) {
  asio::io_context ioc;
  socket_pair p(ioc);
  corked_stream<tcp::socket> s(std::move(p.a));
  std::string data = "corked bytes";
  s.cork();
  s.async_write_some(asio::buffer(data), [](error_code, std::size_t) {});
  bool drained = false;
  s.async_drain([&](error_code ec) {
    BOOST_TEST(!ec);
    drained = true;
  });
  reader r;
  read_exactly(p.b, data.size(), r);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return drained && r.done; }));
  BOOST_TEST(r.data == data);
  s.uncork();
}

BOOST_AUTO_TEST_CASE(destroying_the_stream_with_a_flush_in_flight_is_safe) {
  asio::io_context ioc;
  socket_pair p(ioc);
  p.a.set_option(asio::socket_base::send_buffer_size(4096));
  p.b.set_option(asio::socket_base::receive_buffer_size(4096));
  bool completed = false;
  {
    auto s = std::make_unique<corked_stream<tcp::socket>>(std::move(p.a));
    const std::string big(1024 * 1024, 'z');
    s->async_write_some(asio::buffer(big), [&](error_code ec, std::size_t) {
      BOOST_TEST(ec == asio::error::operation_aborted);
      completed = true;
    });
    run_ready(ioc);
    BOOST_TEST(s->buffered() > 0u);  // the peer reads nothing: the flush is still in flight
  }
  // The flush completes (operation_aborted) after the stream is gone, touching only its own
  // state; the held write completes with the error.
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return completed; }));
  ioc.restart();
  ioc.run_for(1s);  // returns as soon as nothing is left
}

BOOST_AUTO_TEST_CASE(auto_cork_holds_appends_until_the_owner_reads_again) {
  asio::io_context ioc;
  socket_pair p(ioc);
  corked_stream<tcp::socket> s(std::move(p.a));
  s.auto_cork(true);
  const auto put = [&](std::string_view text) {
    BOOST_TEST(s.append([&](std::vector<char>& out) { out.insert(out.end(), text.begin(), text.end()); }));
  };
  // Busy (no read waiting): held.
  put("one;");
  put("two;");
  run_ready(ioc);
  BOOST_TEST(s.flushes() == 0u);
  BOOST_TEST(s.buffered() == 8u);
  // Going back to the socket for input flushes first.
  char in[16];
  std::size_t got = 0;
  bool read_done = false;
  s.async_read_some(asio::buffer(in), [&](error_code ec, std::size_t n) {
    BOOST_TEST(!ec);
    got = n;
    read_done = true;
  });
  reader r;
  read_exactly(p.b, 8, r);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return r.done; }));
  BOOST_TEST(r.data == "one;two;");
  // While the read waits, an append (a push, say) goes out at once.
  put("three;");
  reader r2;
  read_exactly(p.b, 6, r2);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return r2.done; }));
  BOOST_TEST(r2.data == "three;");
  // The read completes through the wrapper; the stream is busy again.
  asio::write(p.b, asio::buffer(std::string("ping")));
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return read_done; }));
  BOOST_TEST(std::string(in, got) == "ping");
  put("four;");
  run_ready(ioc);
  BOOST_TEST(s.buffered() == 5u);  // held again
  bool below = false;
  s.async_wait_below(0, [&](error_code ec) {
    BOOST_TEST(!ec);
    below = true;
  });
  reader r3;
  read_exactly(p.b, 5, r3);
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return below && r3.done; }));  // a waiter overrides the cork
  BOOST_TEST(r3.data == "four;");
}

BOOST_AUTO_TEST_CASE(a_failed_flush_calls_the_error_callback_once_and_refuses_appends) {
  asio::io_context ioc;
  socket_pair p(ioc);
  corked_stream<tcp::socket> s(std::move(p.a));
  int calls = 0;
  error_code seen;
  s.on_error([&](const error_code& ec) {
    ++calls;
    seen = ec;
  });
  p.b.set_option(asio::socket_base::linger(true, 0));
  p.b.close();
  const std::string chunk(64 * 1024, 'w');
  for (int i = 0; i < 1000 && calls == 0; ++i) {
    s.append([&](std::vector<char>& out) { out.insert(out.end(), chunk.begin(), chunk.end()); });
    run_until(ioc, [&] { return s.buffered() == 0 || calls > 0; }, 1s);
  }
  BOOST_TEST_REQUIRE(calls == 1);
  BOOST_TEST(seen == s.write_error());
  BOOST_TEST(!s.append([&](std::vector<char>& out) { out.push_back('x'); }));
  run_ready(ioc);
  BOOST_TEST(calls == 1);
}

// ----- Under beast::websocket::stream ---------------------------------------------------------

namespace {

using client_ws = websocket::stream<corked_stream<beast::tcp_stream>>;
using server_ws = websocket::stream<corked_stream<tcp::socket>>;

asio::awaitable<void> echo_server(tcp::acceptor& acc, std::vector<std::string>& seen, bool& closed_by_peer) {
  auto sock = co_await acc.async_accept(asio::use_awaitable);
  server_ws ws(std::move(sock));
  co_await ws.async_accept(asio::use_awaitable);
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec == websocket::error::closed) {
      closed_by_peer = true;
      break;
    }
    if (ec) break;
    seen.push_back(beast::buffers_to_string(buf.data()));
    // Echo twice, corked: both frames in one flush.
    ws.next_layer().cork();
    ws.text(true);
    co_await ws.async_write(buf.data(), asio::use_awaitable);
    co_await ws.async_write(buf.data(), asio::use_awaitable);
    ws.next_layer().uncork();
    buf.consume(buf.size());
  }
}

asio::awaitable<void> client(std::uint16_t port, std::vector<std::string>& got, std::uint64_t& flushes) {
  auto ex = co_await asio::this_coro::executor;
  client_ws ws(ex);
  co_await beast::get_lowest_layer(ws).async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                                     asio::use_awaitable);
  co_await ws.async_handshake("127.0.0.1", "/", asio::use_awaitable);
  co_await ws.async_ping({}, asio::use_awaitable);
  ws.text(true);
  // Three requests in one flush.
  ws.next_layer().cork();
  const std::array<std::string, 3> requests{"alpha", "beta", "gamma"};
  for (const auto& m : requests) co_await ws.async_write(asio::buffer(m), asio::use_awaitable);
  ws.next_layer().uncork();
  beast::flat_buffer buf;
  for (int i = 0; i < 6; ++i) {
    co_await ws.async_read(buf, asio::use_awaitable);
    got.push_back(beast::buffers_to_string(buf.data()));
    buf.consume(buf.size());
  }
  flushes = ws.next_layer().flushes();
  co_await ws.async_close(websocket::close_code::normal, asio::use_awaitable);
}

const std::vector<std::size_t> frame_sizes{0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 100'000};

std::string payload_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

/// A server that reads each client frame (written by append_ws_frame, masked) and answers it
/// with append_ws_frame (unmasked), in auto-cork mode.
asio::awaitable<void> frame_server(tcp::acceptor& acc, std::vector<std::string>& seen) {
  auto sock = co_await acc.async_accept(asio::use_awaitable);
  server_ws ws(std::move(sock));
  co_await ws.async_accept(asio::use_awaitable);
  ws.read_message_max(1024 * 1024);
  ws.next_layer().auto_cork(true);
  beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) break;
    BOOST_TEST(ws.got_text());
    seen.push_back(beast::buffers_to_string(buf.data()));
    const std::string echo = seen.back();
    ws.next_layer().append([&](std::vector<char>& out) {
      neolith::detail::append_ws_frame(out, neolith::detail::ws_opcode::text, echo, std::nullopt);
    });
    buf.consume(buf.size());
  }
}

asio::awaitable<void> frame_client(std::uint16_t port, std::vector<std::string>& got) {
  auto ex = co_await asio::this_coro::executor;
  client_ws ws(ex);
  co_await beast::get_lowest_layer(ws).async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                                     asio::use_awaitable);
  co_await ws.async_handshake("127.0.0.1", "/", asio::use_awaitable);
  ws.read_message_max(1024 * 1024);
  std::uint32_t key = 0x01020304;
  for (auto n : frame_sizes) {
    const std::string p = payload_of(n);
    key = key * 2654435761u + 1;
    if (key == 0) key = 1;
    ws.next_layer().append([&](std::vector<char>& out) {
      neolith::detail::append_ws_frame(out, neolith::detail::ws_opcode::text, p, key);
    });
    beast::flat_buffer buf;
    co_await ws.async_read(buf, asio::use_awaitable);
    got.push_back(beast::buffers_to_string(buf.data()));
  }
  co_await ws.async_close(websocket::close_code::normal, asio::use_awaitable);
}

}  // namespace

BOOST_AUTO_TEST_CASE(frames_serialized_in_place_are_read_by_beast_both_ways) {
  BOOST_TEST(neolith::detail::ws_header_size(125, false) == 2u);
  BOOST_TEST(neolith::detail::ws_header_size(126, true) == 8u);
  BOOST_TEST(neolith::detail::ws_header_size(65536, true) == 14u);
  asio::io_context ioc;
  tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::string> seen, got;
  bool server_done = false, client_done = false;
  asio::co_spawn(ioc, frame_server(acc, seen), [&](std::exception_ptr e) {
    BOOST_TEST(!e);
    server_done = true;
  });
  asio::co_spawn(ioc, frame_client(acc.local_endpoint().port(), got), [&](std::exception_ptr e) {
    BOOST_TEST(!e);
    client_done = true;
  });
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return server_done && client_done; }));
  BOOST_TEST_REQUIRE(seen.size() == frame_sizes.size());
  BOOST_TEST_REQUIRE(got.size() == frame_sizes.size());
  for (std::size_t i = 0; i < frame_sizes.size(); ++i) {
    BOOST_TEST(seen[i] == payload_of(frame_sizes[i]));
    BOOST_TEST(got[i] == payload_of(frame_sizes[i]));
  }
}

BOOST_AUTO_TEST_CASE(websocket_handshake_frames_ping_and_close_go_through_it) {
  asio::io_context ioc;
  tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::string> seen, got;
  bool closed_by_peer = false, server_done = false, client_done = false;
  std::uint64_t flushes = 0;
  asio::co_spawn(ioc, echo_server(acc, seen, closed_by_peer), [&](std::exception_ptr e) {
    BOOST_TEST(!e);
    server_done = true;
  });
  asio::co_spawn(ioc, client(acc.local_endpoint().port(), got, flushes), [&](std::exception_ptr e) {
    BOOST_TEST(!e);
    client_done = true;
  });
  BOOST_TEST_REQUIRE(run_until(ioc, [&] { return server_done && client_done; }));
  BOOST_TEST(seen == (std::vector<std::string>{"alpha", "beta", "gamma"}));
  BOOST_TEST(got == (std::vector<std::string>{"alpha", "alpha", "beta", "beta", "gamma", "gamma"}));
  BOOST_TEST(closed_by_peer);  // the client's close frame got through and was answered
  // Handshake, ping, one flush for the three requests (never one per frame).
  BOOST_TEST(flushes == 3u);
}
