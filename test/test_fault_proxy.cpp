#define BOOST_TEST_MODULE fault_proxy
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include "support/fault_proxy.hpp"
#include "support/wait.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using neolith::test::fault_proxy;
using neolith::test::wait_until;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto prompt = 2s; // generous bound for things that should happen at once

// A plain echo server on 127.0.0.1:0 on its own single-threaded io_context. On EOF it shuts down
// its send side after echoing everything (so half-closes travel back).
class echo_server {
public:
    echo_server() : acceptor_(ctx_, tcp::endpoint(asio::ip::address_v4::loopback(), 0))
    {
        asio::co_spawn(ctx_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ctx_.run(); });
    }
    ~echo_server()
    {
        ctx_.stop();
        thread_.join();
    }
    echo_server(echo_server const&) = delete;
    echo_server& operator=(echo_server const&) = delete;

    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
    std::size_t accepted() const { return accepted_.load(); }

private:
    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec)
                co_return;
            ++accepted_;
            asio::co_spawn(ctx_, echo(std::move(socket)), asio::detached);
        }
    }

    static asio::awaitable<void> echo(tcp::socket socket)
    {
        std::array<char, 8192> buf{};
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), use_tuple);
            if (ec) {
                error_code ignored;
                socket.shutdown(tcp::socket::shutdown_send, ignored);
                co_return;
            }
            auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(buf.data(), n), use_tuple);
            if (wec)
                co_return;
        }
    }

    asio::io_context ctx_;
    tcp::acceptor acceptor_;
    std::atomic<std::size_t> accepted_{0};
    std::thread thread_;
};

struct read_result {
    error_code ec;
    std::string data;
    bool timed_out = false;
};

// The proxy runs on an io_context with two threads; the test's client sockets use their own
// io_context, driven by the test thread only.
struct fixture {
    fixture()
    {
        proxy.emplace(proxy_ctx.get_executor(), echo.endpoint());
        for (int i = 0; i < 2; ++i)
            threads.emplace_back([this] { proxy_ctx.run(); });
    }
    ~fixture()
    {
        proxy.reset();
        BOOST_CHECK(wait_until([] { return fault_proxy::live_states() == 0; }, prompt));
        guard.reset();
        proxy_ctx.stop();
        for (auto& t : threads)
            t.join();
    }
    fixture(fixture const&) = delete;
    fixture& operator=(fixture const&) = delete;

    tcp::socket connect()
    {
        tcp::socket s(client_ctx);
        s.connect(proxy->endpoint());
        s.set_option(tcp::no_delay(true));
        return s;
    }

    // Reads exactly n bytes (or until an error / the timeout).
    read_result read_exactly(tcp::socket& s, std::size_t n, steady::duration timeout)
    {
        read_result r;
        r.data.resize(n);
        bool done = false;
        asio::async_read(s, asio::buffer(r.data), [&](error_code ec, std::size_t got) {
            r.ec = ec;
            r.data.resize(got);
            done = true;
        });
        finish(s, done, r, timeout);
        return r;
    }

    // Reads whatever arrives first (or an error / the timeout).
    read_result read_some(tcp::socket& s, steady::duration timeout)
    {
        read_result r;
        r.data.resize(64 * 1024);
        bool done = false;
        s.async_read_some(asio::buffer(r.data), [&](error_code ec, std::size_t got) {
            r.ec = ec;
            r.data.resize(got);
            done = true;
        });
        finish(s, done, r, timeout);
        return r;
    }

    void finish(tcp::socket& s, bool& done, read_result& r, steady::duration timeout)
    {
        client_ctx.restart();
        client_ctx.run_for(timeout);
        if (!done) {
            r.timed_out = true;
            s.cancel();
            client_ctx.restart();
            client_ctx.run();
        }
    }

    // Writes `text` and expects it echoed back within `prompt`.
    void round_trip(tcp::socket& s, std::string const& text)
    {
        asio::write(s, asio::buffer(text));
        auto const r = read_exactly(s, text.size(), prompt);
        BOOST_TEST_REQUIRE(!r.timed_out);
        BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
        BOOST_TEST(r.data == text);
    }

