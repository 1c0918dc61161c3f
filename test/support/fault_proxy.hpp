// A test-only TCP proxy that forwards 127.0.0.1 connections to an upstream endpoint and can
// stall, delay, cut or refuse them on demand, for the client's fault tests.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace neolith::test {

// Listens on 127.0.0.1 and forwards every accepted connection to the upstream endpoint with two
// pipelines per connection (client -> upstream and upstream -> client), each reading chunks of at
// most 16 KiB into a queue of at most 4 chunks: with the chunk being read and the one being
// written, a proxy holds at most 96 KiB per direction and connection; everything else stays in
// the kernel (TCP backpressure). TCP_NODELAY is set on both
// sockets. An EOF on one side is forwarded as a half-close (shutdown of the send side) once the
// queued bytes are written; a read or write error on either side resets both.
//
// All the work runs on a strand of the given executor (which may be a multi-threaded io_context).
// Every member function is thread-safe and may be called from any thread, including from a
// handler running on the io_context; none of them blocks on the io_context.
//
// The internal state (sockets, coroutines) is shared with the coroutines: the destructor closes
// the listener and resets every connection, and the state is freed as soon as the coroutines
// have seen it (promptly while the io_context runs; when the io_context is destroyed otherwise).
// `live_states()` lets a test wait for that.
class fault_proxy {
public:
    using endpoint_type = boost::asio::ip::tcp::endpoint;

    // Listens on 127.0.0.1:listen_port (0: a free port, see endpoint()). Throws
    // boost::system::system_error if the port cannot be bound.
    fault_proxy(boost::asio::any_io_executor ex, endpoint_type upstream, std::uint16_t listen_port = 0);
    ~fault_proxy();

    fault_proxy(fault_proxy const&) = delete;
    fault_proxy& operator=(fault_proxy const&) = delete;

    // Where clients connect (127.0.0.1 and the listening port, which never changes).
    [[nodiscard]] endpoint_type endpoint() const;

    // The upstream used by connections accepted from now on (current ones keep theirs).
    void set_upstream(endpoint_type upstream);
    [[nodiscard]] endpoint_type upstream() const;

    // --- Fault controls (all take effect immediately for decisions made after the call) ---

    // While on, nothing is forwarded in either direction and no new read is started, so the
    // senders are held back by TCP flow control; sockets stay open. A read already pending when
    // the stall begins may still complete: its chunk is held, not forwarded. Off: forwarding
    // resumes with the held bytes, in order.
    void stall(bool on);

    // Every chunk read from now on is written no earlier than `d` after it was read (order kept;
    // chunks already queued keep their deadline). Zero (the default) forwards at once.
    void set_delay(std::chrono::milliseconds d);

    // Abruptly closes every current connection on both sides (SO_LINGER 0 then close: the peers
    // see a reset, or EOF if the RST races with their own close). Runs on the strand right after
    // the call; the listener keeps accepting.
    void cut();

    // While on, new connections are accepted and closed at once: connect() succeeds and the
    // first read gets EOF (or a reset if the client had already sent bytes).
    void refuse(bool on);

    // Closes the listening socket: connect() then fails with connection_refused. Connections
    // already open are kept. Synchronous: refused as soon as the call returns.
    void close_listener();
    // Listens again on the same port (SO_REUSEADDR). Synchronous: connect() succeeds as soon as
    // the call returns. Does nothing if the listener is open. Throws if the port was taken meanwhile.
    void reopen_listener();
    [[nodiscard]] bool listening() const;

    // While on, new connections are accepted but never forwarded nor read (no upstream
    // connection is made): the client's handshake hangs. Such a connection stays open and
    // silent until cut() or the proxy's destruction, even after blackhole_new(false).
    void blackhole_new(bool on);

    // --- Observability ---

    // Every connection accepted so far (forwarded, refused or blackholed).
    [[nodiscard]] std::size_t connections_accepted() const;
    // Connections currently held (connecting, forwarding, half-closed or blackholed).
    [[nodiscard]] std::size_t active_connections() const;
    // Bytes written to the upstream / to the clients so far.
    [[nodiscard]] std::uint64_t bytes_upstream() const;
    [[nodiscard]] std::uint64_t bytes_downstream() const;

    // Number of proxy states (of any fault_proxy in the process) not yet freed: after the
    // destruction of every proxy it drops to zero once their coroutines have finished.
    [[nodiscard]] static std::size_t live_states() noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace neolith::test
