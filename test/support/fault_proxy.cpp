#include "support/fault_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace neolith::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::size_t chunk_size = 16 * 1024;
constexpr std::size_t max_queued_chunks = 4;
constexpr auto accept_retry_delay = std::chrono::milliseconds(5);
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::atomic<std::size_t> g_live_states{0};

using strand_type = asio::strand<asio::any_io_executor>;

struct chunk {
    std::vector<char> bytes;
    steady::time_point ready_at;
};

// Waits on a timer used by a single coroutine as a wake-up signal: `cancel()` wakes it early.
// Spurious wake-ups are fine: every waiter re-checks its condition in a loop.
asio::awaitable<void> sleep_on(asio::steady_timer& timer, steady::time_point until = steady::time_point::max())
{
    timer.expires_at(until);
    (void)co_await timer.async_wait(use_tuple);
}

// One direction of a connection: a reader fills the bounded queue, a writer drains it.
// Strand-confined, like everything in `connection`.
struct direction {
    explicit direction(strand_type const& strand) : reader_wake(strand), writer_wake(strand) {}

    std::deque<chunk> queue;
    bool eof = false;                  // the reader saw EOF: shut down the send side when drained
    asio::steady_timer reader_wake;    // waited on by the reader only
    asio::steady_timer writer_wake;    // waited on by the writer only

    void notify() { reader_wake.cancel(); writer_wake.cancel(); }
};

struct connection {
    connection(strand_type const& strand, tcp::socket accepted)
        : client(std::move(accepted)), server(strand), wake(strand), up(strand), down(strand)
    {}

    tcp::socket client;
    tcp::socket server;
    asio::steady_timer wake; // waited on by the connection's main coroutine (blackhole)
    direction up;            // client -> server
    direction down;          // server -> client
    bool closed = false;
    int live_coroutines = 0;

    void notify()
    {
        wake.cancel();
        up.notify();
        down.notify();
    }

    // Closes both sockets (abortive: SO_LINGER 0, the peers see a reset) and wakes every
    // coroutine of the connection so that it finishes.
    void close(bool abortive)
    {
        if (closed)
            return;
        closed = true;
        for (tcp::socket* s : {&client, &server}) {
            if (!s->is_open())
                continue;
            error_code ec;
            if (abortive)
                s->set_option(tcp::socket::linger(true, 0), ec);
            s->close(ec);
        }
        up.queue.clear();
        down.queue.clear();
        notify();
    }
};

} // namespace

struct fault_proxy::state : std::enable_shared_from_this<fault_proxy::state> {
    state(asio::any_io_executor const& ex, tcp::endpoint up)
        : strand(asio::make_strand(ex)), acceptor(strand), upstream(std::move(up)), accept_retry(strand)
    {
        ++g_live_states;
    }
    ~state() { --g_live_states; }

    state(state const&) = delete;
    state& operator=(state const&) = delete;

    strand_type strand;

    // The listener is touched by control calls from any thread and by accept completions on the
    // strand: every use of `acceptor` (including starting an accept) holds `listener_mutex`.
    mutable std::mutex listener_mutex;
    tcp::acceptor acceptor;
    std::uint16_t port = 0;
    std::uint64_t accept_generation = 0; // completions of an older generation are stale
    bool stopping = false;

    mutable std::mutex upstream_mutex;
    tcp::endpoint upstream;

    std::atomic<bool> stalled{false};
    std::atomic<bool> refusing{false};
    std::atomic<bool> blackholing{false};
    std::atomic<std::int64_t> delay_us{0};

    std::atomic<std::size_t> accepted{0};
    std::atomic<std::size_t> active{0};
    std::atomic<std::uint64_t> bytes_up{0};
    std::atomic<std::uint64_t> bytes_down{0};

    // Strand-confined.
    std::set<std::shared_ptr<connection>> connections;
    asio::steady_timer accept_retry;

    tcp::endpoint current_upstream() const
    {
        std::lock_guard lock(upstream_mutex);
        return upstream;
    }

    steady::duration delay() const { return std::chrono::microseconds(delay_us.load()); }

    // --- listener (callers hold listener_mutex) ---

