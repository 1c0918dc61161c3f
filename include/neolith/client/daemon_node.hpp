// neolith::daemon_node: an orchestrator's handle on one remote daemon.
//
// Every operation is an `asio::awaitable<result<T>>`; it never throws (but std::bad_alloc) and
// reports failures as `error_info` (an error_code of neolith's category plus text).
//
// Threads and executors. The node keeps its state on a strand of the executor it is given;
// every member function may be called from any thread and any executor, and a caller's
// coroutine resumes on the caller's own executor. Getters (`state()`, `cached_health()`...) are
// synchronous and thread-safe.
//
// The connection. `connect()` starts a supervising coroutine that owns the connection: it
// connects (with `connect_timeout`), runs a reader coroutine, a writer and a heartbeat timer on
// the connection, and when the connection is lost (an I/O error, a frame above the size limit,
// or nothing received for `heartbeat_timeout`) reconnects with exponential backoff
// (`backoff_base` doubling up to `backoff_max`, optional jitter) up to `max_attempts`
// attempts, after which the node is `failed`. `disconnect()` stops it and returns once no
// timer or coroutine of the connection is left.
//
// The life of a request (states of detail/request_table.hpp):
//   queued   The request waits to be written: the node is connecting or reconnecting (at most
//            `queue_max` such requests; one more fails with `queue_full`), or the writer is
//            busy. Requests go out in the order they were made.
//   written  The frame went to the writer; the answer is routed back by its requestId.
//   answered The answer came: the caller gets its value, or the daemon's error.
//   abandoned The caller's deadline passed (`timeout`), the caller cancelled (`cancelled`),
//            or the node failed, was disconnected or destroyed (`not_connected`,
//            `shutting_down`): the caller is completed at once, the entry is freed, and an
//            answer arriving later is counted (`statistics().unmatched_replies`) and dropped.
// What a lost connection does: `queued` requests stay queued; `written` ones become `queued`
// again, ahead of the others, and are re-sent with the same requestId once reconnected (the
// daemon's idempotency window answers a request it already executed with its recorded answer,
// so nothing runs twice), until their deadline. When the node becomes `failed`, every request
// still waiting fails with `not_connected`. Requests made while `disconnected` or `failed`
// fail at once with `not_connected`.
//
// Whether a failed request may have run: a request that fails without an answer (timeout,
// cancelled, not_connected, shutting_down...) says in `error_info::sent` whether it was ever
// written (`may_have_executed`) or not (`never_sent`).
//
// Cancellation. Each operation honours Asio's per-operation cancellation (terminal, partial
// and total): `co_await (node.get_session(id) || timer.async_wait(use_awaitable))`, parallel
// groups and a bound cancellation_signal all work. A cancelled request completes with
// `error::cancelled` at once and frees its slot; if it had been written, its answer is
// dropped when it comes (a cancelled spawn may still have spawned on the daemon).
#ifndef NEOLITH_CLIENT_DAEMON_NODE_HPP
#define NEOLITH_CLIENT_DAEMON_NODE_HPP

#include <neolith/client/deadline.hpp>
#include <neolith/client/detail/typed_answer.hpp>
#include <neolith/client/node_endpoint.hpp>
#include <neolith/client/node_events.hpp>
#include <neolith/client/node_options.hpp>
#include <neolith/client/node_statistics.hpp>
#include <neolith/core/detail/adapted_handler.hpp>
#include <neolith/core/error.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace neolith {

namespace detail {
class node_impl;
struct subscription_state;
}  // namespace detail

/// A stream of a node's events. Each subscription has its own bounded queue
/// (`node_options::event_queue_capacity`): when its consumer lags, the oldest events are
/// dropped and counted, never blocking the node. Move-only; destroying it unsubscribes.
class event_subscription {
 public:
  event_subscription() = default;
  ~event_subscription();
  event_subscription(event_subscription&&) noexcept;
  event_subscription& operator=(event_subscription&&) noexcept;

  /// The next event; waits for one. Fails with `error::shutting_down` once the node is
  /// destroyed and the queue is empty, `error::cancelled` when cancelled.
  boost::asio::awaitable<result<node_event>> receive();