    echo_server echo;
    asio::io_context proxy_ctx;
    asio::executor_work_guard<asio::io_context::executor_type> guard{proxy_ctx.get_executor()};
    std::optional<fault_proxy> proxy;
    std::vector<std::thread> threads;
    asio::io_context client_ctx;
};

std::string pattern(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

bool is_closed_error(error_code const& ec)
{
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(fault_proxy_tests, fixture)

BOOST_AUTO_TEST_CASE(listens_on_loopback)
{
    auto const ep = proxy->endpoint();
    BOOST_TEST(ep.address() == asio::ip::address_v4::loopback());
    BOOST_TEST(ep.port() != 0);
    BOOST_TEST(proxy->listening());
    BOOST_TEST(proxy->upstream() == echo.endpoint());
}

BOOST_AUTO_TEST_CASE(bytes_pass_both_ways)
{
    auto s = connect();
    round_trip(s, "hello");
    auto const big = pattern(1024 * 1024);
    // Write and read concurrently: 1 MiB does not fit in the socket buffers of a blocking write.
    std::string got;
    got.resize(big.size());
    bool read_done = false;
    bool write_done = false;
    error_code read_ec;
    error_code write_ec;
    asio::async_read(s, asio::buffer(got), [&](error_code ec, std::size_t) { read_ec = ec; read_done = true; });
    asio::async_write(s, asio::buffer(big), [&](error_code ec, std::size_t) { write_ec = ec; write_done = true; });
    client_ctx.restart();
    client_ctx.run_for(5s);
    BOOST_TEST_REQUIRE(read_done);
    BOOST_TEST_REQUIRE(write_done);
    BOOST_TEST(!read_ec);
    BOOST_TEST(!write_ec);
    BOOST_TEST((got == big));
    BOOST_TEST(wait_until([&] { return proxy->bytes_upstream() == 5 + big.size(); }, prompt));
    BOOST_TEST(wait_until([&] { return proxy->bytes_downstream() == 5 + big.size(); }, prompt));
}

BOOST_AUTO_TEST_CASE(half_close_is_forwarded)
{
    auto s = connect();
    asio::write(s, asio::buffer(std::string("last words")));
    s.shutdown(tcp::socket::shutdown_send);
    auto const r = read_exactly(s, 10, prompt);
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST(r.data == "last words");
    // The echo server shut down its side once it saw our EOF: the proxy forwards that EOF back.
    auto const end = read_some(s, prompt);
    BOOST_TEST(!end.timed_out);
    BOOST_TEST(end.ec == asio::error::eof);
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
}

BOOST_AUTO_TEST_CASE(stall_holds_traffic_and_unstall_delivers)
{
    auto s = connect();
    round_trip(s, "before");
    BOOST_TEST_REQUIRE(wait_until([&] { return proxy->bytes_upstream() == 6u; }, prompt));
    proxy->stall(true);
    asio::write(s, asio::buffer(std::string("held")));
    auto const r = read_some(s, 50ms);
    BOOST_TEST(r.timed_out);
    BOOST_TEST(r.data.empty());
    BOOST_TEST(proxy->bytes_upstream() == 6u); // "held" did not reach the upstream
    proxy->stall(false);
    auto const after = read_exactly(s, 4, prompt);
    BOOST_TEST_REQUIRE(!after.timed_out);
    BOOST_TEST(!after.ec);
    BOOST_TEST(after.data == "held");
    round_trip(s, "after");
}

BOOST_AUTO_TEST_CASE(stall_applies_backpressure_and_keeps_every_byte)
{
    auto s = connect();
    round_trip(s, "x");
    BOOST_TEST_REQUIRE(wait_until([&] { return proxy->bytes_upstream() == 1u; }, prompt));
    proxy->stall(true);
    // The proxy stops reading: the client's writes soon block (bounded buffering).
    s.non_blocking(true);
    std::string const block = pattern(64 * 1024);
    std::string sent;
    constexpr std::size_t bound = 64u * 1024 * 1024;
    for (;;) {
        error_code ec;
        auto const n = s.write_some(asio::buffer(block), ec);
        if (ec == asio::error::would_block)
            break;
        BOOST_TEST_REQUIRE(!ec, ec.message());
        sent.append(block, 0, n);
        BOOST_TEST_REQUIRE(sent.size() < bound); // a proxy that kept reading would never block
    }
    s.non_blocking(false);
    BOOST_TEST(!sent.empty());
    BOOST_TEST(proxy->bytes_upstream() == 1u);
    proxy->stall(false);
    auto const r = read_exactly(s, sent.size(), 10s);
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST((r.data == sent));
    BOOST_TEST(wait_until([&] { return proxy->bytes_upstream() == 1 + sent.size(); }, prompt));
}

BOOST_AUTO_TEST_CASE(delay_adds_latency_and_keeps_order)
{
    auto s = connect();
    round_trip(s, "warm");
    auto const d = 60ms;
    proxy->set_delay(d);
    auto const start = steady::now();
    std::string const text = "one-two-three";
    for (char ch : text) // separate chunks
        asio::write(s, asio::buffer(&ch, 1));
    auto const r = read_exactly(s, text.size(), prompt + 2 * d);
    auto const elapsed = steady::now() - start;
    BOOST_TEST_REQUIRE(!r.ec);
    BOOST_TEST(r.data == text);
    // Delayed on the way up and again on the way back.
    BOOST_TEST(elapsed >= 2 * d);
    BOOST_TEST(elapsed < 2 * d + 2s);

    proxy->set_delay(0ms);
    round_trip(s, "fast again");
}

BOOST_AUTO_TEST_CASE(cut_resets_current_connections)
{
    auto a = connect();
    auto b = connect();
    round_trip(a, "a");
    round_trip(b, "b");
    BOOST_TEST(proxy->active_connections() == 2u);
    proxy->cut();
    for (auto* s : {&a, &b}) {
        auto const r = read_some(*s, prompt);
        BOOST_TEST(!r.timed_out);
        BOOST_TEST(is_closed_error(r.ec), r.ec.message());
    }
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
    // The listener survives a cut.
    auto c = connect();
    round_trip(c, "c");
}

BOOST_AUTO_TEST_CASE(cut_while_stalled_mid_request)
{
    auto s = connect();
    round_trip(s, "ok");
    BOOST_TEST_REQUIRE(wait_until([&] { return proxy->bytes_upstream() == 2u; }, prompt));
    proxy->stall(true);
    asio::write(s, asio::buffer(std::string("request that never arrives")));
    proxy->cut();
    auto const r = read_some(s, prompt);
    BOOST_TEST(!r.timed_out);
    BOOST_TEST(is_closed_error(r.ec), r.ec.message());
    BOOST_TEST(proxy->bytes_upstream() == 2u);
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
    proxy->stall(false);
}

BOOST_AUTO_TEST_CASE(refuse_accepts_then_closes)
{
    proxy->refuse(true);
    auto s = connect();
    auto const r = read_some(s, prompt);
    BOOST_TEST(!r.timed_out);
    BOOST_TEST(r.ec == asio::error::eof, r.ec.message());
    BOOST_TEST(proxy->connections_accepted() == 1u);
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
    BOOST_TEST(echo.accepted() == 0u);

    proxy->refuse(false);
    auto ok = connect();
    round_trip(ok, "accepted");
    BOOST_TEST(proxy->connections_accepted() == 2u);
}

BOOST_AUTO_TEST_CASE(close_listener_refuses_connect_and_reopen_restores)
{
    auto const ep = proxy->endpoint();
    auto open = connect();
    round_trip(open, "kept");
    proxy->close_listener();
    BOOST_TEST(!proxy->listening());
    {
        tcp::socket s(client_ctx);
        error_code ec;
        s.connect(ep, ec);
        BOOST_TEST(ec == asio::error::connection_refused, ec.message());
    }
    proxy->close_listener(); // idempotent
    round_trip(open, "still forwarding"); // open connections are not affected

    proxy->reopen_listener();
    BOOST_TEST(proxy->listening());
    BOOST_TEST(proxy->endpoint() == ep);
    auto s = connect();
    round_trip(s, "back");
    proxy->reopen_listener(); // no-op while open
    auto t = connect();
    round_trip(t, "again");
}

BOOST_AUTO_TEST_CASE(blackhole_accepts_and_never_answers)
{
    proxy->blackhole_new(true);
    auto s = connect();
    asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
    auto const r = read_some(s, 100ms);
    BOOST_TEST(r.timed_out);
    BOOST_TEST(proxy->bytes_upstream() == 0u);
    BOOST_TEST(echo.accepted() == 0u);
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 1; }, prompt));

    // New connections are forwarded again; the blackholed one stays silent.
    proxy->blackhole_new(false);
    auto ok = connect();
    round_trip(ok, "through");
    auto const still = read_some(s, 20ms);
    BOOST_TEST(still.timed_out);

    proxy->cut();
    auto const end = read_some(s, prompt);
    BOOST_TEST(!end.timed_out);
    BOOST_TEST(is_closed_error(end.ec), end.ec.message());
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
}

