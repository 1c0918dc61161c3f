// The daemon node: a WebSocket server that implements protocol-v1.md and hosts sessions.
//
//   boost::asio::io_context ioc;
//   neolith::daemon_server daemon(ioc, opts);
//   auto ep = daemon.start();            // bound and accepting (ep.value().port())
//   ... run ioc on as many threads as you like ...
//   daemon.stop();                       // graceful: close 1001, end sessions
//   co_await daemon.async_wait_stopped(); // or on_stopped(callback)
//
// Every public member is thread-safe.
#ifndef NEOLITH_DAEMON_DAEMON_SERVER_HPP
#define NEOLITH_DAEMON_DAEMON_SERVER_HPP

#include <neolith/core/error.hpp>
#include <neolith/daemon/daemon_options.hpp>
#include <neolith/daemon/daemon_stats.hpp>
#include <neolith/protocol/messages.hpp>
#include <neolith/protocol/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace neolith {

/// The daemon node.
class daemon_server {
 public:
  /// The server runs on `ioc` (on whatever threads run it). Nothing happens before `start()`.
  daemon_server(boost::asio::io_context& ioc, daemon_options opts);
  daemon_server(boost::asio::any_io_executor ex, daemon_options opts);
  /// Aborts whatever is still running (as `abort()`).
  ~daemon_server();

  daemon_server(const daemon_server&) = delete;
  daemon_server& operator=(const daemon_server&) = delete;

  /// Validates the options, binds (SO_REUSEADDR), listens and begins accepting; starts the
  /// heartbeat, health sampling and the session runner. Returns the bound endpoint.
  /// Fails with invalid_argument (bad options), tls_config (a TLS file that cannot be used,
  /// named in the message) or the system error of bind/listen.
  /// Call once.
  result<boost::asio::ip::tcp::endpoint> start();

  /// The bound endpoint (default-constructed before `start()`).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// The node id in use (options' node_id, or "<hostname>:<port>" once started).
  std::string node_id() const;

  /// Graceful stop, idempotent: stops accepting, closes every connection with code 1001
  /// ("going away"; connections that do not answer the close are cut after close_timeout),
  /// terminates every session (processes get SIGTERM, then SIGKILL after the grace period)
  /// and completes asynchronously.
  void stop();

  /// Like a crash: closes every socket at once, without close frames, and kills every
  /// session process at once. Idempotent; also after `stop()`.
  void abort();

  /// True once every coroutine, connection and child process of the server has ended after
  /// `stop()` or `abort()`.
  bool stopped() const;

  /// Calls `f` (on the server's executor) once the server has fully stopped; at once if it
  /// already has. Callbacks registered before the stop run one after the other, in the order
  /// they were registered.
  void on_stopped(std::function<void()> f);

  /// Waits until the server has fully stopped (resumes on the awaiting coroutine's executor).
  boost::asio::awaitable<void> async_wait_stopped();

  // ----- Observability -------------------------------------------------------------------

  /// The health the node reports now (as in get_health).
  node_health health() const;
  /// The capabilities the node announces (as in get_node_info).
  node_capabilities capabilities() const;
  /// Every listed session (live and recently ended), as get_sessions answers.
  std::vector<session> sessions() const;
  /// Live (not ended) sessions.
  std::size_t live_sessions() const;
  /// Counters.
  daemon_stats stats() const;

  const daemon_options& options() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace neolith

#endif  // NEOLITH_DAEMON_DAEMON_SERVER_HPP