  /// The next event if one is queued.
  std::optional<node_event> try_receive();

  /// Events dropped from this subscription because it lagged.
  std::uint64_t dropped() const noexcept;

  /// Stops receiving; a waiting `receive()` fails with `error::shutting_down`.
  void close();

  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  friend class daemon_node;
  explicit event_subscription(std::shared_ptr<detail::subscription_state> s) noexcept : state_(std::move(s)) {}
  std::shared_ptr<detail::subscription_state> state_;
};

namespace detail {

/// Hands a request and its completion handler (of `void(result<message>)`) to `impl`; the
/// deadline without a value takes `options().request_timeout`. The caller's executor is kept
/// concrete when it is an any_io_executor (coroutines): completing through it costs no
/// allocation, unlike through the type-erased handler's any_completion_executor.
void initiate_request(node_impl& impl, message req, call_deadline d, boost::asio::any_io_executor caller,
                      boost::asio::any_completion_handler<void(result<message>)> handler);

template <class Handler>
void start_request(node_impl& impl, message req, call_deadline d, Handler handler) {
  boost::asio::any_io_executor caller;
  if constexpr (std::is_same_v<boost::asio::associated_executor_t<Handler>, boost::asio::any_io_executor>)
    caller = boost::asio::get_associated_executor(handler);
  initiate_request(impl, std::move(req), d, std::move(caller),
                   boost::asio::any_completion_handler<void(result<message>)>(std::move(handler)));
}

/// A request whose handler takes the answer of type `Answer` (`void(result<Answer>)`).
template <class Answer, class Handler>
void start_call(node_impl& impl, message req, call_deadline d, Handler handler) {
  start_request(impl, std::move(req), d, adapt_handler(std::move(handler), [](auto h, result<message> r) {
                  std::move(h)(answer_as<Answer>(std::move(r)));
                }));
}

/// Runs an operation of the node to its end, as a coroutine co_spawn can complete with (its
/// value type has a default constructor).
template <class T>
boost::asio::awaitable<std::optional<result<T>>> keep_result(boost::asio::awaitable<result<T>> op) {
  co_return co_await std::move(op);
}

/// The initiating function of the `async_*` forms: runs `op` and completes with
/// `void(error_code, T)` (a default-constructed T on failure); the failure's `error_info`
/// goes to `*diag` when given (cleared on success).
template <class T, class CompletionToken>
auto async_run(boost::asio::any_io_executor node_ex, boost::asio::awaitable<result<T>> op, error_info* diag,
               CompletionToken&& token) {
  static_assert(std::is_default_constructible_v<T>);
  return boost::asio::async_initiate<CompletionToken, void(error_code, T)>(
      [node_ex](auto handler, boost::asio::awaitable<result<T>> a, error_info* d) {
        const boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler, node_ex);
        boost::asio::co_spawn(
            ex, keep_result<T>(std::move(a)),
            adapt_handler(std::move(handler), [d](auto h, std::exception_ptr e, std::optional<result<T>> r) {
              if (e) std::rethrow_exception(e);  // std::bad_alloc only: operations never throw
              if (r && r->has_value()) {
                if (d) *d = error_info();
                return std::move(h)(error_code(), std::move(*r).value());
              }
              error_info why = r ? std::move(*r).error() : error_info(error::internal, "the operation did not complete");
              const error_code ec = why.code;
              if (d) *d = std::move(why);
              std::move(h)(ec, T());
            }));
      },
      token, std::move(op), diag);
}

}  // namespace detail

class daemon_node {
 public:
  using executor_type = boost::asio::any_io_executor;
  /// A per-call deadline: a duration counted from the call (`2s`), an absolute
  /// `std::chrono::steady_clock::time_point` (one budget for several calls), or none (`{}`):
  /// the option's default (`request_timeout`, 30 s; `health_timeout`, 5 s, for get_health).
  using deadline = call_deadline;

