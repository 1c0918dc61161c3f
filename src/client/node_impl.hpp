// The inside of daemon_node (private to the library): state on a strand, the request table,
// the supervising coroutine and the connection (reader coroutine, writer, heartbeat timer).
#ifndef NEOLITH_SRC_NODE_IMPL_HPP
#define NEOLITH_SRC_NODE_IMPL_HPP

#include <neolith/client/deadline.hpp>
#include <neolith/client/detail/liveness.hpp>
#include <neolith/client/detail/request_table.hpp>
#include <neolith/client/node_endpoint.hpp>
#include <neolith/client/node_events.hpp>
#include <neolith/client/node_options.hpp>
#include <neolith/client/node_statistics.hpp>
#include <neolith/core/detail/backoff.hpp>
#include <neolith/core/detail/light_strand.hpp>
#include <neolith/core/detail/ring_queue.hpp>
#include <neolith/core/detail/small_rng.hpp>
#include <neolith/core/error.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/transport/detail/corked_stream.hpp>
#include <neolith/transport/detail/maybe_tls_stream.hpp>
#include <neolith/transport/detail/ws_deflate.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace neolith::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

using steady = std::chrono::steady_clock;
using request_completion = asio::any_completion_handler<void(result<message>)>;
using void_completion = asio::any_completion_handler<void(result<void>)>;

/// Hands `value` to `handler` on executor `ex` (the handler's), with outstanding work tracked,
/// never inline in the caller of `deliver`'s stack when that executor is not running here,
/// clearing the handler's cancellation slot first.
template <class Executor, class Signature, class Value>
void deliver_on(const Executor& ex, asio::any_completion_handler<Signature> handler, Value value) {
  auto work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
  asio::dispatch(std::move(work), [h = std::move(handler), v = std::move(value)]() mutable {
    auto slot = asio::get_associated_cancellation_slot(h);
    if (slot.is_connected()) slot.clear();
    std::move(h)(std::move(v));
  });
}

/// `deliver_on` the handler's own (type-erased) executor.
template <class Signature, class Value>
void deliver(asio::any_completion_handler<Signature> handler, Value value) {
  const auto ex = asio::get_associated_executor(handler);
  deliver_on(ex, std::move(handler), std::move(value));
}

/// Counts the scope it lives in, in `depth` (strand-only state: no atomics).
struct scope_count {
  int& depth;
  explicit scope_count(int& d) noexcept : depth(d) { ++depth; }
  ~scope_count() { --depth; }
  scope_count(const scope_count&) = delete;
  scope_count& operator=(const scope_count&) = delete;
};

/// One request as its caller's side sees it: the handler to complete, and (once the strand has
/// taken the request) its place in the table, so that a cancellation can find it.
struct call_state {
  call_state(asio::any_io_executor caller, request_completion h) : caller(std::move(caller)), handler(std::move(h)) {}
  asio::any_io_executor caller;  // the handler's executor when known concretely (else empty)
  request_completion handler;
  std::optional<request_handle> handle;  // strand only
  bool done = false;                     // strand only
};
using call_ptr = std::shared_ptr<call_state>;

/// Completes a request's caller with `r` (as `deliver`), through its concrete executor when
/// it is known: no allocation on the way.
inline void deliver(call_state& call, result<message> r) {
  if (!call.caller) return deliver(std::move(call.handler), std::move(r));
  deliver_on(call.caller, std::move(call.handler), std::move(r));
}

/// The state shared by a subscription and the node (mutex-protected: the consumer may be on
/// any thread).
struct subscription_state {
  std::mutex mutex;
  std::deque<node_event> queue;
  std::size_t capacity = 1024;
  std::uint64_t dropped = 0;
  bool closed = false;
  std::optional<asio::any_completion_handler<void(result<node_event>)>> waiter;
  std::atomic<std::uint64_t>* node_dropped = nullptr;  // the node's counter (valid while open)

  void push(const node_event& e);
  void close();
};

class connection;

class node_impl : public std::enable_shared_from_this<node_impl> {
 public:
  node_impl(asio::any_io_executor ex, std::string id, node_endpoint ep, std::optional<node_capabilities> caps,
            node_options opts);
  ~node_impl();

  // Immutable after construction.
  const std::string id;
  const node_endpoint endpoint;
  const node_options options;
  asio::any_io_executor inner_executor;  // the executor the node was given
  asio::any_io_executor strand;          // a strand over it (make_light_strand)
  /// wss:// only: the OpenSSL context of every connection of this node (made once, from
  /// `options.tls`, or `options.tls_context`), or why it could not be made.
  std::shared_ptr<asio::ssl::context> tls_context;
  std::optional<error_info> tls_error;
  /// Why `options` cannot be used (validate()), if they cannot: connect() fails with it.
  std::optional<error_info> options_error;
  /// The name checked against the daemon's certificate and sent in SNI.
  std::string tls_server_name;

  // ----- Thread-safe state ----------------------------------------------------------------
  std::atomic<connection_state> state{connection_state::disconnected};
  node_capabilities capabilities() const;
  bool capabilities_known() const;
  void set_capabilities(const node_capabilities& c);
  node_health cached_health() const;
  void set_health(const node_health& h);
  node_statistics statistics() const noexcept;

  struct counters {
    std::atomic<std::uint64_t> requests{0}, frames_sent{0}, socket_writes{0}, resent{0}, answered{0}, timeouts{0}, cancelled{0},
        unmatched_replies{0}, invalid_frames{0}, connections{0}, connection_losses{0}, heartbeats_sent{0},
        dropped_events{0};
    deflate_counters deflate;
  } stats;
  /// Requests posted to the strand and not submitted yet (any thread posts; the strand takes
  /// them off). A request made on the strand (a caller resumed inline by its answer asking
  /// again) is submitted at once only when none waits, so that requests still leave in the
  /// order they were made. The reader compares it around a frame's delivery (nothing is taken
  /// off meanwhile): when a request was posted during the delivery, the reader lets it be
  /// submitted before it goes back to the socket (see connection::read_loop).
  std::atomic<std::uint64_t> posted_pending{0};