    void open_listener_locked(std::uint16_t listen_port)
    {
        tcp::endpoint const ep(asio::ip::address_v4::loopback(), listen_port);
        try {
            acceptor.open(ep.protocol());
            acceptor.set_option(tcp::acceptor::reuse_address(true));
            acceptor.bind(ep);
            acceptor.listen();
            port = acceptor.local_endpoint().port();
        } catch (...) {
            error_code ignored;
            acceptor.close(ignored);
            throw;
        }
        start_accept_locked();
    }

    void close_listener_locked()
    {
        ++accept_generation;
        error_code ignored;
        acceptor.close(ignored);
    }

    void start_accept_locked()
    {
        auto const generation = ++accept_generation;
        acceptor.async_accept(
            asio::any_io_executor(strand),
            asio::bind_executor(strand, [self = shared_from_this(), generation](error_code ec, tcp::socket socket) {
                self->on_accept(generation, ec, std::move(socket));
            }));
    }

    // On the strand.
    void on_accept(std::uint64_t generation, error_code ec, tcp::socket socket)
    {
        {
            std::lock_guard lock(listener_mutex);
            if (generation != accept_generation || stopping || !acceptor.is_open()) {
                error_code ignored;
                socket.close(ignored);
                return;
            }
            if (ec) {
                // Transient failure (aborted handshake, out of descriptors): retry shortly.
                accept_retry.expires_after(accept_retry_delay);
                accept_retry.async_wait(asio::bind_executor(strand, [self = shared_from_this(), generation](error_code) {
                    std::lock_guard relock(self->listener_mutex);
                    if (generation == self->accept_generation && !self->stopping && self->acceptor.is_open())
                        self->start_accept_locked();
                }));
                return;
            }
            start_accept_locked();
        }
        handle_accepted(std::move(socket));
    }

    // --- connections (on the strand) ---

    void handle_accepted(tcp::socket socket)
    {
        ++accepted;
        if (refusing.load()) {
            error_code ignored;
            socket.close(ignored);
            return;
        }
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto c = std::make_shared<connection>(strand, std::move(socket));
        connections.insert(c);
        ++active;
        spawn(c, run_connection(shared_from_this(), c, blackholing.load()));
    }

    void spawn(std::shared_ptr<connection> const& c, asio::awaitable<void> coroutine)
    {
        ++c->live_coroutines;
        asio::co_spawn(strand, std::move(coroutine),
                       asio::bind_executor(strand, [self = shared_from_this(), c](std::exception_ptr failure) {
                           self->coroutine_done(c, failure);
                       }));
    }

    void coroutine_done(std::shared_ptr<connection> const& c, std::exception_ptr failure)
    {
        if (failure)
            c->close(true); // a pipeline is gone (allocation failure): do not leave the other hanging
        if (--c->live_coroutines > 0)
            return;
        c->close(false);
        if (connections.erase(c) > 0)
            --active;
    }

    void close_all(bool abortive)
    {
        for (auto const& c : connections)
            c->close(abortive);
    }

    void notify_all()
    {
        for (auto const& c : connections)
            c->notify();
    }

    static asio::awaitable<void> run_connection(std::shared_ptr<state> self, std::shared_ptr<connection> c, bool blackhole)
    {
        if (blackhole) {
            while (!c->closed)
                co_await sleep_on(c->wake);
            co_return;
        }
        auto [ec] = co_await c->server.async_connect(self->current_upstream(), use_tuple);
        if (c->closed)
            co_return;
        if (ec) {
            c->close(false); // the upstream is down: the client sees its connection closed
            co_return;
        }
        error_code ignored;
        c->server.set_option(tcp::no_delay(true), ignored);
        self->spawn(c, reader(self, c, true));
        self->spawn(c, writer(self, c, true));
        self->spawn(c, reader(self, c, false));
        self->spawn(c, writer(self, c, false));
    }

    static asio::awaitable<void> reader(std::shared_ptr<state> self, std::shared_ptr<connection> c, bool upward)
    {
        direction& d = upward ? c->up : c->down;
        tcp::socket& from = upward ? c->client : c->server;
        for (;;) {
            while (!c->closed && (self->stalled.load() || d.queue.size() >= max_queued_chunks))
                co_await sleep_on(d.reader_wake);
            if (c->closed)
                co_return;
            std::vector<char> bytes(chunk_size);
            auto [ec, n] = co_await from.async_read_some(asio::buffer(bytes), use_tuple);
            if (c->closed)
                co_return;
            if (ec == asio::error::eof) {
                d.eof = true;
                d.writer_wake.cancel();
                co_return;
            }
            if (ec) {
                c->close(true);
                co_return;
            }
            bytes.resize(n);
            d.queue.push_back(chunk{std::move(bytes), steady::now() + self->delay()});
            d.writer_wake.cancel();
        }
    }