BOOST_AUTO_TEST_CASE(counters)
{
    BOOST_TEST(proxy->connections_accepted() == 0u);
    BOOST_TEST(proxy->active_connections() == 0u);
    {
        auto a = connect();
        auto b = connect();
        round_trip(a, "12345");
        round_trip(b, "1234567890");
        BOOST_TEST(proxy->connections_accepted() == 2u);
        BOOST_TEST(proxy->active_connections() == 2u);
        // Counted when the proxy's write completes, which may be just after the peer read it.
        BOOST_TEST(wait_until([&] { return proxy->bytes_upstream() == 15u; }, prompt));
        BOOST_TEST(wait_until([&] { return proxy->bytes_downstream() == 15u; }, prompt));
    }
    // The clients closed: the proxy forwards the EOF, the echo server closes, both ends go.
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
    BOOST_TEST(proxy->connections_accepted() == 2u);
}

BOOST_AUTO_TEST_CASE(set_upstream_applies_to_new_connections)
{
    echo_server other;
    auto first = connect();
    round_trip(first, "to first");
    proxy->set_upstream(other.endpoint());
    BOOST_TEST(proxy->upstream() == other.endpoint());
    auto second = connect();
    round_trip(second, "to other");
    BOOST_TEST(echo.accepted() == 1u);
    BOOST_TEST(other.accepted() == 1u);
    round_trip(first, "first keeps its upstream");
    BOOST_TEST(echo.accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(upstream_down_closes_the_client)
{
    // A port that nothing listens on: bind, note the port, close.
    tcp::endpoint dead;
    {
        tcp::acceptor a(client_ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        dead = a.local_endpoint();
    }
    proxy->set_upstream(dead);
    auto s = connect();
    auto const r = read_some(s, prompt);
    BOOST_TEST(!r.timed_out);
    BOOST_TEST(is_closed_error(r.ec), r.ec.message());
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 0; }, prompt));
}