  /// A node for the daemon at `endpoint`. With `capabilities` unset, they are learned from the
  /// daemon's `node_info` (fetched by the first `spawn_session` or `get_node_info`).
  /// `options` that `validate()` refuses make `connect()` fail at once with
  /// `error::invalid_options` (and every request with `not_connected`).
  daemon_node(executor_type ex, std::string node_id, node_endpoint endpoint,
              std::optional<node_capabilities> capabilities = std::nullopt, node_options options = {});

  /// Stops the node: outstanding operations complete with `error::shutting_down`, the
  /// connection closes in the background.
  ~daemon_node();

  daemon_node(const daemon_node&) = delete;
  daemon_node& operator=(const daemon_node&) = delete;

  // ----- Getters (thread-safe, synchronous) --------------------------------------------
  const std::string& id() const noexcept;
  const node_endpoint& endpoint() const noexcept;
  const node_options& options() const noexcept;
  /// A copy of the node's capabilities (default-constructed while unknown).
  node_capabilities capabilities() const;
  bool capabilities_known() const noexcept;
  connection_state state() const noexcept;
  /// The latest health known: from the last `get_health` answer or daemon heartbeat;
  /// status `offline` while not connected.
  node_health cached_health() const;
  /// Connected, and the cached health is healthy or degraded.
  bool is_healthy() const noexcept;
  node_statistics statistics() const noexcept;
  executor_type get_executor() const noexcept;

  // ----- Connection --------------------------------------------------------------------
  /// Starts the connection (if it is not running) and waits for the outcome of the next
  /// connection attempt: success, or that attempt's error (the supervisor then goes on
  /// reconnecting in the background, as the seed does). Connected already: succeeds at once.
  /// A wss:// node whose TLS files cannot be used (`node_options::tls`) fails at once with
  /// `error::tls_config`, one whose options are invalid with `error::invalid_options`; neither
  /// starts anything: retrying would not help.
  boost::asio::awaitable<result<void>> connect();

  /// Stops the supervisor and closes the connection; requests still waiting fail with
  /// `not_connected`. Returns when nothing of the connection is left running.
  boost::asio::awaitable<result<void>> disconnect();

  // ----- Operations --------------------------------------------------------------------
  // Each keeps the node's state alive while it waits: destroying the daemon_node completes it
  // with `shutting_down`, safely.

  /// Spawns a session. Refused locally, without touching the network, when the capabilities
  /// say the node cannot spawn (`spawn_not_supported`) or does not run `request.type`
  /// (`unsupported_session_type`). The deadline covers the node_info request made first when
  /// the capabilities are unknown.
  boost::asio::awaitable<result<session>> spawn_session(session_spawn_request request, deadline d = {});
  /// The session, or nullopt when the daemon does not know the id.
  boost::asio::awaitable<result<std::optional<session>>> get_session(std::string session_id, deadline d = {});
  /// True when a live session was ended, false when unknown or already ended.
  boost::asio::awaitable<result<bool>> terminate_session(std::string session_id, deadline d = {});
  /// True when the session was recreated, false when a live session with its id exists.
  boost::asio::awaitable<result<bool>> restore_session(serialized_session serialized, deadline d = {});
  /// The daemon's live and recently ended sessions.
  boost::asio::awaitable<result<std::vector<session>>> get_sessions(deadline d = {});
  /// The daemon's id, version and capabilities (also adopted as this node's capabilities
  /// when they were not given at construction).
  boost::asio::awaitable<result<msg::node_info>> get_node_info(deadline d = {});
  /// The node's health, as the seed has it: status `offline` (and no request) when not
  /// connected, `unhealthy` when the request fails or times out; only cancellation is an
  /// error.
  boost::asio::awaitable<result<node_health>> get_health(deadline d = {});