  /// The deadline of a request whose deadline had passed when it was made: it fails with
  /// `timeout` without being sent.
  static constexpr steady::time_point deadline_passed = steady::time_point::min();

  // ----- Entry points (any thread) --------------------------------------------------------
  void request(message req, steady::time_point deadline, asio::any_io_executor caller, request_completion handler);
  void connect(void_completion handler);
  void disconnect(void_completion handler);
  void shutdown();  // from ~daemon_node
  void post_event(node_event e);
  std::shared_ptr<subscription_state> subscribe();
  std::uint64_t add_listener(std::function<void(const node_event&)> cb);
  void remove_listener(std::uint64_t id);

  // ----- Strand-only ----------------------------------------------------------------------
  void submit(message req, steady::time_point deadline, call_ptr call);
  void cancel(const call_ptr& call);
  void complete(request_handle h, result<message> r);
  /// Completes `h` with an error of the node's own (no answer came): `e.sent` says whether the
  /// request was ever written.
  void abandon(request_handle h, error_info e);
  /// Completes `call` (done already set): at once, or from the strand's queue when submit()
  /// runs inside the request's initiating function (a handler is never called from there).
  void finish(call_ptr call, result<message> r);
  void emit(node_event e);
  void set_state(connection_state s);
  void arm_deadline_timer();
  void on_deadline();
  void fail_all(const error_info& e);
  void start_supervisor();
  asio::awaitable<void> supervise();
  asio::awaitable<result<std::shared_ptr<connection>>> connect_once();
  void complete_connect_waiters(const result<void>& r);
  void on_frame(connection& c, std::string_view text);

  request_table<call_ptr> table;
  backoff_policy backoff;
  bool running = false;    // the supervisor is running
  bool stopping = false;   // disconnect()/shutdown() asked it to stop
  bool shut_down = false;  // the daemon_node is gone
  std::shared_ptr<connection> conn;     // the established connection
  std::shared_ptr<connection> attempt;  // the connection being established
  std::vector<void_completion> connect_waiters;
  std::vector<void_completion> disconnect_waiters;
  asio::steady_timer deadline_timer;
  std::optional<steady::time_point> deadline_armed;
  std::uint64_t deadline_generation = 0;
  asio::steady_timer backoff_timer;
  small_rng rng;
  std::vector<std::weak_ptr<subscription_state>> subscriptions;
  std::vector<std::pair<std::uint64_t, std::function<void(const node_event&)>>> listeners;
  std::uint64_t next_listener_id = 1;
  int inline_submits = 0;  // submit() runs inside a request's initiating function
  int walking = 0;         // a loop over the table completes requests (fail_all, on_deadline)

 private:
  mutable std::mutex info_mutex_;
  std::optional<node_capabilities> caps_;
  node_health health_;
};

/// One established (or being established) WebSocket connection. Strand-only.
///
/// Writing: frames are serialized straight into the corked_stream under the WebSocket stream
/// (no Beast write operation, no writer coroutine): whatever is ready when the writer is woken
/// leaves in one socket write. Reading: Beast (control frames, limits, UTF-8). Under the
/// corked_stream: plain TCP (ws://) or TLS over it (wss://).
class connection : public std::enable_shared_from_this<connection> {
 public:
  using ws_stream = beast::websocket::stream<corked_stream<maybe_tls_stream<asio::ip::tcp::socket>>>;

  connection(node_impl& node, asio::any_io_executor strand);

  /// Resolve, TCP connect, TLS handshake (wss://), upgrade; bounded by the node's connect
  /// timeout.
  asio::awaitable<result<void>> open();
  /// Runs the reader, the writer and the heartbeat until one of them ends; returns why.
  asio::awaitable<error_info> run();
  /// Ends the connection: the first reason given wins; closes the socket so every pending
  /// operation ends.
  void close(error_info reason);
  /// Writes what is queued (new requests, control frames) now, in one socket write.
  void wake_writer();
  /// Queues a control frame (heartbeat, heartbeat_ack): written before requests.
  void send_control(std::string frame);

 private:
  /// wss://: puts TLS over the connected socket (SNI, peer verification); not a coroutine.
  boost::system::error_code start_tls();
  asio::awaitable<void> read_loop(std::shared_ptr<connection> self);
  void heartbeat_tick();
  void start_writer();
  void append_frame(std::string_view text);

  node_impl& node_;  // outlived: the supervisor holds the node while a connection exists
  ws_stream ws_;
  asio::steady_timer heartbeat_timer_;
  ring_queue<std::string> control_;
  beast::flat_buffer read_buf_;
  bool writing_ = false;      // run() started: frames may be written
  bool write_waiting_ = false;  // above the write limit: waiting for the socket to drain
  bool opening_ = false;         // open() runs: the heartbeat timer is its watchdog
  bool open_timed_out_ = false;  // the watchdog fired: the socket was closed under open()
  asio::ip::tcp::resolver* resolver_ = nullptr;  // open()'s, while it resolves
  std::optional<error_info> reason_;
  liveness_monitor<steady> liveness_;
  std::unique_ptr<message_deflater> deflater_;  // permessage-deflate agreed (and usable)
};

}  // namespace neolith::detail

#endif  // NEOLITH_SRC_NODE_IMPL_HPP