    static asio::awaitable<void> writer(std::shared_ptr<state> self, std::shared_ptr<connection> c, bool upward)
    {
        direction& d = upward ? c->up : c->down;
        tcp::socket& to = upward ? c->server : c->client;
        std::atomic<std::uint64_t>& counter = upward ? self->bytes_up : self->bytes_down;
        for (;;) {
            if (c->closed)
                co_return;
            if (self->stalled.load() || (d.queue.empty() && !d.eof)) {
                co_await sleep_on(d.writer_wake);
                continue;
            }
            if (d.queue.empty()) { // drained after EOF: forward the half-close
                error_code ignored;
                to.shutdown(tcp::socket::shutdown_send, ignored);
                co_return;
            }
            auto const ready_at = d.queue.front().ready_at;
            if (steady::now() < ready_at) {
                co_await sleep_on(d.writer_wake, ready_at);
                continue;
            }
            chunk next = std::move(d.queue.front());
            d.queue.pop_front();
            d.reader_wake.cancel();
            auto [ec, n] = co_await asio::async_write(to, asio::buffer(next.bytes), use_tuple);
            if (c->closed)
                co_return;
            if (ec) {
                c->close(true);
                co_return;
            }
            counter += n;
        }
    }
};

fault_proxy::fault_proxy(asio::any_io_executor ex, endpoint_type upstream, std::uint16_t listen_port)
    : state_(std::make_shared<state>(ex, std::move(upstream)))
{
    std::lock_guard lock(state_->listener_mutex);
    state_->open_listener_locked(listen_port);
}

fault_proxy::~fault_proxy()
{
    {
        std::lock_guard lock(state_->listener_mutex);
        state_->stopping = true;
        state_->close_listener_locked();
    }
    asio::post(state_->strand, [s = state_] {
        s->accept_retry.cancel();
        s->close_all(true);
    });
}

fault_proxy::endpoint_type fault_proxy::endpoint() const
{
    std::lock_guard lock(state_->listener_mutex);
    return {asio::ip::address_v4::loopback(), state_->port};
}

void fault_proxy::set_upstream(endpoint_type upstream)
{
    std::lock_guard lock(state_->upstream_mutex);
    state_->upstream = std::move(upstream);
}

fault_proxy::endpoint_type fault_proxy::upstream() const
{
    return state_->current_upstream();
}

void fault_proxy::stall(bool on)
{
    state_->stalled.store(on);
    if (!on)
        asio::post(state_->strand, [s = state_] { s->notify_all(); });
}

void fault_proxy::set_delay(std::chrono::milliseconds d)
{
    auto const us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    state_->delay_us.store(std::max<std::int64_t>(us, 0));
}

void fault_proxy::cut()
{
    asio::post(state_->strand, [s = state_] { s->close_all(true); });
}

void fault_proxy::refuse(bool on)
{
    state_->refusing.store(on);
}

void fault_proxy::close_listener()
{
    std::lock_guard lock(state_->listener_mutex);
    state_->close_listener_locked();
}

void fault_proxy::reopen_listener()
{
    std::lock_guard lock(state_->listener_mutex);
    if (state_->acceptor.is_open())
        return;
    state_->open_listener_locked(state_->port);
}

bool fault_proxy::listening() const
{
    std::lock_guard lock(state_->listener_mutex);
    return state_->acceptor.is_open();
}

void fault_proxy::blackhole_new(bool on)
{
    state_->blackholing.store(on);
}

std::size_t fault_proxy::connections_accepted() const
{
    return state_->accepted.load();
}

std::size_t fault_proxy::active_connections() const
{
    return state_->active.load();
}

std::uint64_t fault_proxy::bytes_upstream() const
{
    return state_->bytes_up.load();
}

std::uint64_t fault_proxy::bytes_downstream() const
{
    return state_->bytes_down.load();
}

std::size_t fault_proxy::live_states() noexcept
{
    return g_live_states.load();
}

} // namespace neolith::test