  // ----- The same operations for any completion token ------------------------------------
  // Completion signature `void(error_code, T)`, as Asio's own operations: they compose with
  // `co_spawn`, `deferred`, parallel groups (`wait_for_one_success`), `as_tuple`,
  // `use_awaitable` (which throws `system_error` on failure), callbacks. On failure T is
  // default-constructed; the `error_info` (message, `sent`) goes to `diag` when given, which
  // must live until the completion (as Boost.MySQL's diagnostics). The operation runs on the
  // handler's associated executor (the node's when it has none).
  template <class CompletionToken>
  auto async_spawn_session(session_spawn_request request, deadline d, CompletionToken&& token) {
    return run_async(spawn_session(std::move(request), d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_spawn_session(session_spawn_request request, deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(spawn_session(std::move(request), d), &diag, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_session(std::string session_id, deadline d, CompletionToken&& token) {
    return run_async(get_session(std::move(session_id), d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_session(std::string session_id, deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(get_session(std::move(session_id), d), &diag, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_terminate_session(std::string session_id, deadline d, CompletionToken&& token) {
    return run_async(terminate_session(std::move(session_id), d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_terminate_session(std::string session_id, deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(terminate_session(std::move(session_id), d), &diag, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_restore_session(serialized_session serialized, deadline d, CompletionToken&& token) {
    return run_async(restore_session(std::move(serialized), d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_restore_session(serialized_session serialized, deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(restore_session(std::move(serialized), d), &diag, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_sessions(deadline d, CompletionToken&& token) {
    return run_async(get_sessions(d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_sessions(deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(get_sessions(d), &diag, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_node_info(deadline d, CompletionToken&& token) {
    return run_async(get_node_info(d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_node_info(deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(get_node_info(d), &diag, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_health(deadline d, CompletionToken&& token) {
    return run_async(get_health(d), nullptr, std::forward<CompletionToken>(token));
  }
  template <class CompletionToken>
  auto async_get_health(deadline d, error_info& diag, CompletionToken&& token) {
    return run_async(get_health(d), &diag, std::forward<CompletionToken>(token));
  }

  // ----- Any request -------------------------------------------------------------------
  /// Sends any request message (its requestId is set by the node) and completes with the
  /// answer: its response message, or the daemon's `error` as an error_info. Signature
  /// `void(result<message>)`; works with any completion token. `{}` as the deadline takes
  /// `options().request_timeout`.
  template <class CompletionToken>
  auto async_request(message request, deadline d, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(result<message>)>(
        [impl = impl_](auto handler, message req, deadline dl) {
          detail::start_request(*impl, std::move(req), dl, std::move(handler));
        },
        token, std::move(request), d);
  }

  /// Sends a request of type `Request` (a `msg::` request; its requestId is set by the node)
  /// and completes with its answer of type `Answer`: signature `void(result<Answer>)`; another
  /// answer type fails with `error::unexpected_response`, the daemon's `error` arrives as an
  /// error_info. Works with any completion token. The typed operations use the same path:
  /// their coroutine frames hold the one answer type, not the whole `message` variant (the
  /// request's frames stay small enough for Asio's per-thread recycling of frames).
  template <class Answer, class Request, class CompletionToken>
  auto async_call(Request request, deadline d, CompletionToken&& token) {
    static_assert(detail::is_message_alternative_v<Answer> && detail::is_message_alternative_v<Request>,
                  "async_call takes a request and an answer of the protocol (neolith::msg::...)");
    return boost::asio::async_initiate<CompletionToken, void(result<Answer>)>(
        [impl = impl_](auto handler, Request req, deadline dl) {
          detail::start_call<Answer>(*impl, message(std::move(req)), dl, std::move(handler));
        },
        token, std::move(request), d);
  }

  // ----- Events ------------------------------------------------------------------------
  /// A new subscription to the node's events (from now on).
  event_subscription subscribe();

  /// Registers a plain callback for every event; it runs on the node's strand and must not
  /// block. Returns an id for `remove_listener`.
  std::uint64_t add_listener(std::function<void(const node_event&)> callback);
  void remove_listener(std::uint64_t id);

 private:
  template <class T, class CompletionToken>
  auto run_async(boost::asio::awaitable<result<T>> op, error_info* diag, CompletionToken&& token) {
    return detail::async_run<T>(get_executor(), std::move(op), diag, std::forward<CompletionToken>(token));
  }

  std::shared_ptr<detail::node_impl> impl_;
};

}  // namespace neolith

#endif  // NEOLITH_CLIENT_DAEMON_NODE_HPP