BOOST_AUTO_TEST_CASE(destruction_with_open_connections_while_running)
{
    auto const ep = proxy->endpoint();
    auto forwarding = connect();
    round_trip(forwarding, "busy");
    proxy->set_delay(100ms);
    asio::write(forwarding, asio::buffer(std::string("in flight")));
    auto stalled = connect();
    round_trip(stalled, "soon stalled"); // delayed, but it gets there
    proxy->blackhole_new(true);
    auto hole = connect();
    proxy->blackhole_new(false);
    proxy->stall(true);
    asio::write(stalled, asio::buffer(std::string("held")));
    BOOST_TEST(wait_until([&] { return proxy->active_connections() == 3; }, prompt));

    proxy.reset(); // the io_context keeps running on its two threads
    for (auto* s : {&forwarding, &stalled, &hole}) {
        // Whatever was already forwarded may arrive first; then the connection must end.
        read_result r;
        for (int i = 0; i < 16; ++i) {
            r = read_some(*s, prompt);
            if (r.ec || r.timed_out)
                break;
        }
        BOOST_TEST(!r.timed_out);
        BOOST_TEST(is_closed_error(r.ec), r.ec.message());
    }
    BOOST_TEST(wait_until([] { return fault_proxy::live_states() == 0; }, prompt));
    // Nothing listens any more.
    tcp::socket s(client_ctx);
    error_code ec;
    s.connect(ep, ec);
    BOOST_TEST(ec == asio::error::connection_refused, ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
